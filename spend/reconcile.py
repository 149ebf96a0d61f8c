"""The reconcile: every campaign's holds recomputed from the facts and the clock.

One service behind every periodic task and behind the edits that change a
serving fact. It is level-triggered: it computes what should be true now and
writes only the differences (each with a status-history row), so a tick that
beat missed is repaired by the next one, and a tick run twice, or two at
once, changes nothing the second time.

A tick is one transaction. Its two halves compute their differences without
locks; when there are any, the brands concerned are locked once, in id order
(`budgets.locks`), and both halves compute again under the lock before
writing. Locking once for both halves keeps the lock order of two concurrent
ticks the same, so they queue instead of deadlocking; the second finds
nothing left to do.
"""

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from budgets.locks import brands_lock
from campaigns.schedule import schedule_hold_differences, schedule_holds_reconcile
from campaigns.services import StateChange
from spend.enforcement import _differences as budget_hold_differences
from spend.enforcement import budget_holds_reconcile


@dataclass(frozen=True)
class ReconcileResult:
    """What one reconcile changed, by the fact that moved."""

    schedule: list[StateChange] = field(default_factory=list)
    budget: list[StateChange] = field(default_factory=list)

    def summary(self) -> dict[str, int]:
        """Counts for task results and logs (JSON-serialisable)."""
        return {"schedule_changes": len(self.schedule), "budget_changes": len(self.budget)}


def _brands_with_differences(
    *, brand_ids: Collection[int] | None, now: dt.datetime, schedule: bool, budget: bool
) -> set[int]:
    involved: set[int] = set()
    if schedule:
        involved |= {
            brand for _, brand, _ in schedule_hold_differences(brand_ids=brand_ids, now=now)
        }
    if budget:
        involved |= {brand for _, brand, _ in budget_hold_differences(brand_ids=brand_ids, now=now)}
    return involved


def reconcile(
    *,
    brand_ids: Collection[int] | None = None,
    now: dt.datetime | None = None,
    schedule: bool = True,
    budget: bool = True,
    brand_locked: bool = False,
) -> ReconcileResult:
    """Bring the schedule and budget holds of the brands in scope up to date.

    `brand_ids=None` means every brand; `schedule` / `budget` choose the
    halves (both by default). When nothing needs to change it runs four
    queries (two per half) and writes nothing. `brand_locked=True` says the
    caller already holds the brands' locks (`budgets.locks.brands_lock`).
    """
    now = now or timezone.now()
    with transaction.atomic():
        if not brand_locked:
            involved = _brands_with_differences(
                brand_ids=brand_ids, now=now, schedule=schedule, budget=budget
            )
            if not involved:
                return ReconcileResult()
            brand_ids = brands_lock(brand_ids=involved)
        return ReconcileResult(
            schedule=(
                schedule_holds_reconcile(brand_ids=brand_ids, now=now, brand_locked=True)
                if schedule
                else []
            ),
            budget=(
                budget_holds_reconcile(brand_ids=brand_ids, now=now, brand_locked=True)
                if budget
                else []
            ),
        )


def reconcile_brands_now(*, brand_ids: Collection[int]) -> ReconcileResult:
    """Reconcile brands whose serving facts were just edited, in the caller's transaction.

    Locks the brands first, so that a concurrent tick either finished before
    (and this sees its writes) or waits and then sees the edit.
    """
    with transaction.atomic():
        locked = brands_lock(brand_ids=brand_ids)
        if not locked:
            return ReconcileResult()
        return reconcile(brand_ids=locked, brand_locked=True)
