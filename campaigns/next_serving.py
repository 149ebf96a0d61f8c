"""When a paused campaign will serve again if nothing changes.

The answer follows the rules that pause and resume it, read forward in time
in the brand's zone: a cap lifts when the brand-local day (or month) that it
counts ends (`budgets.periods`); after that the campaign serves at the first
instant its flight dates and dayparts allow, by the same wall-clock rule as
the schedule reconcile (`campaigns.schedule.daypart_wall_clock`, DST and
overnight windows included). A manual pause and an ended flight never lift
by themselves: those need a person. Standard delivery's pacing hold lifts by
itself, at no instant known in advance: when today's spend is back on the
even-delivery line (spend.delivery), at the latest when the day ends.

The reconcile runs every minute, so the campaign resumes within a minute of
the instant given here.
"""

import datetime as dt
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass

from budgets.models import Period
from budgets.periods import day_start_utc, local_date, next_month_start, zone
from campaigns.models import BudgetHold, Campaign, Daypart, ScheduleHold
from campaigns.schedule import daypart_wall_clock

# Far enough to meet every weekly window once, after the later of now and the flight's start.
_DAYS_AHEAD = 8

_MONTHLY_HOLDS = {BudgetHold.BRAND_MONTHLY_BUDGET, BudgetHold.BUDGET_MONTHLY_LIMIT}


PACING_TEXT = "when today's spend is back on the even-delivery line"


@dataclass(frozen=True)
class NextServing:
    """`at` is the instant it serves again; None when it needs a person (`text` says why)
    or, with `by_itself`, when it depends on spend rather than on the clock."""

    at: dt.datetime | None
    text: str
    by_itself: bool = False

    @property
    def needs_person(self) -> bool:
        return self.at is None and not self.by_itself


def schedule_allows(
    campaign: Campaign, dayparts: Sequence[Daypart], *, instant: dt.datetime, tz_name: str
) -> bool:
    """The schedule reconcile's rule for one campaign at one instant, in Python."""
    wall = daypart_wall_clock(instant, tz_name)
    today, clock = wall.date(), wall.time()
    if campaign.starts_on is not None and today < campaign.starts_on:
        return False
    if campaign.ends_on is not None and today > campaign.ends_on:
        return False
    if not dayparts:
        return True
    weekday, yesterday = 1 << today.weekday(), 1 << ((today.weekday() - 1) % 7)
    for part in dayparts:
        overnight = part.end_time <= part.start_time
        if (
            part.days & weekday
            and part.start_time <= clock
            and (overnight or clock < part.end_time)
        ):
            return True
        if overnight and part.days & yesterday and clock < part.end_time:
            return True
    return False


def local_instant(naive: dt.datetime, tz_name: str) -> dt.datetime:
    """The first UTC instant at which the brand's wall clock reads `naive` or later.

    In a repeated hour that is the first pass; in a DST gap it is the moment
    the clock resumes (02:30 on a spring-forward night opens at 03:00).
    """
    tz = zone(tz_name)
    first_pass = naive.replace(tzinfo=tz)
    if first_pass.astimezone(dt.UTC).astimezone(tz).replace(tzinfo=None) == naive:
        return first_pass.astimezone(dt.UTC)
    # In the gap the clock jumps between these two readings; transitions are
    # at whole seconds, so a bisection over seconds finds where it resumes.
    low = int(naive.replace(tzinfo=tz, fold=1).timestamp())
    high = int(first_pass.timestamp())
    while high - low > 1:
        middle = (low + high) // 2
        if dt.datetime.fromtimestamp(middle, tz).replace(tzinfo=None) >= naive:
            high = middle
        else:
            low = middle
    return dt.datetime.fromtimestamp(high, dt.UTC)


def _caps_lift_at(
    hold: str, caps_reached: Collection[str] | None, *, now: dt.datetime, tz_name: str
) -> tuple[dt.datetime, str | None]:
    """When every cap that holds the campaign has a new period, and which period opens last."""
    if caps_reached is None:
        caps_reached = {Period.MONTH if hold in _MONTHLY_HOLDS else Period.DAY}
    today = local_date(now, tz_name)
    if Period.MONTH in caps_reached:
        return day_start_utc(next_month_start(today), tz_name), Period.MONTH
    if Period.DAY in caps_reached:
        return day_start_utc(today + dt.timedelta(days=1), tz_name), Period.DAY
    return now, None  # the cap is no longer reached: the next reconcile lifts the hold


def _candidates(
    campaign: Campaign, dayparts: Sequence[Daypart], *, after: dt.datetime, tz_name: str
) -> Iterator[dt.datetime]:
    """Every instant from `after` on at which the schedule may begin to allow
    serving, in order, a day at a time (the caller stops at the first that does)."""
    yield after
    first_day = local_date(after, tz_name)
    if campaign.starts_on is not None:
        first_day = max(first_day, campaign.starts_on)
    for offset in range(_DAYS_AHEAD):
        day = first_day + dt.timedelta(days=offset)
        found = {day_start_utc(day, tz_name)}
        for part in dayparts:
            if part.days & (1 << day.weekday()):
                found.add(local_instant(dt.datetime.combine(day, part.start_time), tz_name))
        yield from sorted(instant for instant in found if instant > after)


def _local_text(instant: dt.datetime, tz_name: str, *, now: dt.datetime) -> str:
    local = instant.astimezone(zone(tz_name))
    day = (
        f"{local:%a}"
        if instant - now < dt.timedelta(days=6)
        else f"{local:%a} {local.day} {local:%b}"
    )
    return f"{day} {local:%H:%M} {local.tzname()}"


def next_serving(
    campaign: Campaign,
    dayparts: Sequence[Daypart],
    *,
    now: dt.datetime,
    tz_name: str,
    caps_reached: Collection[str] | None = None,
) -> NextServing | None:
    """When `campaign` serves again if nothing changes; None while it serves.

    `caps_reached` holds the periods ("day", "month") whose caps over the
    campaign are spent, when the caller has read them; without it the stored
    budget hold says which one holds.
    """
    if campaign.status == "active":
        return None
    if not campaign.enabled:
        return NextServing(None, "needs a person: paused by hand, it serves once resumed")
    if campaign.schedule_hold == ScheduleHold.ENDED and campaign.ends_on is not None:
        return NextServing(
            None, f"needs a person: its flight ended on {campaign.ends_on:%-d %b %Y}"
        )
    lift, period = now, None
    if campaign.budget_hold:
        lift, period = _caps_lift_at(campaign.budget_hold, caps_reached, now=now, tz_name=tz_name)
    elif campaign.pacing_hold and not campaign.schedule_hold:
        return NextServing(None, PACING_TEXT, by_itself=True)
    for instant in _candidates(campaign, dayparts, after=lift, tz_name=tz_name):
        if schedule_allows(campaign, dayparts, instant=instant, tz_name=tz_name):
            return NextServing(instant, _why(campaign, instant, lift, period, tz_name, now=now))
    ends = f" on {campaign.ends_on:%-d %b %Y}" if campaign.ends_on else ""
    return NextServing(None, f"needs a person: no daypart opens before its flight ends{ends}")


def _why(
    campaign: Campaign,
    instant: dt.datetime,
    lift: dt.datetime,
    period: str | None,
    tz_name: str,
    *,
    now: dt.datetime,
) -> str:
    local = instant.astimezone(zone(tz_name))
    if instant == lift and period == Period.MONTH:
        return f"from {local.day} {local:%b}, when the new month opens"
    if instant == lift and period == Period.DAY:
        return f"from {local:%H:%M} {local.tzname()}, when the new day opens"
    if campaign.starts_on is not None and instant == day_start_utc(campaign.starts_on, tz_name):
        return f"from {local.day} {local:%b}, when its flight starts"
    if instant <= now:
        return "within a minute, at the next schedule check"
    return f"at its next window, {_local_text(instant, tz_name, now=now)}"
