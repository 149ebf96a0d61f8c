"""Counters kept by the process that records spend, exported on /metrics.

prometheus_client keeps them per process; with PROMETHEUS_MULTIPROC_DIR set
(gunicorn.conf.py sets it for the web processes) every process writes its
values to files there and /metrics adds them up. Figures that the worker
produces (ticks, holds, alert deliveries) are read from the database when
/metrics is scraped instead (adserver/metrics.py), so they need no shared
folder between machines.
"""

from prometheus_client import Counter

SPEND_EVENTS = Counter(
    "adserver_spend_events_recorded",
    "Spend events stored (replays of a stored event_id not counted).",
)
SPEND_AMOUNT = Counter(
    "adserver_spend_amount_recorded",
    "Sum of the positive amounts of stored spend events, in each brand's currency "
    "(a batch holding replays of stored events adds its event count only).",
)
REQUESTS_REFUSED = Counter(
    "adserver_requests_refused",
    "Requests answered with an error status, by reason.",
    ["reason"],
)
