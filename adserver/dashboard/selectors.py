"""Reads for the dashboard pages that no other part of the project needs.

Current-period totals come from `spend.selectors`; this module adds what is
page-specific: filtered and sorted lists, the per-currency figures of the
overview and day-by-day series for the charts (the logs are in
log_selectors.py). Every function runs a fixed number of queries (named in its docstring),
whatever the number of rows, and loads the related rows its page prints.

Every list and figure takes the `user` it is for and holds only the brands
that user may see (`budgets.access`): the narrowing is a subquery inside the
same statement, so it adds no query.
"""

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeVar

from django.db.models import (
    Case,
    Count,
    DateField,
    DecimalField,
    ExpressionWrapper,
    F,
    Model,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
    Window,
)
from django.db.models.functions import Coalesce, TruncHour
from django.urls import reverse

from adserver.dashboard.charts import level
from budgets.access import AnyUser, brand_q, visible_brands
from budgets.models import Alert, Brand, Budget, Period
from budgets.pacing import Pacing, PacingStatus
from budgets.periods import day_bounds_utc, month_start, zone
from campaigns.models import Campaign, CampaignStatusChange, Daypart, Status
from campaigns.next_serving import NextServing, next_serving
from credentials.models import SpendFeed
from spend.models import TOTAL_DIGITS, BrandSpend, BudgetSpend, SpendEvent
from spend.pacing import pacing_status_q, with_pacing
from spend.selectors import PeriodTotals, current_period_q

ZERO = Decimal("0")
M = TypeVar("M", bound=Model)


@dataclass(frozen=True)
class Utilisation:
    """Spend against a cap (None: no cap at that level)."""

    spend: Decimal
    cap: Decimal | None

    @property
    def percent(self) -> Decimal | None:
        if self.cap is None:
            return None
        return self.spend * 100 / self.cap

    @property
    def remaining(self) -> Decimal | None:
        """Never negative, as in the API: what went past the cap is `over`."""
        return None if self.cap is None else max(self.cap - self.spend, ZERO)

    @property
    def over(self) -> Decimal | None:
        return None if self.cap is None else max(self.spend - self.cap, ZERO)

    @property
    def level(self) -> str:
        return level(self.spend, self.cap)

    @property
    def bar_width(self) -> str:
        """Percent of the bar to fill, clipped to 0..100, for a CSS width."""
        percent = self.percent or ZERO
        return f"{max(ZERO, min(percent, Decimal(100))):.1f}"


def _period_key(day: dt.date, period: str) -> dt.date:
    return day if period == Period.DAY else month_start(day)


def _current_key_case(todays: dict[str, dt.date], period: str) -> Case:
    """A brand's current day (or month) key, computed in SQL from its zone."""
    zones_by_key: dict[dt.date, list[str]] = defaultdict(list)
    for tz, day in todays.items():
        zones_by_key[_period_key(day, period)].append(tz)
    return Case(
        *(
            When(timezone__in=sorted(zones), then=Value(key))
            for key, zones in sorted(zones_by_key.items())
        ),
        default=Value(None),
        output_field=DateField(),
    )


# ---------------------------------------------------------------- overview


@dataclass(frozen=True)
class CurrencyToday:
    """All brands of one currency: today's spend against their daily budgets."""

    currency: str
    brands: int
    daily_budget: Decimal
    daily_spend: Decimal

    @property
    def utilisation(self) -> Utilisation:
        return Utilisation(self.daily_spend, self.daily_budget)


def todays_spend_by_currency(
    todays: dict[str, dt.date], *, user: AnyUser | None
) -> list[CurrencyToday]:
    """Today's total spend and daily budget per currency of the brands `user`
    may see: two queries.

    Totals are never added across currencies: 100 USD and 100 INR are not 200
    of anything.
    """
    # * daily budgets and brand counts grouped by currency
    budgets = (
        visible_brands(user)
        .order_by("currency")
        .values_list("currency")
        .annotate(total=Sum("daily_budget"), brands=Count("id"))
    )
    # * today's day rollups (each brand's own today) grouped by currency
    spend = dict(
        BrandSpend.objects.filter(
            current_period_q(todays, Period.DAY), brand_q(user, brand_field="brand_id")
        )
        .order_by()
        .values_list("brand__currency")
        .annotate(total=Sum("amount"))
        .values_list("brand__currency", "total")
    )
    return [
        CurrencyToday(
            currency=currency,
            brands=brands,
            daily_budget=total,
            daily_spend=spend.get(currency) or ZERO,
        )
        for currency, total, brands in budgets
    ]


NEAR_CAP_SHARE = Decimal("0.8")
NEAR_CAP_SHOWN = 10


@dataclass(frozen=True)
class NearCap:
    """A brand's or a shared budget's current day or month at 80% of its cap or more."""

    brand_id: int
    brand_name: str
    currency: str
    budget_id: int | None
    budget_name: str
    period: str
    utilisation: Utilisation

    @property
    def name(self) -> str:
        return self.budget_name or self.brand_name

    @property
    def url(self) -> str:
        if self.budget_id is not None:
            return reverse("dashboard:budget-detail", args=[self.budget_id])
        return reverse("dashboard:brand-detail", args=[self.brand_id])

    @property
    def at_cap(self) -> bool:
        return self.utilisation.level == "over"


def _near_cap_q(todays: dict[str, dt.date], *, brand_path: str, caps: tuple[str, str]) -> Q:
    day_cap, month_cap = caps
    return (
        current_period_q(todays, Period.DAY, brand_path=brand_path)
        & Q(amount__gte=F(day_cap) * NEAR_CAP_SHARE)
    ) | (
        current_period_q(todays, Period.MONTH, brand_path=brand_path)
        & Q(amount__gte=F(month_cap) * NEAR_CAP_SHARE)
    )


_SHARE = DecimalField(max_digits=30, decimal_places=10)


def _share_of_cap(caps: tuple[str, str]) -> Case:
    """A rollup's amount over its period's cap (the near-cap rows' sort key)."""
    return Case(
        When(
            period=Period.DAY,
            then=ExpressionWrapper(F("amount") / F(caps[0]), output_field=_SHARE),
        ),
        default=ExpressionWrapper(F("amount") / F(caps[1]), output_field=_SHARE),
        output_field=_SHARE,
    )


def _by_share(found: list[NearCap]) -> list[NearCap]:
    return sorted(found, key=lambda near: (-(near.utilisation.percent or ZERO), near.name))


def _near_cap(row: Sequence[Any]) -> NearCap:
    """(brand id, brand name, currency, budget id, budget name, period, amount,
    daily cap, monthly cap, ...) as a NearCap of its period's cap."""
    brand_id, brand_name, currency, budget_id, budget_name, period, amount, daily, monthly = row[:9]
    cap = daily if period == Period.DAY else monthly
    return NearCap(
        brand_id, brand_name, currency, budget_id, budget_name, period, Utilisation(amount, cap)
    )


def _near_caps(rows: Iterable[Sequence[Any]]) -> list[NearCap]:
    return _by_share([_near_cap(row) for row in rows])


@dataclass(frozen=True)
class BrandsNearCap:
    """The overview's brands near their caps, and how many are at them."""

    shown: list[NearCap]
    at_daily_cap: int
    at_monthly_cap: int


def brands_near_cap(
    todays: dict[str, dt.date], *, user: AnyUser | None, shown: int = NEAR_CAP_SHOWN
) -> BrandsNearCap:
    """The first `shown` brands the user may see at 80% of a daily or monthly cap
    or more in their own today and month, highest share first, and how many of
    them all stand at their caps (window counts over the same rows): one query."""
    if not todays:
        return BrandsNearCap([], 0, 0)
    caps = ("brand__daily_budget", "brand__monthly_budget")
    # * the current brand rollups at 80% of their cap or more, highest first,
    #   each carrying the counts of all of them at their day and month caps
    rows = list(
        BrandSpend.objects.filter(
            _near_cap_q(todays, brand_path="brand", caps=caps),
            brand_q(user, brand_field="brand_id"),
        )
        .annotate(
            share=_share_of_cap(caps),
            at_day=Window(Count("id", filter=Q(period=Period.DAY, amount__gte=F(caps[0])))),
            at_month=Window(Count("id", filter=Q(period=Period.MONTH, amount__gte=F(caps[1])))),
        )
        .order_by("-share", "brand__name", "period")
        .values_list(
            "brand_id",
            "brand__name",
            "brand__currency",
            "period",
            "amount",
            *caps,
            "at_day",
            "at_month",
        )[:shown]
    )
    at_day, at_month = (rows[0][-2], rows[0][-1]) if rows else (0, 0)
    # A brand's row has no shared budget: its id and name are empty.
    shown_rows = [(brand, name, currency, None, "", *rest) for brand, name, currency, *rest in rows]
    return BrandsNearCap(_near_caps(shown_rows), at_day, at_month)


def budgets_near_cap(
    todays: dict[str, dt.date], *, user: AnyUser | None, shown: int = NEAR_CAP_SHOWN
) -> list[NearCap]:
    """The first `shown` shared budgets at 80% of a daily or monthly limit or more
    in their brand's today and month, highest share first: one query."""
    if not todays:
        return []
    caps = ("budget__daily_limit", "budget__monthly_limit")
    # * the current shared-budget rollups at 80% of their limit or more, highest first
    rows = (
        BudgetSpend.objects.filter(
            _near_cap_q(todays, brand_path="budget__brand", caps=caps),
            brand_q(user, brand_field="budget__brand_id"),
        )
        .annotate(share=_share_of_cap(caps))
        .order_by("-share", "budget_id", "period")
        .values_list(
            "budget__brand_id",
            "budget__brand__name",
            "budget__brand__currency",
            "budget_id",
            "budget__name",
            "period",
            "amount",
            *caps,
        )[:shown]
    )
    return _near_caps(rows)


@dataclass(frozen=True)
class PacingCounts:
    under: int = 0
    over: int = 0


def brands_pacing_counts(
    todays: dict[str, dt.date], *, user: AnyUser | None, now: dt.datetime | None = None
) -> PacingCounts:
    """How many of the brands `user` may see (not archived) are under and over
    pace: one query, the status computed in SQL."""
    if not todays:
        return PacingCounts()
    brands = with_pacing(visible_brands(user).filter(archived_at__isnull=True), todays, now=now)
    # * the brands counted by pacing status (grouped: the status is computed once a row)
    by_status = brands.order_by().values_list("pacing_status")  # type: ignore[misc]
    counts = dict(by_status.annotate(n=Count("id")).values_list("pacing_status", "n"))
    return PacingCounts(
        under=counts.get(PacingStatus.UNDER, 0), over=counts.get(PacingStatus.OVER, 0)
    )


def open_alerts(todays: dict[str, dt.date], *, user: AnyUser | None) -> QuerySet[Alert]:
    """Alerts of each visible brand's current day or month that nobody has acknowledged."""
    current = current_period_q(todays, Period.DAY) | current_period_q(todays, Period.MONTH)
    return (
        Alert.objects.filter(
            current, brand_q(user, brand_field="brand_id"), acknowledged_at__isnull=True
        )
        .select_related("brand", "budget")
        .order_by("-raised_at", "-id")
    )


def latest_status_changes(*, user: AnyUser | None) -> QuerySet[CampaignStatusChange]:
    """Status changes of the campaigns of the brands `user` may see, newest first."""
    return (
        CampaignStatusChange.objects.filter(brand_q(user, brand_field="campaign__brand_id"))
        .select_related("campaign__brand", "user")
        .order_by("-changed_at", "-id")
    )


# ---------------------------------------------------------------- brands


BRAND_SORTS: dict[str, tuple[str, ...]] = {
    "name": ("name",),
    "-name": ("-name",),
    "daily": ("daily_use", "name"),
    "-daily": ("-daily_use", "name"),
    "monthly": ("monthly_use", "name"),
    "-monthly": ("-monthly_use", "name"),
    "campaigns": ("campaigns_total", "name"),
    "-campaigns": ("-campaigns_total", "name"),
    "pacing": ("pacing_percent", "name"),
    "-pacing": ("-pacing_percent", "name"),
}


def _current_spend(period: str) -> Coalesce:
    rollup = BrandSpend.objects.filter(
        brand_id=OuterRef("pk"), period=period, period_start=OuterRef(f"{period}_key")
    ).values("amount")[:1]
    money = DecimalField(max_digits=TOTAL_DIGITS, decimal_places=6)
    return Coalesce(Subquery(rollup, output_field=money), Value(ZERO), output_field=money)


def brands_list(
    *,
    user: AnyUser | None,
    todays: dict[str, dt.date],
    search: str = "",
    currency: str = "",
    over: str = "",
    sort: str = "name",
    archived: bool = False,
    pacing: str = "",
    now: dt.datetime | None = None,
) -> QuerySet[Brand]:
    """Brands, searched, filtered to those at a cap or of a pacing status, and
    sorted (by utilisation and pacing too).

    The archived brands instead of the others when `archived`. Pacing is
    computed in SQL (spend.pacing.with_pacing) only when filtered or sorted on.

    Utilisation is computed in SQL from each brand's own current rollups, so
    the sort is right across every page; the figures printed come from
    spend.selectors for the page's brands.
    """
    brands = visible_brands(user).filter(archived_at__isnull=not archived)
    if search:
        brands = brands.filter(name__icontains=search)
    if currency:
        brands = brands.filter(currency=currency)
    if over:
        brands = _at_cap(brands, todays, user=user, over=over)
    order = BRAND_SORTS[sort]
    needs = {key.lstrip("-") for key in order}
    if pacing or "pacing_percent" in needs:
        brands = with_pacing(brands, todays, now=now)
        if pacing:
            brands = brands.filter(pacing_status_q(pacing))
    return _with_sort_keys(brands, todays, needs).order_by(*order)


def _at_cap(
    brands: QuerySet[Brand], todays: dict[str, dt.date], *, user: AnyUser | None, over: str
) -> QuerySet[Brand]:
    """The brands at their daily (`over="daily"`) or monthly cap: one query."""
    period = Period.DAY if over == "daily" else Period.MONTH
    cap = "brand__daily_budget" if over == "daily" else "brand__monthly_budget"
    # * brands at their cap, read once as ids: the count and the page then
    #   look brands up by primary key instead of repeating the search
    at_cap = BrandSpend.objects.filter(
        current_period_q(todays, period),
        brand_q(user, brand_field="brand_id"),
        amount__gte=F(cap),
    )
    return brands.filter(pk__in=list(at_cap.values_list("brand_id", flat=True)))


def _with_sort_keys(
    brands: QuerySet[Brand], todays: dict[str, dt.date], needs: set[str]
) -> QuerySet[Brand]:
    """The SQL sort keys the order needs: current daily or monthly use, campaigns."""
    share = DecimalField(max_digits=30, decimal_places=10)
    for period, cap in ((Period.DAY, "daily_budget"), (Period.MONTH, "monthly_budget")):
        use = "daily_use" if period == Period.DAY else "monthly_use"
        if use in needs:
            brands = brands.annotate(
                **{f"{period}_key": _current_key_case(todays, period)}
            ).annotate(
                **{use: ExpressionWrapper(_current_spend(period) / F(cap), output_field=share)}
            )
    if "campaigns_total" in needs:
        count = (
            Campaign.objects.filter(brand_id=OuterRef("pk"))
            .order_by()
            .values("brand_id")
            .annotate(n=Count("id"))
            .values("n")
        )
        brands = brands.annotate(campaigns_total=Coalesce(Subquery(count), 0))
    return brands


@dataclass(frozen=True)
class CampaignCounts:
    total: int = 0
    active: int = 0

    @property
    def paused(self) -> int:
        return self.total - self.active


def campaign_counts(*, field: str, ids: Sequence[int]) -> dict[int, CampaignCounts]:
    """Campaigns and active campaigns per brand (field="brand_id") or budget: one query."""
    if not ids:
        return {}
    # * campaigns of these brands (or budgets), counted by status
    rows = (
        Campaign.objects.filter(**{f"{field}__in": list(ids)})
        .order_by()
        .values_list(field)
        .annotate(total=Count("id"), active=Count("id", filter=Q(status=Status.ACTIVE)))
        .values_list(field, "total", "active")
    )
    return {pk: CampaignCounts(total, active) for pk, total, active in rows}


@dataclass(frozen=True)
class BrandRow:
    brand: Brand
    totals: PeriodTotals
    campaigns: CampaignCounts
    pacing: Pacing | None = None

    @property
    def daily(self) -> Utilisation:
        return Utilisation(self.totals.daily_spend, self.brand.daily_budget)

    @property
    def monthly(self) -> Utilisation:
        return Utilisation(self.totals.monthly_spend, self.brand.monthly_budget)


@dataclass(frozen=True)
class BudgetRow:
    budget: Budget
    totals: PeriodTotals
    campaigns: CampaignCounts

    @property
    def daily(self) -> Utilisation:
        return Utilisation(self.totals.daily_spend, self.budget.daily_limit)

    @property
    def monthly(self) -> Utilisation:
        return Utilisation(self.totals.monthly_spend, self.budget.monthly_limit)


@dataclass(frozen=True)
class CampaignRow:
    campaign: Campaign
    totals: PeriodTotals
    next_serving: NextServing | None = None


def dayparts_by_campaign(campaign_ids: Sequence[int]) -> dict[int, list[Daypart]]:
    """The dayparts of these campaigns, by campaign: one query (none for no ids)."""
    if not campaign_ids:
        return {}
    found: dict[int, list[Daypart]] = defaultdict(list)
    # * the dayparts of these campaigns
    for part in Daypart.objects.filter(campaign_id__in=list(campaign_ids)).order_by("start_time"):
        found[part.campaign_id].append(part)
    return found


def campaign_rows(
    campaigns: Sequence[Campaign], totals: dict[int, PeriodTotals], *, now: dt.datetime
) -> list[CampaignRow]:
    """Rows of a campaign list, each paused one with when it serves again: one
    query for the dayparts of the paused ones, none when every campaign serves.
    Each campaign's brand must be loaded."""
    paused = [c.pk for c in campaigns if c.status != Status.ACTIVE]
    parts = dayparts_by_campaign(paused)
    return [
        CampaignRow(
            campaign,
            totals[campaign.pk],
            next_serving(
                campaign, parts.get(campaign.pk, []), now=now, tz_name=campaign.brand.timezone
            ),
        )
        for campaign in campaigns
    ]


# ---------------------------------------------------------------- budgets, campaigns


def budgets_list(
    *, user: AnyUser | None, brand: Brand | None = None, search: str = ""
) -> QuerySet[Budget]:
    budgets = Budget.objects.filter(brand_q(user, brand_field="brand_id")).select_related("brand")
    if brand is not None:
        budgets = budgets.filter(brand=brand)
    if search:
        brands = Brand.objects.filter(name__icontains=search).values("pk")
        budgets = budgets.filter(Q(name__icontains=search) | Q(brand_id__in=brands))
    return budgets.order_by("brand__name", "name", "id")


def campaigns_list(
    *,
    user: AnyUser | None,
    brand: Brand | None = None,
    budget: Budget | None = None,
    search: str = "",
    status: str = "",
    reason: str = "",
    archived: bool = False,
) -> QuerySet[Campaign]:
    """The archived campaigns (by themselves or by their brand) instead of the others
    when `archived`."""
    campaigns = Campaign.objects.filter(brand_q(user, brand_field="brand_id")).select_related(
        "brand", "budget"
    )
    archived_q = Q(archived_at__isnull=False) | Q(brand__archived_at__isnull=False)
    campaigns = campaigns.filter(archived_q) if archived else campaigns.exclude(archived_q)
    if brand is not None:
        campaigns = campaigns.filter(brand=brand)
    if budget is not None:
        campaigns = campaigns.filter(budget=budget)
    if status:
        campaigns = campaigns.filter(status=status)
    if reason:
        campaigns = campaigns.filter(pause_reason=reason)
    if search:
        campaigns = _campaigns_matching(campaigns, search)
    return campaigns.order_by("brand__name", "name", "id")


SEARCH_IDS = 1_000


def _campaigns_matching(campaigns: QuerySet[Campaign], search: str) -> QuerySet[Campaign]:
    """A name search reads every campaign once: one query, whatever the page.

    Brands are matched first (10,000 rows) rather than joined to every
    campaign row. A search that matches up to a thousand campaigns is read
    once, as ids, so that the count and the page look them up by primary key
    instead of repeating the scan; a broader one is left to the database.
    """
    brands = Brand.objects.filter(name__icontains=search).values("pk")
    matching = campaigns.filter(Q(name__icontains=search) | Q(brand_id__in=brands))
    # * the matching campaigns' ids (at most one more than SEARCH_IDS)
    ids = list(matching.order_by().values_list("pk", flat=True)[: SEARCH_IDS + 1])
    return matching if len(ids) > SEARCH_IDS else campaigns.filter(pk__in=ids)


# ---------------------------------------------------------------- series


def daily_series(
    rollups: "QuerySet[M]", *, first: dt.date, last: dt.date
) -> dict[dt.date, Decimal]:
    """Day rollups of one owner (a filtered BrandSpend/BudgetSpend/CampaignSpend
    queryset) from first to last: one query. Days without spend are absent."""
    # * the owner's day rollups in the range
    rows = (
        rollups.filter(period=Period.DAY, period_start__gte=first, period_start__lte=last)
        .order_by()
        .values_list("period_start", "amount")
    )
    return dict(rows)


CHART_DAYS = 30


@dataclass(frozen=True)
class ChartDays:
    """The last 30 local days (first..today) and what to read for both charts."""

    first: dt.date
    fetch_from: dt.date  # the earlier of `first` and the 1st of this month


def chart_days(today: dt.date) -> ChartDays:
    first = today - dt.timedelta(days=CHART_DAYS - 1)
    return ChartDays(first=first, fetch_from=min(first, today.replace(day=1)))


def brand_feeds(brand: Brand, *, today: dt.date) -> list[SpendFeed]:
    """The spend feeds that may post for `brand`, each with `events_today`: the
    events it recorded for the brand on the brand's local `today`. One query.

    The day's events are found by their time (the ledger's brand-and-time
    index), then by `local_date`, which is what the day means.
    """
    start, end = day_bounds_utc(today, brand.timezone)
    todays_events = (
        SpendEvent.objects.filter(
            brand_id=brand.pk,
            occurred_at__gte=start,
            occurred_at__lt=end,
            local_date=today,
            source=OuterRef("name"),
        )
        .order_by()
        .values("source")
        .annotate(events=Count("id"))
        .values("events")
    )
    feeds = SpendFeed.objects.filter(brands=brand).annotate(
        events_today=Coalesce(Subquery(todays_events), Value(0))
    )
    return list(feeds.order_by("name"))


def todays_spend_by_hour(brand: Brand, *, today: dt.date) -> list[tuple[dt.datetime, Decimal]]:
    """The brand's spend of its local `today`, summed by local wall-clock hour
    (each hour's aware start): one query on the ledger's brand-and-time index.

    In the repeated hour of a fall-back day both passes fall in one bucket.
    """
    start, end = day_bounds_utc(today, brand.timezone)
    # * today's events of the brand, summed by local hour
    rows = (
        SpendEvent.objects.filter(
            brand_id=brand.pk, occurred_at__gte=start, occurred_at__lt=end, local_date=today
        )
        .annotate(hour=TruncHour("occurred_at", tzinfo=zone(brand.timezone)))
        .order_by()
        .values("hour")
        .annotate(total=Sum("amount"))
        .values_list("hour", "total")
    )
    return list(rows)
