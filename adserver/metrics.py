"""GET /metrics in the Prometheus text format (prometheus-client).

Open to the addresses of METRICS_ALLOWED_ADDRESSES (loopback by default) and,
when METRICS_TOKEN is set, to `Authorization: Bearer <token>` from anywhere;
everyone else gets a 404.

Two sources:
- counters of the web processes (spend recorded, refused requests), which
  prometheus-client adds up across gunicorn's workers when
  PROMETHEUS_MULTIPROC_DIR is set (gunicorn.conf.py sets it);
- figures read from the database at scrape time, so that what the worker
  does on another machine is seen too: the reconcile ticks (last success,
  duration, holds changed), alerts raised, delivery failures and pending
  deliveries; and the Celery queue's length when the broker is Redis.
"""

import hmac
import os
from collections.abc import Iterable, Iterator

import redis
from django.conf import settings
from django.db.models import Count, Q, Sum
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_GET
from prometheus_client import REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from budgets.models import Alert
from spend.models import AlertDelivery, ReconcileTick

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class DatabaseCollector(Collector):
    """Figures the worker leaves in the database, read at each scrape (a few small queries)."""

    def collect(self) -> Iterator[Metric]:
        yield from _reconcile_metrics()
        alerts = CounterMetricFamily("adserver_alerts_raised", "Budget alerts raised.")
        alerts.add_metric([], Alert.objects.count())
        yield alerts
        yield from _delivery_metrics()
        length = _queue_length()
        if length is not None:
            queue = GaugeMetricFamily(
                "adserver_celery_queue_length", "Tasks waiting in the Celery queue."
            )
            queue.add_metric([], length)
            yield queue


def _reconcile_metrics() -> tuple[Metric, ...]:
    last = GaugeMetricFamily(
        "adserver_reconcile_last_success_timestamp_seconds",
        "When each reconcile task last finished (Unix time).",
        labels=["task"],
    )
    duration = GaugeMetricFamily(
        "adserver_reconcile_last_duration_seconds",
        "How long each reconcile task's last run took.",
        labels=["task"],
    )
    holds = CounterMetricFamily(
        "adserver_reconcile_holds_changed",
        "Campaign holds changed by each reconcile task.",
        labels=["task"],
    )
    for tick in ReconcileTick.objects.order_by("name"):
        last.add_metric([tick.name], tick.finished_at.timestamp())
        duration.add_metric([tick.name], tick.duration_seconds)
        holds.add_metric([tick.name], tick.holds_changed)
    return last, duration, holds


def _delivery_metrics() -> tuple[Metric, ...]:
    failures = CounterMetricFamily(
        "adserver_alert_delivery_failures",
        "Failed attempts to deliver an alert, by channel kind.",
        labels=["channel"],
    )
    pending = GaugeMetricFamily(
        "adserver_alert_deliveries_pending",
        "Alert deliveries not done yet, by channel kind.",
        labels=["channel"],
    )
    rows = AlertDelivery.objects.values("channel").annotate(
        attempts=Sum("attempts"),
        delivered=Count("id", filter=Q(delivered_at__isnull=False)),
        undelivered=Count("id", filter=Q(delivered_at__isnull=True)),
    )
    by_kind: dict[str, list[int]] = {}
    for row in rows:
        kind = str(row["channel"]).split(" ", 1)[0]
        figures = by_kind.setdefault(kind, [0, 0])
        figures[0] += int(row["attempts"] or 0) - int(row["delivered"])
        figures[1] += int(row["undelivered"])
    for kind, (failed, waiting) in sorted(by_kind.items()):
        failures.add_metric([kind], failed)
        pending.add_metric([kind], waiting)
    return failures, pending


def _queue_length() -> int | None:
    url: str = settings.CELERY_BROKER_URL
    if not url.startswith(("redis://", "rediss://")):
        return None
    client = redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=0.5)
    try:
        return int(client.llen("celery"))
    except redis.RedisError:
        return None
    finally:
        client.close()


def _allowed(request: HttpRequest) -> bool:
    token: str = settings.METRICS_TOKEN
    given = request.META.get("HTTP_AUTHORIZATION", "")
    if token and hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
        return True
    return request.META.get("REMOTE_ADDR") in settings.METRICS_ALLOWED_ADDRESSES


def _registries() -> Iterable[CollectorRegistry]:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        processes = CollectorRegistry()
        MultiProcessCollector(processes)  # type: ignore[no-untyped-call]
        yield processes
    else:
        yield REGISTRY
    database = CollectorRegistry()
    database.register(DatabaseCollector())
    yield database


@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    if not _allowed(request):
        raise Http404
    body = b"".join(generate_latest(registry) for registry in _registries())
    return HttpResponse(body, content_type=CONTENT_TYPE)
