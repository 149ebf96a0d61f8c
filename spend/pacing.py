"""Pacing figures read from the rollups, for brands and shared budgets.

The computation is `budgets.pacing` (pure); this module reads what it needs
in a constant number of queries whatever the number of owners, and writes
the status and percent as SQL expressions so that lists of every brand can
be filtered and sorted by pacing without computing it in Python.
"""

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import (
    Case,
    CharField,
    DateField,
    DecimalField,
    ExpressionWrapper,
    F,
    FilteredRelation,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, NullIf
from django.db.models.lookups import GreaterThan, LessThan
from django.utils import timezone

from budgets.models import Brand, Budget, Period
from budgets.pacing import (
    HUNDRED,
    MonthClock,
    Pacing,
    PacingInput,
    PacingStatus,
    PacingThresholds,
    month_clock,
    pacing_figures,
)
from campaigns.serving_time import serving_windows_today
from spend.models import TOTAL_DIGITS, BrandSpend, BudgetSpend, SpendEvent

ZERO = Decimal("0")
LAST_HOUR = dt.timedelta(hours=1)


def pacing_thresholds() -> PacingThresholds:
    return PacingThresholds(
        under=Decimal(settings.PACING_UNDER_PERCENT), over=Decimal(settings.PACING_OVER_PERCENT)
    )


def _clocks(zones: dict[int, str], now: dt.datetime) -> dict[int, MonthClock]:
    by_zone = {tz: month_clock(now, tz) for tz in set(zones.values())}
    return {pk: by_zone[tz] for pk, tz in zones.items()}


def _month_rows(
    rollups: type[BrandSpend | BudgetSpend], owner: str, clocks: dict[int, MonthClock]
) -> tuple[dict[int, Decimal], dict[int, dict[dt.date, Decimal]]]:
    """Month-to-date and day totals of each owner's current month: one query."""
    first = min(clock.month for clock in clocks.values())
    last = max(clock.today for clock in clocks.values())
    rows = rollups.objects.filter(
        **{f"{owner}_id__in": list(clocks)}, period_start__gte=first, period_start__lte=last
    ).values_list(f"{owner}_id", "period", "period_start", "amount")
    months: dict[int, Decimal] = {}
    days: dict[int, dict[dt.date, Decimal]] = defaultdict(dict)
    for pk, period, start, amount in rows:
        clock = clocks[pk]
        if period == Period.MONTH and start == clock.month:
            months[pk] = amount
        elif period == Period.DAY and clock.month <= start <= clock.today:
            days[pk][start] = amount
    return months, days


def _last_hour(owner: str, clocks: dict[int, MonthClock], now: dt.datetime) -> dict[int, Decimal]:
    """Each owner's ledger spend of the last 60 minutes of its local today: one query."""
    rows = (
        SpendEvent.objects.filter(
            **{f"{owner}_id__in": list(clocks)},
            occurred_at__gte=now - LAST_HOUR,
            occurred_at__lte=now,
            local_date__in={clock.today for clock in clocks.values()},
        )
        .order_by()
        .values_list(f"{owner}_id", "local_date")
        .annotate(total=Sum("amount"))
        .values_list(f"{owner}_id", "local_date", "total")
    )
    return {pk: total for pk, day, total in rows if clocks[pk].today == day}


def _pacing(
    rollups: type[BrandSpend | BudgetSpend],
    owner: str,
    caps: Mapping[int, tuple[str, Decimal | None, Decimal | None]],
    now: dt.datetime | None,
    serving: bool = True,
) -> dict[int, Pacing | None]:
    """caps: pk -> (time zone, daily cap, monthly cap); None where no monthly cap.
    `serving=False` skips the serving windows (the daily figures then run to
    the day's end)."""
    now = now or timezone.now()
    capped = {pk: tz for pk, (tz, _, monthly) in caps.items() if monthly is not None}
    found: dict[int, Pacing | None] = dict.fromkeys(caps)
    if not capped:
        return found
    clocks = _clocks(capped, now)
    # * the day and month rollups of these owners' current local months
    months, days = _month_rows(rollups, owner, clocks)
    # * their ledger spend of the last hour, summed per owner
    last_hour = _last_hour(owner, clocks, now)
    # * today's serving windows of those with a daily cap (the union of their campaigns')
    daily_capped = {pk: tz for pk, tz in capped.items() if caps[pk][1] is not None}
    windows = (
        serving_windows_today(daily_capped, now, campaigns_of=f"{owner}_id") if serving else {}
    )
    thresholds = pacing_thresholds()
    for pk, clock in clocks.items():
        _, daily, monthly = caps[pk]
        figures = PacingInput(
            monthly_cap=monthly or ZERO,
            daily_cap=daily,
            month_to_date=months.get(pk, ZERO),
            daily_amounts=days.get(pk, {}),
            last_hour_spend=last_hour.get(pk, ZERO),
            serving_windows=tuple(windows[pk]) if pk in windows else None,
        )
        found[pk] = pacing_figures(figures, clock, thresholds)
    return found


def brand_pacing(
    brands: Sequence[Brand], *, now: dt.datetime | None = None, serving: bool = True
) -> dict[int, Pacing | None]:
    """The pacing of each brand for its local month: three queries (none for no
    brands). `serving=False`, for readers of the month's figures only, skips
    today's serving windows (one query less; `day_cap_reached_at` and the
    serving end are then not bounded by them)."""
    caps = {b.pk: (b.timezone, b.daily_budget, b.monthly_budget) for b in brands}
    return _pacing(BrandSpend, "brand", caps, now, serving)


def budget_pacing(
    budgets: Sequence[Budget], *, now: dt.datetime | None = None
) -> dict[int, Pacing | None]:
    """The pacing of each shared budget with a monthly limit (None without): three
    queries (two when none of those has a daily limit), none when no budget has
    one. The budgets' brands must be loaded."""
    caps = {b.pk: (b.brand.timezone, b.daily_limit, b.monthly_limit) for b in budgets}
    return _pacing(BudgetSpend, "budget", caps, now)


# ---------------------------------------------------------------- in SQL, for lists

SHARE = DecimalField(max_digits=30, decimal_places=12)
MONEY = DecimalField(max_digits=TOTAL_DIGITS, decimal_places=6)


def _by_zone(clocks: Iterable[MonthClock], value: str) -> Case:
    """A CASE on the brand's zone giving each zone's month key or elapsed share."""
    groups: dict[object, list[str]] = defaultdict(list)
    for clock in clocks:
        key: object = clock.month if value == "month" else clock.month_share
        if value == "judged_share":
            key = clock.month_share if clock.judged else None
        groups[key].append(clock.tz_name)
    output = DateField() if value == "month" else SHARE
    return Case(
        *(
            When(timezone__in=sorted(zones), then=Value(key, output_field=output))
            for key, zones in groups.items()
            if key is not None
        ),
        default=Value(None, output_field=output),
        output_field=output,
    )


def _month_annotations(clocks: list[MonthClock]) -> dict[str, Any]:
    """Each brand's month key and elapsed shares (CASEs on its zone), and a join
    on its current month's rollup, read once per row (a subquery would run
    once per reference)."""
    return {
        "pacing_month": _by_zone(clocks, "month"),
        "pacing_share": _by_zone(clocks, "share"),
        "pacing_judged_share": _by_zone(clocks, "judged_share"),
        "pacing_rollup": FilteredRelation(
            "spend_rollups",
            condition=Q(
                spend_rollups__period=Period.MONTH,
                # the few months current somewhere (the period index), then each brand's own
                spend_rollups__period_start__in=sorted({clock.month for clock in clocks}),
                spend_rollups__period_start=_by_zone(clocks, "month"),
            ),
        ),
    }


def _status_case(spent: ExpressionWrapper[Any], thresholds: PacingThresholds) -> Case:
    return Case(
        When(pacing_judged__isnull=True, then=Value(PacingStatus.ON_PACE)),
        When(
            LessThan(spent, F("pacing_judged") * thresholds.under),
            then=Value(PacingStatus.UNDER),
        ),
        When(
            GreaterThan(spent, F("pacing_judged") * thresholds.over),
            then=Value(PacingStatus.OVER),
        ),
        default=Value(PacingStatus.ON_PACE),
        output_field=CharField(),
    )


def with_pacing(
    brands: QuerySet[Brand], zones: Iterable[str], *, now: dt.datetime | None = None
) -> QuerySet[Brand]:
    """Brands annotated with `pacing_percent` and `pacing_status`, computed in SQL.

    `zones`: every time zone the brands may have (local_todays_by_zone's keys).
    The same rule as budgets.pacing.pacing_status, compared without division;
    a test holds the two equal. No query of its own.
    """
    now = now or timezone.now()
    clocks = [month_clock(now, tz) for tz in sorted(set(zones))]
    brands = brands.annotate(**_month_annotations(clocks)).annotate(
        pacing_spend=Coalesce(F("pacing_rollup__amount"), Value(ZERO), output_field=MONEY),
        pacing_expected=ExpressionWrapper(
            F("monthly_budget") * F("pacing_share"), output_field=SHARE
        ),
        pacing_judged=ExpressionWrapper(
            F("monthly_budget") * F("pacing_judged_share"), output_field=SHARE
        ),
    )
    spent = ExpressionWrapper(F("pacing_spend") * HUNDRED, output_field=SHARE)
    return brands.annotate(
        pacing_percent=ExpressionWrapper(
            spent / NullIf(F("pacing_expected"), Value(ZERO)), output_field=SHARE
        ),
        pacing_status=_status_case(spent, pacing_thresholds()),
    )


def pacing_status_q(status: str) -> Q:
    """Brands (annotated by with_pacing) of one pacing status."""
    return Q(pacing_status=status)
