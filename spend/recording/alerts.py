"""Alerts raised by the recorder: handed to the worker once the transaction commits.

The recorder inserts each alert with `INSERT ... ON CONFLICT DO NOTHING`
inside its transaction (spend.recording.ledger), so an alert exists once per
cap, period and threshold however many processes cross it together. Nothing
is sent inside the request: once the transaction commits, a robust on-commit
callback sends `spend.tasks.alerts_deliver` to the broker (giving up at once
if the broker is unreachable), and the worker delivers (spend.alerts). A beat
sweep delivers whatever is still undelivered.

Simulated spend (simulate_spend) raises its alerts like any other, so the
history and the dashboard show them, but under `alerts_withheld()` they are
marked `simulated` in the transaction that raised them and are never sent:
neither on commit nor by the sweep.
"""

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar

from django.db import transaction

from budgets.models import Alert

logger = logging.getLogger(__name__)

_withheld: ContextVar[bool] = ContextVar("alerts_withheld", default=False)


@contextmanager
def alerts_withheld() -> Iterator[None]:
    """Alerts raised inside are kept as simulated and never delivered."""
    token = _withheld.set(True)
    try:
        yield
    finally:
        _withheld.reset(token)


def alerts_announce_on_commit(alert_ids: Sequence[int]) -> None:
    """Once the transaction commits, hand the new alerts to the worker."""
    if not alert_ids:
        return
    if _withheld.get():
        # * mark them, in the transaction that raised them: no sweep can see them unmarked
        Alert.objects.filter(id__in=alert_ids).update(simulated=True)
        return
    ids = sorted(alert_ids)
    transaction.on_commit(lambda: alerts_send_to_worker(ids), robust=True)


def alerts_send_to_worker(alert_ids: Sequence[int]) -> None:
    """Queue the delivery; an unreachable broker is logged, and the sweep delivers later."""
    from spend.tasks import alerts_deliver

    try:
        alerts_deliver.apply_async((list(alert_ids),), retry=False)
    except Exception:
        logger.warning(
            "Alerts %s not queued (the broker is unreachable): the sweep delivers them",
            list(alert_ids),
            exc_info=True,
        )
