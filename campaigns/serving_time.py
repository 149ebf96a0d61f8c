"""A brand's serving time today: the union of its campaigns' windows, in real seconds.

Standard delivery (spend.delivery) spreads the daily budget over the part of
the brand-local day in which the brand can serve: the union of the windows
its campaigns have today (dayparts within their flight dates; the whole day
if one such campaign has no daypart). Campaigns paused by a person, or
archived, do not count: they will not serve.

The union is computed in SQL for every brand at once (`serving_windows_sql`),
on wall-clock seconds of the local day, and turned into real seconds with
each zone's `ServingDay`, computed here exactly with zoneinfo and handed to
the statement as constants, like the schedule reconcile's clocks:

- on a spring-forward day the skipped hour is not serving time (a window
  02:00-04:00 in Paris lasts one hour);
- on a fall-back day the repeated hour counts once, as the schedule rule has
  it (`campaigns.schedule.daypart_wall_clock`): a window open when the first
  pass ends stays open through the second, one that closes inside the
  repeated hour closes in the first pass.

A boundary's wall-clock second `w` maps to real seconds since the day began
by `w` before `gap_start`, `gap_start` inside a gap, and `w + shift` from
`gap_end` on (see `ServingDay.real_seconds`, and `REAL_SECONDS` for the SQL).
"""

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db import connection

from budgets.periods import day_start_utc, local_date, zone
from campaigns.next_serving import local_instant
from campaigns.schedule import daypart_wall_clock

DAY_SECONDS = 24 * 3600


@dataclass(frozen=True)
class ServingDay:
    """The brand-local day of `now` in one zone, as the serving-time rules need it."""

    tz: str
    today: dt.date
    elapsed: int  # real seconds from the day's first instant to now
    gap_start: int = DAY_SECONDS  # wall-clock seconds where the clock changes
    gap_end: int = DAY_SECONDS
    shift: int = 0  # real minus wall-clock seconds after the change

    @property
    def day_bit(self) -> int:
        return 1 << self.today.weekday()

    @property
    def previous_day_bit(self) -> int:
        return 1 << ((self.today.weekday() - 1) % 7)

    @property
    def length(self) -> int:
        """The day's real length in seconds: 82,800, 86,400 or 90,000 around DST."""
        return self.real_seconds(DAY_SECONDS)

    def real_seconds(self, wall: int) -> int:
        """Real seconds from the day's first instant to the wall-clock second `wall`."""
        if wall < self.gap_start:
            return wall
        if wall < self.gap_end:
            return self.gap_start
        return wall + self.shift


def _offset(instant: dt.datetime, tz_name: str) -> dt.timedelta:
    offset = instant.astimezone(zone(tz_name)).utcoffset()
    if offset is None:
        raise ValueError("a zone without an offset")
    return offset


def _change_instant(start: dt.datetime, end: dt.datetime, tz_name: str) -> dt.datetime:
    """The first second in [start, end) with `end`'s offset (transitions are at whole seconds)."""
    low, high = int(start.timestamp()), int(end.timestamp())
    after = _offset(end, tz_name)
    while high - low > 1:
        middle = (low + high) // 2
        if _offset(dt.datetime.fromtimestamp(middle, dt.UTC), tz_name) == after:
            high = middle
        else:
            low = middle
    return dt.datetime.fromtimestamp(high, dt.UTC)


def serving_day(now: dt.datetime, tz_name: str) -> ServingDay:
    """The day of `now` in `tz_name`, with its clock change if it has one."""
    today = daypart_wall_clock(now, tz_name).date()
    midnight = dt.datetime.combine(today, dt.time.min)
    # The first instants on the wall clock at or after each midnight.
    start = local_instant(midnight, tz_name)
    end = local_instant(midnight + dt.timedelta(days=1), tz_name)
    elapsed = max(0, min(int((now - start).total_seconds()), int((end - start).total_seconds())))
    late = start.astimezone(zone(tz_name)).replace(tzinfo=None) - midnight
    if late:  # midnight fell in a gap: the day begins when the clock resumes
        skipped = int(late.total_seconds())
        return ServingDay(tz_name, today, elapsed, 0, skipped, -skipped)
    last = end - dt.timedelta(seconds=1)
    before, after = _offset(start, tz_name), _offset(last, tz_name)
    if before == after:
        return ServingDay(tz_name, today, elapsed)
    change = _change_instant(start, last, tz_name)
    wall = int((change.replace(tzinfo=None) + before - midnight).total_seconds())
    forward = int((after - before).total_seconds())  # > 0: spring forward
    return ServingDay(tz_name, today, elapsed, wall, wall + max(forward, 0), -forward)


def _seconds_of(column: str) -> str:
    """SQL: the seconds since midnight of a TIME column (PostgreSQL or SQLite)."""
    if connection.vendor == "postgresql":
        return f"CAST(EXTRACT(EPOCH FROM {column}) AS integer)"
    return f"CAST(strftime('%%s', '1970-01-01 ' || {column}) AS integer)"


# `w` is a wall-clock second of the local day; the zone's columns come from ServingDay.
REAL_SECONDS = (
    "(CASE WHEN {w} < {day}.gap_start THEN {w} WHEN {w} < {day}.gap_end THEN {day}.gap_start "
    "ELSE {w} + {day}.shift END)"
)


# Intervals [opens, closes) in wall-clock seconds of today; the union by
# "gaps and islands": a window opens a new island when it starts after every
# earlier one (in start order) has closed.
_WINDOWS_SQL = """live AS (
    SELECT k.brand_id, k.day_bit, k.previous_day_bit, d.days, d.start_time, d.end_time,
        d.id IS NULL AS all_day
    FROM {day} k
    JOIN campaigns_campaign c ON c.{campaigns_of} = k.brand_id
    LEFT JOIN campaigns_daypart d ON d.campaign_id = c.id
    WHERE c.enabled AND (c.starts_on IS NULL OR c.starts_on <= k.today)
        AND (c.ends_on IS NULL OR c.ends_on >= k.today)
),
windows AS (
    SELECT DISTINCT brand_id, 0 AS opens, {day_seconds} AS closes FROM live WHERE all_day
    UNION
    SELECT brand_id, {start},
        CASE WHEN end_time <= start_time THEN {day_seconds} ELSE {end} END
    FROM live WHERE NOT all_day AND (days & day_bit) <> 0
    UNION
    SELECT brand_id, 0, {end}
    FROM live WHERE NOT all_day AND end_time <= start_time AND (days & previous_day_bit) <> 0
),
ordered AS (
    SELECT brand_id, opens, closes,
        MAX(closes) OVER (PARTITION BY brand_id ORDER BY opens, closes
            ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS reached
    FROM windows WHERE closes > opens
),
numbered AS (
    SELECT brand_id, opens, closes,
        SUM(CASE WHEN reached IS NULL OR opens > reached THEN 1 ELSE 0 END)
            OVER (PARTITION BY brand_id ORDER BY opens, closes ROWS UNBOUNDED PRECEDING) AS island
    FROM ordered
),
islands AS (
    SELECT brand_id, MIN(opens) AS opens, MAX(closes) AS closes
    FROM numbered GROUP BY brand_id, island
),
real_islands AS (
    SELECT i.brand_id, {real_opens} AS opens, {real_closes} AS closes, k.elapsed
    FROM islands i JOIN {day} k ON k.brand_id = i.brand_id
),
serving AS (
    SELECT brand_id, SUM(closes - opens) AS total,
        SUM(CASE WHEN elapsed <= opens THEN 0 WHEN elapsed >= closes THEN closes - opens
            ELSE elapsed - opens END) AS passed
    FROM real_islands GROUP BY brand_id
)"""


def serving_windows_sql(day: str, *, campaigns_of: str = "brand_id") -> str:
    """CTE bodies: `windows` (brand_id, opens, closes), `real_islands` (brand_id,
    opens, closes, elapsed) and `serving` (brand_id, total, passed).

    `day` names a relation with a row per brand in scope: brand_id, today,
    day_bit, previous_day_bit, elapsed, gap_start, gap_end, shift (the
    brand's ServingDay). `serving.total` is the real seconds of the union of
    the brand's windows today, `serving.passed` how many of them have gone
    by; a brand with no window today has no row. With `campaigns_of =
    "budget_id"` the relation's brand_id holds shared budget ids, and the
    union is that of each budget's campaigns.
    """
    if campaigns_of not in ("brand_id", "budget_id"):
        raise ValueError(f"campaigns are not grouped by {campaigns_of!r}")
    start, end = _seconds_of("start_time"), _seconds_of("end_time")
    real_opens = REAL_SECONDS.format(w="i.opens", day="k")
    real_closes = REAL_SECONDS.format(w="i.closes", day="k")
    return _WINDOWS_SQL.format(
        day=day,
        campaigns_of=campaigns_of,
        day_seconds=DAY_SECONDS,
        start=start,
        end=end,
        real_opens=real_opens,
        real_closes=real_closes,
    )


def zone_values(days: list[ServingDay]) -> tuple[str, list[Any]]:
    """SQL VALUES rows (tz, today, day_bit, previous_day_bit, elapsed, gap_start,
    gap_end, shift), one per zone, and their parameters."""
    params: list[Any] = []
    for day in days:
        params += [
            day.tz,
            connection.ops.adapt_datefield_value(day.today),
            day.day_bit,
            day.previous_day_bit,
            day.elapsed,
            day.gap_start,
            day.gap_end,
            day.shift,
        ]
    return ", ".join(["(%s, %s, %s, %s, %s, %s, %s, %s)"] * len(days)), params


_WINDOWS_TODAY_SQL = """
WITH zones (tz, today, day_bit, previous_day_bit, elapsed, gap_start, gap_end, shift)
    AS (VALUES {zone_rows}),
owners (brand_id, tz) AS (VALUES {owner_rows}),
scope AS (
    SELECT o.brand_id, z.today, z.day_bit, z.previous_day_bit, z.elapsed,
        z.gap_start, z.gap_end, z.shift
    FROM owners o JOIN zones z ON z.tz = o.tz
),
{windows}
SELECT brand_id, opens, closes FROM real_islands ORDER BY brand_id, opens"""

Window = tuple[dt.datetime, dt.datetime]


def serving_windows_today(
    owners: Mapping[int, str], now: dt.datetime, *, campaigns_of: str = "brand_id"
) -> dict[int, list[Window]]:
    """Each owner's serving time today as [opens, closes) instants (UTC), in order,
    the union of its campaigns' windows: one query.

    `owners`: brand id -> its time zone (or, with `campaigns_of="budget_id"`,
    shared budget id -> its brand's zone). A window running to midnight, or
    past it overnight, closes at the end of the local day. An owner with no
    window today has an empty list.
    """
    if not owners:
        return {}
    days = {tz: serving_day(now, tz) for tz in sorted(set(owners.values()))}
    zone_rows, params = zone_values(list(days.values()))
    sql = _WINDOWS_TODAY_SQL.format(
        zone_rows=zone_rows,
        owner_rows=", ".join(["(%s, %s)"] * len(owners)),
        windows=serving_windows_sql("scope", campaigns_of=campaigns_of),
    )
    params += [value for pk in sorted(owners) for value in (pk, owners[pk])]
    # * the islands of each owner's windows today, real seconds into its day
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    starts = {tz: day_start_utc(day.today, tz) for tz, day in days.items()}
    found: dict[int, list[Window]] = {pk: [] for pk in owners}
    for pk, opens, closes in rows:
        start = starts[owners[pk]]
        found[pk].append((start + _seconds(opens), start + _seconds(closes)))
    return found


def _seconds(value: object) -> dt.timedelta:
    return dt.timedelta(seconds=int(str(value)))


def serving_ends_at(
    owners: Mapping[int, str], now: dt.datetime, *, campaigns_of: str = "brand_id"
) -> dict[int, dt.datetime]:
    """When each owner's last serving window of today closes (UTC): one query.

    An owner with no window today gets the day's first instant: its serving
    time is over before it began, so nothing is reached in it.
    """
    windows = serving_windows_today(owners, now, campaigns_of=campaigns_of)
    return {
        pk: found[-1][1] if found else day_start_utc(local_date(now, owners[pk]), owners[pk])
        for pk, found in windows.items()
    }
