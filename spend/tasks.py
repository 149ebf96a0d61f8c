"""Celery entry points into the reconcile. Thin: no rule lives here.

The periodic ones are declared once in settings.CELERY_BEAT_SCHEDULE (beat
upserts them into django-celery-beat). They take no arguments and read the
clock when they run, not when they were sent: a tick delayed in the queue
still computes the present.
"""

import logging

from celery import shared_task

from spend.reconcile import reconcile

logger = logging.getLogger(__name__)


def _run(name: str, *, schedule: bool, budget: bool) -> dict[str, int]:
    summary = reconcile(schedule=schedule, budget=budget).summary()
    if any(summary.values()):
        logger.info("%s changed %s", name, summary)
    return summary


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
