"""Reads of spend totals for the current brand-local day and month.

Shared by the admin, the dashboard and the API. Each function runs a constant
number of queries whatever the number of brands, budgets or campaigns.

Every brand has its own "today". At any instant the world's local dates span
at most three calendar days, so the rollup keys of many brands are found with
one `period_start IN (...)` lookup and picked per brand in Python.
"""

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, F, Q
from django.utils import timezone

from budgets.models import Brand, Budget, Period
from budgets.periods import local_date, month_start
from campaigns.models import Campaign
from spend.models import BrandSpend, BudgetSpend, CampaignSpend

ZERO = Decimal("0")


@dataclass(frozen=True)
class PeriodTotals:
    today: dt.date
    daily_spend: Decimal
    monthly_spend: Decimal

    @property
    def month(self) -> dt.date:
        return month_start(self.today)


def _keys(todays: Iterable[dt.date]) -> set[dt.date]:
    days = set(todays)
    return days | {month_start(day) for day in days}


def _totals(
    todays: dict[int, dt.date], found: dict[tuple[int, str, dt.date], Decimal]
) -> dict[int, PeriodTotals]:
    return {
        pk: PeriodTotals(
            today=day,
            daily_spend=found.get((pk, Period.DAY, day), ZERO),
            monthly_spend=found.get((pk, Period.MONTH, month_start(day)), ZERO),
        )
        for pk, day in todays.items()
    }


def brand_current_totals(
    brands: Sequence[Brand], *, now: dt.datetime | None = None
) -> dict[int, PeriodTotals]:
    """Each brand's spend for its own local today and this month: one query."""
    now = now or timezone.now()
    todays = {brand.pk: local_date(now, brand.timezone) for brand in brands}
    if not todays:
        return {}
    # * the day and month rollups of these brands for their local todays
    rows = BrandSpend.objects.filter(
        brand_id__in=list(todays), period_start__in=_keys(todays.values())
    ).values_list("brand_id", "period", "period_start", "amount")
    return _totals(todays, {(pk, period, start): amount for pk, period, start, amount in rows})


def budget_current_totals(
    budgets: Sequence[Budget], *, now: dt.datetime | None = None
) -> dict[int, PeriodTotals]:
    """Each budget's spend for its brand's local today and month: one query.

    The budgets must come with their brand loaded (select_related("brand")).
    """
    now = now or timezone.now()
    todays = {budget.pk: local_date(now, budget.brand.timezone) for budget in budgets}
    if not todays:
        return {}
    # * the day and month rollups of these budgets for their brands' local todays
    rows = BudgetSpend.objects.filter(
        budget_id__in=list(todays), period_start__in=_keys(todays.values())
    ).values_list("budget_id", "period", "period_start", "amount")
    return _totals(todays, {(pk, period, start): amount for pk, period, start, amount in rows})


def campaign_current_totals(
    campaigns: Sequence[Campaign], *, now: dt.datetime | None = None
) -> dict[int, PeriodTotals]:
    """Each campaign's spend for its brand's local today and month: one query.

    The campaigns must come with their brand loaded (select_related("brand")).
    """
    now = now or timezone.now()
    todays = {c.pk: local_date(now, c.brand.timezone) for c in campaigns}
    if not todays:
        return {}
    # * the day and month rollups of these campaigns for their brands' local todays
    rows = CampaignSpend.objects.filter(
        campaign_id__in=list(todays), period_start__in=_keys(todays.values())
    ).values_list("campaign_id", "period", "period_start", "amount")
    return _totals(todays, {(pk, period, start): amount for pk, period, start, amount in rows})


def local_todays_by_zone(*, now: dt.datetime | None = None) -> dict[str, dt.date]:
    """The local date of `now` in every time zone that some brand uses: one query."""
    now = now or timezone.now()
    # * the distinct time zones of all brands (a few hundred at most)
    zones = Brand.objects.order_by().values_list("timezone", flat=True).distinct()
    return {tz: local_date(now, tz) for tz in zones}


def current_period_q(todays: dict[str, dt.date], period: str) -> Q:
    """Rows of `period` that are the current one for their brand's zone.

    For any model with `brand`, `period` and `period_start` (the brand
    rollups, alerts); `todays` comes from local_todays_by_zone.
    """
    by_key: dict[dt.date, list[str]] = defaultdict(list)
    for tz, day in todays.items():
        by_key[day if period == Period.DAY else month_start(day)].append(tz)
    condition = Q(pk__in=[])
    for key, zones in by_key.items():
        condition |= Q(period_start=key, brand__timezone__in=zones)
    return Q(period=period) & condition


def brands_over_cap_count(period: str, *, now: dt.datetime | None = None) -> int:
    """How many brands have reached their daily (or monthly) budget: two queries."""
    todays = local_todays_by_zone(now=now)
    if not todays:
        return 0
    cap = "brand__daily_budget" if period == Period.DAY else "brand__monthly_budget"
    # * the current rollups at or over their brand's cap
    return BrandSpend.objects.filter(current_period_q(todays, period), amount__gte=F(cap)).count()


@dataclass(frozen=True)
class StatusOverview:
    total_brands: int
    total_campaigns: int
    active_campaigns: int
    paused_campaigns: int
    paused_by_reason: dict[str, int] = field(default_factory=dict)
    over_daily_budget: int = 0
    over_monthly_budget: int = 0
    server_time: dt.datetime = field(default_factory=timezone.now)


def status_overview(*, now: dt.datetime | None = None) -> StatusOverview:
    """The system at a glance (GET /api/status/ and the dashboard): six queries."""
    now = now or timezone.now()
    # * count brands
    total_brands = Brand.objects.count()
    # * campaigns grouped by status and pause reason
    by_state = Counter[tuple[str, str | None]]()
    rows = (
        Campaign.objects.order_by()
        .values_list("status", "pause_reason")
        .annotate(count=Count("id"))
        .values_list("status", "pause_reason", "count")
    )
    for status, reason, count in rows:
        by_state[(status, reason)] += count
    paused_by_reason = {
        reason: count for (status, reason), count in by_state.items() if reason is not None
    }
    active = sum(count for (status, _), count in by_state.items() if status == "active")
    # * zones, then brands over their daily cap; * zones, then over the monthly cap
    return StatusOverview(
        total_brands=total_brands,
        total_campaigns=sum(by_state.values()),
        active_campaigns=active,
        paused_campaigns=sum(by_state.values()) - active,
        paused_by_reason=dict(sorted(paused_by_reason.items())),
        over_daily_budget=brands_over_cap_count(Period.DAY, now=now),
        over_monthly_budget=brands_over_cap_count(Period.MONTH, now=now),
        server_time=now,
    )
