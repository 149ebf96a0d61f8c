"""Pacing: where a monthly cap will land, and what daily cap lands it.

Pure computation, no database: the readers (`spend.pacing`) fetch the
rollups and pass amounts in; `simulate_spend` can call `project_month` on
its own figures. The rules are written in docs/architecture.md ("Pacing").

Every local day weighs the same in a month, as every day keeps its full
daily cap: the elapsed share of the month is (complete local days + the
elapsed share of today) / days in the month, and the elapsed share of today
is measured in real time over today's 23, 24 or 25 hours.
"""

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

from budgets.periods import day_bounds_utc, month_start, next_month_start, zone

ZERO = Decimal("0")
HUNDRED = Decimal("100")
RUN_RATE_DAYS = 7
JUDGED_FROM_DAY = 3
# Shares are rounded once, here, so that SQL (the lists' filter and sort)
# and Python compare the very same numbers.
SHARE_PLACES = Decimal("1e-12")
CENT = Decimal("0.01")
PERCENT_PLACES = Decimal("0.01")

# A serving window of today: [opens, closes), aware instants.
Window = tuple[dt.datetime, dt.datetime]


class PacingStatus:
    ON_PACE = "on_pace"
    UNDER = "under"
    OVER = "over"
    ALL = ("on_pace", "under", "over")


@dataclass(frozen=True)
class PacingThresholds:
    """Percent of the expected spend: below `under` is under pace, above `over` over."""

    under: Decimal = Decimal("90")
    over: Decimal = Decimal("110")


@dataclass(frozen=True)
class MonthClock:
    """Where `now` stands in a brand's local day and month."""

    tz_name: str
    now: dt.datetime
    today: dt.date
    day_start: dt.datetime
    day_end: dt.datetime
    day_share: Decimal  # elapsed share of today, 0..1
    days_in_month: int

    @property
    def month(self) -> dt.date:
        return month_start(self.today)

    @property
    def elapsed_days(self) -> Decimal:
        """Local days gone this month, today's elapsed part included."""
        return self.today.day - 1 + self.day_share

    @property
    def month_share(self) -> Decimal:
        return (self.elapsed_days / self.days_in_month).quantize(SHARE_PLACES, ROUND_HALF_UP)

    @property
    def remaining_days(self) -> int:
        """Local days left this month, today included."""
        return self.days_in_month - self.today.day + 1

    @property
    def judged(self) -> bool:
        """Whether the status is judged yet: from the 3rd local day."""
        return self.today.day >= JUDGED_FROM_DAY


def month_clock(now: dt.datetime, tz_name: str) -> MonthClock:
    """The clock of a brand's zone at `now` (aware; kept in UTC, where adding
    an hour is an hour on every day)."""
    now = now.astimezone(dt.UTC)
    today = now.astimezone(zone(tz_name)).date()
    start, end = day_bounds_utc(today, tz_name)
    share = Decimal((now - start) / (end - start)).quantize(SHARE_PLACES, ROUND_HALF_UP)
    days = (next_month_start(today) - month_start(today)).days
    return MonthClock(tz_name, now, today, start, end, min(max(share, ZERO), Decimal(1)), days)


def run_rate(
    clock: MonthClock, daily_amounts: Mapping[dt.date, Decimal], today_spend: Decimal
) -> Decimal:
    """Spend per local day: the mean of the last 7 complete local days of the month
    (fewer at its start); on the 1st, today's spend over today's elapsed share."""
    first = max(clock.month, clock.today - dt.timedelta(days=RUN_RATE_DAYS))
    days = (clock.today - first).days
    if days == 0:
        return today_spend / clock.day_share if clock.day_share > 0 else ZERO
    total = sum((daily_amounts.get(first + dt.timedelta(days=n), ZERO) for n in range(days)), ZERO)
    return max(total / days, ZERO)


@dataclass(frozen=True)
class MonthProjection:
    projected: Decimal
    cap_reached_on: dt.date | None


def _reached_on(
    clock: MonthClock, cap: Decimal, daily_amounts: Mapping[dt.date, Decimal]
) -> dt.date:
    """The day the cumulative spend of the month first stood at the cap (already reached)."""
    running = ZERO
    for offset in range(clock.today.day):
        day = clock.month + dt.timedelta(days=offset)
        running += daily_amounts.get(day, ZERO)
        if running >= cap:
            return day
    return clock.today


def project_month(
    cap: Decimal,
    month_to_date: Decimal,
    daily_amounts: Mapping[dt.date, Decimal],
    clock: MonthClock,
    *,
    today_spend: Decimal | None = None,
) -> MonthProjection:
    """Where the month lands at the recent run rate, and the day it reaches `cap`.

    `daily_amounts` holds the day totals of this month (days without spend may
    be absent); `today_spend` defaults to today's entry. The cap is hard, so
    the projection never passes it (unless spend already did).
    """
    today = daily_amounts.get(clock.today, ZERO) if today_spend is None else today_spend
    rate = run_rate(clock, daily_amounts, today)
    left = clock.days_in_month - clock.elapsed_days
    projected = min(month_to_date + rate * left, max(cap, month_to_date))
    if month_to_date >= cap:
        return MonthProjection(projected, _reached_on(clock, cap, daily_amounts))
    if rate <= 0:
        return MonthProjection(projected, None)
    point = clock.elapsed_days + (cap - month_to_date) / rate
    if point > clock.days_in_month:
        return MonthProjection(projected, None)
    day_number = max(math.ceil(point), clock.today.day)
    return MonthProjection(projected, clock.month + dt.timedelta(days=day_number - 1))


def hourly_rate(clock: MonthClock, last_hour_spend: Decimal) -> Decimal:
    """Spend per hour over the last 60 minutes, or since the local day began if later."""
    since = max(clock.now - dt.timedelta(hours=1), clock.day_start)
    seconds = Decimal((clock.now - since).total_seconds())
    return last_hour_spend * 3600 / seconds if seconds > 0 else ZERO


def day_cap_reached_at(
    clock: MonthClock,
    daily_cap: Decimal | None,
    today_spend: Decimal,
    last_hour_spend: Decimal,
    *,
    serving_ends_at: dt.datetime | None = None,
) -> dt.datetime | None:
    """When today's spend meets the daily cap at the last hour's rate (brand-local).

    The rate is what was spent over the last 60 minutes, or since the local
    day began if that is more recent. None with no daily cap, no spend in
    that hour, a cap already reached, or a time at or after the end of the
    day (or of serving, when given).
    """
    rate = hourly_rate(clock, last_hour_spend)
    if daily_cap is None or today_spend >= daily_cap or rate <= 0:
        return None
    end = min(clock.day_end, serving_ends_at or clock.day_end)
    seconds = (daily_cap - today_spend) / rate * 3600
    # Compared before it becomes a timedelta: a huge cap at a small rate is
    # further away than a timedelta can hold.
    if seconds >= Decimal((end - clock.now).total_seconds()):
        return None
    at = clock.now + dt.timedelta(seconds=float(seconds))
    return at.astimezone(zone(clock.tz_name))


def serving_end(clock: MonthClock, windows: Sequence[Window] | None) -> dt.datetime | None:
    """When the last serving window of today closes: None when the windows were
    not read, the day's first instant when there is none today (so no time
    is left to reach anything in)."""
    if windows is None:
        return None
    return windows[-1][1] if windows else clock.day_start


def pacing_status(
    clock: MonthClock, cap: Decimal, month_to_date: Decimal, thresholds: PacingThresholds
) -> str:
    """on_pace before the 3rd local day; then under or over by the thresholds.

    Compared without a division (spend x 100 against threshold x expected),
    exactly as `spend.pacing.status_expression` does in SQL.
    """
    expected = cap * clock.month_share
    if not clock.judged:
        return PacingStatus.ON_PACE
    if month_to_date * HUNDRED < thresholds.under * expected:
        return PacingStatus.UNDER
    if month_to_date * HUNDRED > thresholds.over * expected:
        return PacingStatus.OVER
    return PacingStatus.ON_PACE


def recommended_daily_budget(
    clock: MonthClock, cap: Decimal, month_to_date: Decimal, today_spend: Decimal
) -> Decimal:
    """The daily cap that lands the month on `cap`: what the month had left when
    today began, over the local days left (today included), in whole cents down."""
    left_at_day_start = max(cap - (month_to_date - today_spend), ZERO)
    return (left_at_day_start / clock.remaining_days).quantize(CENT, ROUND_DOWN)


@dataclass(frozen=True)
class Pacing:
    """The pacing figures of one brand or shared budget for its local month (API.md)."""

    month_expected_to_date: Decimal
    month_pacing_percent: Decimal | None
    month_projected: Decimal
    month_cap_reached_on: dt.date | None
    recommended_daily_budget: Decimal
    status: str
    day_cap_reached_at: dt.datetime | None
    # Not in the API: what the dashboard's charts draw the projections with.
    day_rate_per_hour: Decimal = ZERO
    today_spend: Decimal = ZERO
    serving_ends_at: dt.datetime | None = None  # None: serving time was not read
    serving_windows: tuple[Window, ...] = ()


@dataclass(frozen=True)
class PacingInput:
    """What the rollups (and the ledger's last hour) say about one owner."""

    monthly_cap: Decimal
    daily_cap: Decimal | None
    month_to_date: Decimal
    daily_amounts: Mapping[dt.date, Decimal]
    last_hour_spend: Decimal = ZERO
    # The owner's serving windows today, [opens, closes) in order; None when
    # not read (the whole day counts), () when it has none today.
    serving_windows: tuple[Window, ...] | None = None


def pacing_figures(figures: PacingInput, clock: MonthClock, thresholds: PacingThresholds) -> Pacing:
    cap, spent = figures.monthly_cap, figures.month_to_date
    today = figures.daily_amounts.get(clock.today, ZERO)
    expected = cap * clock.month_share
    projection = project_month(cap, spent, figures.daily_amounts, clock, today_spend=today)
    serving_ends = serving_end(clock, figures.serving_windows)
    reached_at = day_cap_reached_at(
        clock,
        figures.daily_cap,
        today,
        figures.last_hour_spend,
        serving_ends_at=serving_ends,
    )
    return Pacing(
        month_expected_to_date=expected.quantize(CENT, ROUND_HALF_UP),
        month_pacing_percent=(
            (spent * HUNDRED / expected).quantize(PERCENT_PLACES, ROUND_HALF_UP)
            if expected > 0
            else None
        ),
        month_projected=projection.projected.quantize(CENT, ROUND_HALF_UP),
        month_cap_reached_on=projection.cap_reached_on,
        recommended_daily_budget=recommended_daily_budget(clock, cap, spent, today),
        status=pacing_status(clock, cap, spent, thresholds),
        day_cap_reached_at=reached_at,
        day_rate_per_hour=hourly_rate(clock, figures.last_hour_spend),
        today_spend=today,
        serving_ends_at=serving_ends,
        serving_windows=figures.serving_windows or (),
    )
