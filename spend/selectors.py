"""Reads of spend totals for the current brand-local day and month.

Shared by the admin, the dashboard and the API. Each function runs a constant
number of queries whatever the number of brands, budgets or campaigns.

Every brand has its own "today". At any instant the world's local dates span
at most three calendar days, so the rollup keys of many brands are found with
one `period_start IN (...)` lookup and picked per brand in Python.
"""

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, F, Q
from django.utils import timezone

from budgets.access import AnyUser, brand_q, visible_brands
from budgets.models import Brand, Budget, Period
from budgets.periods import local_date, month_start
from campaigns.models import Campaign
from spend.models import BrandSpend, BudgetSpend, CampaignSpend

ZERO = Decimal("0")


@dataclass(frozen=True)
class PeriodTotals:
    """Spend of one brand, budget or campaign for its brand's current day and month.

    `*_overspend` is the part recorded after the cap was reached (a campaign's:
    while it was not serving); `*_cap` is None where there is no cap, and then
    `*_remaining` is None too. Remaining never goes below zero; what went past
    the cap is `*_over_cap` (the API's `daily_overspend`), so that remaining
    minus over-cap is always cap minus spend.
    """

    today: dt.date
    daily_spend: Decimal
    monthly_spend: Decimal
    daily_overspend: Decimal = ZERO
    monthly_overspend: Decimal = ZERO
    daily_cap: Decimal | None = None
    monthly_cap: Decimal | None = None

    @property
    def month(self) -> dt.date:
        return month_start(self.today)

    @property
    def daily_remaining(self) -> Decimal | None:
        return None if self.daily_cap is None else max(self.daily_cap - self.daily_spend, ZERO)

    @property
    def monthly_remaining(self) -> Decimal | None:
        if self.monthly_cap is None:
            return None
        return max(self.monthly_cap - self.monthly_spend, ZERO)

    @property
    def daily_over_cap(self) -> Decimal | None:
        """What today's spend went past the cap (0 under it): remaining's other side."""
        return None if self.daily_cap is None else max(self.daily_spend - self.daily_cap, ZERO)

    @property
    def monthly_over_cap(self) -> Decimal | None:
        if self.monthly_cap is None:
            return None
        return max(self.monthly_spend - self.monthly_cap, ZERO)


def brand_has_spend(brand_id: int) -> bool:
    """Whether spend was ever recorded for the brand: each event counts in its brand's rows.

    (A row can exist at zero events: a recorder creates the rows it locks.)
    """
    # * one index probe of the brand's rollup rows
    return BrandSpend.objects.filter(brand_id=brand_id, events_count__gt=0).exists()


Found = dict[tuple[int, str, dt.date], tuple[Decimal, Decimal]]
Caps = dict[int, tuple[Decimal | None, Decimal | None]]


def _keys(todays: Iterable[dt.date]) -> set[dt.date]:
    days = set(todays)
    return days | {month_start(day) for day in days}


def _totals(
    todays: dict[int, dt.date], found: Found, caps: Caps | None = None
) -> dict[int, PeriodTotals]:
    totals = {}
    for pk, day in todays.items():
        daily, daily_over = found.get((pk, Period.DAY, day), (ZERO, ZERO))
        monthly, monthly_over = found.get((pk, Period.MONTH, month_start(day)), (ZERO, ZERO))
        daily_cap, monthly_cap = (caps or {}).get(pk, (None, None))
        totals[pk] = PeriodTotals(
            today=day,
            daily_spend=daily,
            monthly_spend=monthly,
            daily_overspend=daily_over,
            monthly_overspend=monthly_over,
            daily_cap=daily_cap,
            monthly_cap=monthly_cap,
        )
    return totals


def _found(rows: Iterable[tuple[int, str, dt.date, Decimal, Decimal]]) -> Found:
    return {(pk, period, start): (amount, over) for pk, period, start, amount, over in rows}


def _current_totals(
    rollups: type[BrandSpend | BudgetSpend | CampaignSpend],
    owner: str,
    zones: dict[int, str],
    caps: Caps | None,
    now: dt.datetime | None,
) -> dict[int, PeriodTotals]:
    """Totals of the owners (pk -> brand time zone) for their local today: one query."""
    now = now or timezone.now()
    todays = {pk: local_date(now, tz) for pk, tz in zones.items()}
    if not todays:
        return {}
    rows = rollups.objects.filter(
        **{f"{owner}_id__in": list(todays)}, period_start__in=_keys(todays.values())
    ).values_list(f"{owner}_id", "period", "period_start", "amount", "overspend")
    return _totals(todays, _found(rows), caps)


def brand_current_totals(
    brands: Sequence[Brand], *, now: dt.datetime | None = None
) -> dict[int, PeriodTotals]:
    """Each brand's spend for its own local today and this month: one query."""
    # * the day and month rollups of these brands for their local todays
    return _current_totals(
        BrandSpend,
        "brand",
        {brand.pk: brand.timezone for brand in brands},
        {brand.pk: (brand.daily_budget, brand.monthly_budget) for brand in brands},
        now,
    )


def budget_current_totals(
    budgets: Sequence[Budget], *, now: dt.datetime | None = None
) -> dict[int, PeriodTotals]:
    """Each budget's spend for its brand's local today and month: one query.

    The budgets must come with their brand loaded (select_related("brand")).
    """
    # * the day and month rollups of these budgets for their brands' local todays
    return _current_totals(
        BudgetSpend,
        "budget",
        {budget.pk: budget.brand.timezone for budget in budgets},
        {budget.pk: (budget.daily_limit, budget.monthly_limit) for budget in budgets},
        now,
    )


def campaign_current_totals(
    campaigns: Sequence[Campaign], *, now: dt.datetime | None = None
) -> dict[int, PeriodTotals]:
    """Each campaign's spend for its brand's local today and month: one query.

    The campaigns must come with their brand loaded (select_related("brand")).
    A campaign has no cap of its own (see campaign_current_standing); its
    overspend is what it spent while not serving.
    """
    # * the day and month rollups of these campaigns for their brands' local todays
    return _current_totals(
        CampaignSpend, "campaign", {c.pk: c.brand.timezone for c in campaigns}, None, now
    )


@dataclass(frozen=True)
class CampaignStanding:
    """A campaign's spend, and what it may still spend before a cap holds it."""

    totals: PeriodTotals
    daily_remaining: Decimal  # the least of its brand's and its budget's
    monthly_remaining: Decimal


def _least(*amounts: Decimal | None) -> Decimal:
    return min(amount for amount in amounts if amount is not None)


def campaign_current_standing(
    campaigns: Sequence[Campaign], *, now: dt.datetime | None = None
) -> dict[int, CampaignStanding]:
    """Spend and remaining of each campaign under all its caps: three queries.

    The campaigns must come with select_related("brand", "budget__brand").
    """
    now = now or timezone.now()
    own = campaign_current_totals(campaigns, now=now)
    brands = brand_current_totals(list({c.brand_id: c.brand for c in campaigns}.values()), now=now)
    pools = [c.budget for c in campaigns if c.budget is not None]
    budgets = budget_current_totals(list({b.pk: b for b in pools}.values()), now=now)
    standing = {}
    for campaign in campaigns:
        brand = brands[campaign.brand_id]
        pool = budgets.get(campaign.budget_id) if campaign.budget_id is not None else None
        standing[campaign.pk] = CampaignStanding(
            totals=own[campaign.pk],
            daily_remaining=_least(
                brand.daily_remaining, pool.daily_remaining if pool is not None else None
            ),
            monthly_remaining=_least(
                brand.monthly_remaining, pool.monthly_remaining if pool is not None else None
            ),
        )
    return standing


@dataclass(frozen=True)
class Overspend:
    """One brand or budget period in which spend arrived after the cap was reached."""

    brand: Brand
    budget: Budget | None
    period: str
    period_start: dt.date
    amount: Decimal
    overspend: Decimal


def overspend_list(
    *, since: dt.date, brand_ids: Collection[int] | None = None, period: str = Period.DAY
) -> list[Overspend]:
    """Brand and budget periods from `since` on with overspend, newest first: two queries."""
    brand_filter = Q() if brand_ids is None else Q(brand_id__in=list(brand_ids))
    # * brand rollups with overspend, with their brands
    brand_rows = BrandSpend.objects.filter(
        brand_filter, period=period, period_start__gte=since, overspend__gt=0
    ).select_related("brand")
    budget_filter = Q() if brand_ids is None else Q(budget__brand_id__in=list(brand_ids))
    # * budget rollups with overspend, with their budgets and brands
    budget_rows = BudgetSpend.objects.filter(
        budget_filter, period=period, period_start__gte=since, overspend__gt=0
    ).select_related("budget__brand")
    found = [
        Overspend(r.brand, None, r.period, r.period_start, r.amount, r.overspend)
        for r in brand_rows
    ] + [
        Overspend(r.budget.brand, r.budget, r.period, r.period_start, r.amount, r.overspend)
        for r in budget_rows
    ]
    return sorted(found, key=lambda o: (o.period_start, o.brand.name), reverse=True)


def local_todays_by_zone(*, now: dt.datetime | None = None) -> dict[str, dt.date]:
    """The local date of `now` in every time zone that some brand uses: one query."""
    now = now or timezone.now()
    # * the distinct time zones of all brands (a few hundred at most)
    zones = Brand.objects.order_by().values_list("timezone", flat=True).distinct()
    return {tz: local_date(now, tz) for tz in zones}


def current_period_q(todays: dict[str, dt.date], period: str, *, brand_path: str = "brand") -> Q:
    """Rows of `period` that are the current one for their brand's zone.

    For any model with `period`, `period_start` and a brand at `brand_path`
    (the brand rollups and alerts: "brand"; budget rollups: "budget__brand");
    `todays` comes from local_todays_by_zone.
    """
    by_key: dict[dt.date, list[str]] = defaultdict(list)
    for tz, day in todays.items():
        by_key[day if period == Period.DAY else month_start(day)].append(tz)
    condition = Q(pk__in=[])
    for key, zones in by_key.items():
        condition |= Q(period_start=key, **{f"{brand_path}__timezone__in": zones})
    return Q(period=period) & condition


def brands_over_cap_counts(
    todays: dict[str, dt.date], *, visible: Q | None = None
) -> tuple[int, int]:
    """How many brands have reached their daily and their monthly budget: one query.

    `todays` comes from local_todays_by_zone; `visible` narrows to some
    brands' rollups (`budgets.access.brand_q` on `brand_id`).
    """
    if not todays:
        return 0, 0
    over_day = current_period_q(todays, Period.DAY) & Q(amount__gte=F("brand__daily_budget"))
    over_month = current_period_q(todays, Period.MONTH) & Q(amount__gte=F("brand__monthly_budget"))
    # * the current day and month rollups at or over their brand's cap, counted by period
    counts = BrandSpend.objects.filter(over_day | over_month, visible or Q()).aggregate(
        day=Count("id", filter=Q(period=Period.DAY)),
        month=Count("id", filter=Q(period=Period.MONTH)),
    )
    return counts["day"], counts["month"]


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


def _campaigns_by_state(visible: Q) -> Counter[tuple[str, str | None]]:
    """The visible campaigns counted by (status, pause reason)."""
    by_state = Counter[tuple[str, str | None]]()
    # * campaigns grouped by status and pause reason
    rows = (
        Campaign.objects.filter(visible)
        .order_by()
        .values_list("status", "pause_reason")
        .annotate(count=Count("id"))
        .values_list("status", "pause_reason", "count")
    )
    for status, reason, count in rows:
        by_state[(status, reason)] += count
    return by_state


def status_overview(
    *,
    user: AnyUser | None,
    now: dt.datetime | None = None,
    todays: dict[str, dt.date] | None = None,
    over_cap_counts: tuple[int, int] | None = None,
) -> StatusOverview:
    """The brands `user` may see, at a glance (GET /api/status/ and the dashboard).

    `user=None` is the whole system (for the system's own use). Four queries
    (one fewer when the caller passes `todays`, the local dates it already
    read, and one fewer again with `over_cap_counts`), and one more to learn
    whether a person is an agency admin.
    """
    now = now or timezone.now()
    everything = user is None
    # * count brands
    total_brands = (Brand.objects.all() if everything else visible_brands(user)).count()
    visible = Q() if everything else brand_q(user, brand_field="brand_id")
    by_state = _campaigns_by_state(visible)
    paused_by_reason = {
        reason: count for (status, reason), count in by_state.items() if reason is not None
    }
    active = sum(count for (status, _), count in by_state.items() if status == "active")
    # * zones (unless given), then brands over their daily and monthly caps
    # (unless the caller counted them already, from rows it read anyway)
    todays = todays if todays is not None else local_todays_by_zone(now=now)
    over_daily, over_monthly = over_cap_counts or brands_over_cap_counts(todays, visible=visible)
    return StatusOverview(
        total_brands=total_brands,
        total_campaigns=sum(by_state.values()),
        active_campaigns=active,
        paused_campaigns=sum(by_state.values()) - active,
        paused_by_reason=dict(sorted(paused_by_reason.items())),
        over_daily_budget=over_daily,
        over_monthly_budget=over_monthly,
        server_time=now,
    )
