"""Celery entry points into the reconcile. Thin: no rule lives here.

The periodic ones are declared once in settings.CELERY_BEAT_SCHEDULE (beat
upserts them into django-celery-beat). They take no arguments and read the
clock when they run, not when they were sent: a tick delayed in the queue
still computes the present.
"""

import logging
import time

from celery import shared_task
from django.db.models import F
from django.utils import timezone

from spend.alerts import alerts_deliver_now, alerts_undelivered
from spend.models import ReconcileTick
from spend.pacing_alerts import pacing_alerts_raise
from spend.reconcile import reconcile

logger = logging.getLogger(__name__)


class AlertDeliveryError(Exception):
    """Some channel failed; the task is retried with backoff."""


def _run(name: str, *, schedule: bool, budget: bool) -> dict[str, int]:
    started = time.monotonic()
    summary = reconcile(schedule=schedule, budget=budget).summary()
    tick_record(name, duration=time.monotonic() - started, changes=sum(summary.values()))
    if any(summary.values()):
        logger.info("%s changed %s", name, summary)
    return summary


def tick_record(name: str, *, duration: float, changes: int = 0) -> None:
    """Note that a periodic reconcile finished now (liveness: /healthz, banner, /metrics)."""
    now = timezone.now()
    updated = ReconcileTick.objects.filter(name=name).update(
        finished_at=now, duration_seconds=duration, holds_changed=F("holds_changed") + changes
    )
    if not updated:
        ReconcileTick.objects.bulk_create(
            [
                ReconcileTick(
                    name=name, finished_at=now, duration_seconds=duration, holds_changed=changes
                )
            ],
            update_conflicts=True,
            unique_fields=["name"],
            update_fields=["finished_at", "duration_seconds"],
        )


@shared_task(name="spend.tasks.budget_check")
def budget_check() -> dict[str, int]:
    """Every minute: budget holds follow the caps of each brand's local day and month."""
    return _run("budget check", schedule=False, budget=True)


@shared_task(name="spend.tasks.dayparting")
def dayparting() -> dict[str, int]:
    """Every minute: schedule holds follow flight dates and dayparts."""
    return _run("dayparting", schedule=True, budget=False)


@shared_task(name="spend.tasks.daily_reset")
def daily_reset() -> dict[str, int]:
    """At each quarter hour, when some zone's local midnight falls: the whole reconcile.

    The same rule as the minute ticks, so it is a safety net rather than a
    separate mechanism: a new local day is new rollup rows, nothing to zero.
    """
    return _run("daily reset", schedule=True, budget=True)


@shared_task(name="spend.tasks.monthly_reset")
def monthly_reset() -> dict[str, int]:
    """At each quarter hour of the days a local month can start on: the whole reconcile."""
    return _run("monthly reset", schedule=True, budget=True)


@shared_task(name="spend.tasks.brand_reconcile")
def brand_reconcile(brand_id: int) -> dict[str, int]:
    """One brand, on demand (for example after an edit made outside the services)."""
    return reconcile(brand_ids=[brand_id]).summary()


@shared_task(
    name="spend.tasks.alerts_deliver",
    autoretry_for=(AlertDeliveryError,),
    retry_backoff=10,
    retry_backoff_max=600,
    retry_jitter=True,
    max_retries=12,
)
def alerts_deliver(alert_ids: list[int]) -> dict[str, int]:
    """Deliver alerts on every channel they lack; retried with backoff while any fails.

    Sent on commit by the recorder. After the last retry the sweep keeps
    trying each minute for ALERT_DELIVERY_WINDOW_HOURS.
    """
    result = alerts_deliver_now(alert_ids)
    if result.failed:
        raise AlertDeliveryError("; ".join(f"{a} {c}: {e}" for a, c, e in result.failed))
    return {"delivered": len(result.delivered)}


@shared_task(name="spend.tasks.alerts_sweep")
def alerts_sweep() -> dict[str, int]:
    """Every minute: deliver the alerts that a channel still lacks (broker down, worker lost)."""
    pending = alerts_undelivered()
    if not pending:
        return {"pending": 0, "delivered": 0, "failed": 0}
    result = alerts_deliver_now(pending)
    return {
        "pending": len(pending),
        "delivered": len(result.delivered),
        "failed": len(result.failed),
    }


@shared_task(name="spend.tasks.pacing_alerts")
def pacing_alerts() -> dict[str, int]:
    """A few times an hour: raise the under- and over-pace alerts now due (once
    per brand, month and kind), apart from the minute reconcile."""
    raised = pacing_alerts_raise()
    if raised:
        logger.info("pacing alerts raised: %s", raised)
    return {"raised": len(raised)}
