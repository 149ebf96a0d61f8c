"""The schedule half of the reconcile: flight dates and dayparts, set-based.

`schedule_holds_reconcile` computes, in one SQL statement, the schedule hold
every campaign in scope should have now, and writes only the campaigns whose
stored hold differs, through `campaigns_set_holds` (history included):

- `not_started` before the first flight day, `ended` after the last one
  (brand-local dates, inclusive);
- else `outside_daypart` when the campaign has dayparts and none is open at
  the brand's local wall-clock time;
- else no hold. A campaign without dayparts runs all week.

The brand-local clock of each time zone in use is computed here in Python,
exactly (zoneinfo, DST included), and handed to the statement as a small
VALUES table, so the SQL needs no time-zone support and runs the same on
PostgreSQL and SQLite.

Daypart rules (see Daypart): `end_time <= start_time` is an overnight window
that belongs to the day it starts on, so Fri 22:00-02:00 serves Saturday
01:00 but not Saturday 23:00. A boundary that falls in a DST gap opens (or
closes) at the first valid instant after it, which comparing wall-clock times
gives by itself: at 03:00, right after the gap, 02:30 has passed. In the
repeated hour of a fall-back the first pass counts and the second changes
nothing: while the clock shows an hour for the second time, dayparts are
evaluated at the last instant of the first pass (see `daypart_wall_clock`).
"""

import datetime as dt
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from budgets.locks import brands_lock
from budgets.models import Brand
from budgets.periods import zone
from campaigns.services import StateChange, campaigns_set_holds

_ONE_MICROSECOND = dt.timedelta(microseconds=1)


@dataclass(frozen=True)
class ZoneClock:
    """What the schedule rules need to know about `now` in one time zone."""

    tz: str
    today: dt.date
    wall_time: dt.time

    @property
    def day_bit(self) -> int:
        return 1 << self.today.weekday()

    @property
    def previous_day_bit(self) -> int:
        return 1 << ((self.today.weekday() - 1) % 7)


def _offset(local: dt.datetime) -> dt.timedelta:
    offset = local.utcoffset()
    if offset is None:
        raise ValueError("an aware datetime was expected")
    return offset


def _clocks_went_back_at(instant: dt.datetime, tz_name: str) -> dt.datetime:
    """The UTC instant of the fall-back transition that `instant` follows.

    `instant` is in the second pass of a repeated period (fold=1). Transitions
    are at whole seconds, so a bisection over seconds finds it exactly.
    """
    tz = zone(tz_name)
    local = instant.astimezone(tz)
    second_offset = _offset(local)
    first_offset = _offset(local.replace(fold=0))
    # `low` is the same wall time in the first pass; `high` is now.
    low = int((instant - (first_offset - second_offset)).timestamp())
    high = int(instant.timestamp())
    while high - low > 1:
        middle = (low + high) // 2
        if dt.datetime.fromtimestamp(middle, tz).utcoffset() == second_offset:
            high = middle
        else:
            low = middle
    return dt.datetime.fromtimestamp(high, dt.UTC)


def daypart_wall_clock(instant: dt.datetime, tz_name: str) -> dt.datetime:
    """The naive local wall-clock time at which dayparts are evaluated for `instant`.

    Usually just the local time. In the second pass of a fall-back's repeated
    hour it is the last microsecond of the first pass, so that the repeated
    hour counts once: no window opens or closes a second time.
    """
    if instant.tzinfo is None:
        raise ValueError("daypart_wall_clock() needs an aware datetime")
    tz = zone(tz_name)
    local = instant.astimezone(tz)
    if not local.fold:
        return local.replace(tzinfo=None)
    went_back = _clocks_went_back_at(instant, tz_name)
    return (went_back + _offset(local.replace(fold=0))).replace(tzinfo=None) - _ONE_MICROSECOND


def zone_clock(instant: dt.datetime, tz_name: str) -> ZoneClock:
    wall = daypart_wall_clock(instant, tz_name)
    return ZoneClock(tz=tz_name, today=wall.date(), wall_time=wall.time())


def zone_clocks(*, brand_ids: Collection[int] | None, now: dt.datetime) -> list[ZoneClock]:
    """The clock of every time zone used by the brands in scope: one query."""
    brands = Brand.objects.order_by()
    if brand_ids is not None:
        brands = brands.filter(id__in=sorted(brand_ids))
    # * the distinct time zones of the brands in scope (a few hundred at most)
    zones = sorted(brands.values_list("timezone", flat=True).distinct())
    return [zone_clock(now, tz) for tz in zones]


# A daypart is open when it started today and has not ended (an overnight
# window runs to midnight on its start day), or when it is an overnight
# window that started yesterday and has not ended yet.
_DESIRED_SCHEDULE_HOLDS_SQL = """
WITH zones (tz, today, day_bit, previous_day_bit, wall_time) AS (VALUES {zone_rows}),
clock AS (
    SELECT b.id AS brand_id, z.today, z.day_bit, z.previous_day_bit, z.wall_time
    FROM budgets_brand b
    JOIN zones z ON z.tz = b.timezone
    {brand_scope}
),
desired AS (
    SELECT c.id, c.brand_id, c.schedule_hold AS current,
        CASE
            WHEN c.starts_on IS NOT NULL AND k.today < c.starts_on THEN 'not_started'
            WHEN c.ends_on IS NOT NULL AND k.today > c.ends_on THEN 'ended'
            WHEN MAX(CASE
                WHEN d.id IS NULL THEN 1
                WHEN (d.days & k.day_bit) <> 0 AND d.start_time <= k.wall_time
                    AND (d.end_time <= d.start_time OR k.wall_time < d.end_time) THEN 1
                WHEN d.end_time <= d.start_time AND (d.days & k.previous_day_bit) <> 0
                    AND k.wall_time < d.end_time THEN 1
                ELSE 0
            END) = 0 THEN 'outside_daypart'
        END AS hold
    FROM campaigns_campaign c
    JOIN clock k ON k.brand_id = c.brand_id
    LEFT JOIN campaigns_daypart d ON d.campaign_id = c.id
    GROUP BY c.id, c.brand_id, c.schedule_hold, c.starts_on, c.ends_on,
        k.today, k.day_bit, k.previous_day_bit, k.wall_time
)
SELECT id, brand_id, hold FROM desired WHERE current IS DISTINCT FROM hold
"""


def _zone_params(clocks: Iterable[ZoneClock]) -> list[Any]:
    ops = connection.ops
    params: list[Any] = []
    for clock in clocks:
        params += [
            clock.tz,
            ops.adapt_datefield_value(clock.today),
            clock.day_bit,
            clock.previous_day_bit,
            ops.adapt_timefield_value(clock.wall_time),
        ]
    return params


def schedule_hold_differences_query(
    *, brand_ids: Collection[int] | None, now: dt.datetime
) -> tuple[str, list[Any]] | None:
    """The statement selecting (campaign id, brand id, desired hold) for every
    campaign whose schedule hold is wrong, and its parameters; None when there
    is nothing in scope. One query (the zones in scope) to build it.
    """
    if brand_ids is not None and not brand_ids:
        return None
    clocks = zone_clocks(brand_ids=brand_ids, now=now)
    if not clocks:
        return None
    params = _zone_params(clocks)
    brand_scope = ""
    if brand_ids is not None:
        brand_scope = f"WHERE b.id IN ({', '.join(['%s'] * len(brand_ids))})"
        params += sorted(brand_ids)
    sql = _DESIRED_SCHEDULE_HOLDS_SQL.format(
        zone_rows=", ".join(["(%s, %s, %s, %s, %s)"] * len(clocks)), brand_scope=brand_scope
    )
    return sql, params


def schedule_hold_differences(
    *, brand_ids: Collection[int] | None, now: dt.datetime
) -> list[tuple[int, int, str | None]]:
    """(campaign id, brand id, desired hold) for every campaign whose schedule hold is wrong.

    Two queries: the zones in scope, then one statement over campaigns and dayparts.
    """
    query = schedule_hold_differences_query(brand_ids=brand_ids, now=now)
    if query is None:
        return []
    # * the campaigns whose schedule hold differs from what the clock says
    with connection.cursor() as cursor:
        cursor.execute(*query)
        return [(row[0], row[1], row[2]) for row in cursor.fetchall()]


def schedule_holds_reconcile(
    *,
    brand_ids: Collection[int] | None = None,
    now: dt.datetime | None = None,
    brand_locked: bool = False,
) -> list[StateChange]:
    """Make every campaign's schedule hold match its flight dates and dayparts.

    `brand_ids=None` means every brand. Returns the campaigns whose derived
    state changed. When nothing needs to change it runs two queries and
    writes nothing, so running it twice changes nothing the second time.

    The differences are computed without locks; when there are any, the
    brands concerned are locked (`budgets.locks`) and the differences read
    again, so that an edit committed in between is never undone by a stale
    read. `brand_locked=True` says the caller holds those locks already.
    """
    now = now or timezone.now()
    with transaction.atomic():
        differences = schedule_hold_differences(brand_ids=brand_ids, now=now)
        if not differences:
            return []
        if not brand_locked:
            involved = brands_lock(brand_ids={brand_id for _, brand_id, _ in differences})
            differences = schedule_hold_differences(brand_ids=involved, now=now)
        return campaigns_set_holds(
            column="schedule_hold",
            desired={campaign_id: hold for campaign_id, _, hold in differences},
            note="schedule reconcile",
            now=now,
        )
