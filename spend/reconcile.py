"""The reconcile: every campaign's holds recomputed from the facts and the clock.

One service behind every periodic task and behind the edits that change a
serving fact. It is level-triggered: it computes what should be true now and
writes only the differences (each with a status-history row), so a tick that
beat missed is repaired by the next one, and a tick run twice, or two at
once, changes nothing the second time.

A tick is one transaction. Its parts (campaigns.schedule for flight dates
and dayparts, spend.enforcement for caps, spend.delivery for standard
delivery's pacing) compute their differences without locks; when there are
any, the brands concerned are locked once, in id order (`budgets.locks`),
and every part that had differences computes them again under the lock
before writing, so that an edit committed in between is never undone by a
stale read. Locking once for
all parts keeps the lock order of two concurrent ticks the same, so they
queue instead of deadlocking; the second finds nothing left to do.
"""

import datetime as dt
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from budgets.locks import brands_lock
from campaigns.schedule import schedule_hold_differences_query
from campaigns.services import (
    HoldColumn,
    StateChange,
    campaigns_apply_hold_differences,
    campaigns_set_holds,
)
from spend.delivery import pacing_hold_differences_query
from spend.enforcement import budget_hold_differences_query

Differences = list[tuple[int, int, str | None]]  # campaign id, brand id, desired hold
Query = tuple[str, list[Any]]
QueryOf = Callable[..., Query | None]
HALVES: dict[HoldColumn, QueryOf] = {
    "schedule_hold": schedule_hold_differences_query,
    "budget_hold": budget_hold_differences_query,
    "pacing_hold": pacing_hold_differences_query,
}

# Past this many brands, a statement scoped by an IN list costs more (read
# and planned) than computing every brand and keeping those in scope.
WHOLE_TABLE_ABOVE = 1000


@dataclass(frozen=True)
class ReconcileResult:
    """What one reconcile changed, by the fact that moved."""

    schedule: list[StateChange] = field(default_factory=list)
    budget: list[StateChange] = field(default_factory=list)
    pacing: list[StateChange] = field(default_factory=list)

    def summary(self) -> dict[str, int]:
        """Counts for task results and logs (JSON-serialisable)."""
        return {
            "schedule_changes": len(self.schedule),
            "budget_changes": len(self.budget),
            "pacing_changes": len(self.pacing),
        }


def _query(
    query_of: QueryOf, *, brand_ids: Collection[int] | None, now: dt.datetime
) -> Query | None:
    """A half's differences statement for the brands in scope (one query to build)."""
    if brand_ids is None or len(brand_ids) <= WHOLE_TABLE_ABOVE:
        return query_of(brand_ids=brand_ids, now=now)
    query = query_of(brand_ids=None, now=now)
    if query is None:
        return None
    if connection.vendor == "postgresql":
        sql, params = query
        return (
            # Our own statement, scoped by one array parameter.
            f"SELECT * FROM ({sql}) AS every_brand WHERE brand_id = ANY(%s)",  # noqa: S608
            [*params, sorted(brand_ids)],
        )
    return query  # filtered in Python by _differences


def _differences(
    query_of: QueryOf, *, brand_ids: Collection[int] | None, now: dt.datetime
) -> Differences:
    """Two queries: the zones in scope, then the half's one statement."""
    query = _query(query_of, brand_ids=brand_ids, now=now)
    if query is None:
        return []
    with connection.cursor() as cursor:
        cursor.execute(*query)
        rows = [(row[0], row[1], row[2]) for row in cursor.fetchall()]
    if brand_ids is not None:
        scope = set(brand_ids)
        rows = [row for row in rows if row[1] in scope]
    return rows


def write_set_based(
    column: HoldColumn, *, brand_ids: Collection[int] | None, now: dt.datetime
) -> list[StateChange]:
    """PostgreSQL: one statement selects, locks, updates and records history (plus the zones)."""
    query = _query(HALVES[column], brand_ids=brand_ids, now=now)
    if query is None:
        return []
    return campaigns_apply_hold_differences(
        column=column, differences=query, note=column.replace("_hold", " reconcile"), now=now
    )


def write_through_set_holds(
    column: HoldColumn, *, brand_ids: Collection[int] | None, now: dt.datetime
) -> list[StateChange]:
    """Any database: the differences are read, then written by campaigns_set_holds."""
    differences = _differences(HALVES[column], brand_ids=brand_ids, now=now)
    return campaigns_set_holds(
        column=column,
        desired={pk: hold for pk, _, hold in differences},
        note=column.replace("_hold", " reconcile"),
        now=now,
    )


def _write(
    column: HoldColumn, *, brand_ids: Collection[int] | None, now: dt.datetime
) -> list[StateChange]:
    """Compute a half's differences again, under the brand locks, and write them."""
    writer = write_set_based if connection.vendor == "postgresql" else write_through_set_holds
    return writer(column, brand_ids=brand_ids, now=now)


def reconcile(
    *,
    brand_ids: Collection[int] | None = None,
    now: dt.datetime | None = None,
    schedule: bool = True,
    budget: bool = True,
    brand_locked: bool = False,
) -> ReconcileResult:
    """Bring the schedule, budget and pacing holds of the brands in scope up to date.

    `brand_ids=None` means every brand; `schedule` / `budget` choose the
    parts (both by default; `budget` covers the caps and standard delivery's
    pacing, both money). When nothing needs to change it runs six queries
    (two per part) and writes nothing. `brand_locked=True` says the caller
    already holds the brands' locks (`budgets.locks.brands_lock`).
    """
    now = now or timezone.now()
    columns: list[HoldColumn] = []
    if schedule:
        columns.append("schedule_hold")
    if budget:
        columns += ["budget_hold", "pacing_hold"]
    with transaction.atomic():
        if not brand_locked:
            found = {c: _differences(HALVES[c], brand_ids=brand_ids, now=now) for c in columns}
            # A part with nothing to change is not computed again under the
            # lock: what appears in between is the next tick's to write.
            columns = [column for column in columns if found[column]]
            involved = {brand for rows in found.values() for _, brand, _ in rows}
            if not involved:
                return ReconcileResult()
            brand_ids = brands_lock(brand_ids=involved)
        changes = {column: _write(column, brand_ids=brand_ids, now=now) for column in columns}
        return ReconcileResult(
            schedule=changes.get("schedule_hold", []),
            budget=changes.get("budget_hold", []),
            pacing=changes.get("pacing_hold", []),
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
