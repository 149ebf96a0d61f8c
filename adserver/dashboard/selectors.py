"""Reads for the dashboard pages that no other part of the project needs.

Current-period totals come from `spend.selectors`; this module adds what is
page-specific: filtered and sorted lists, the per-currency figures of the
overview, day-by-day series for the charts and the keyset-paged spend log.
Every function runs a fixed number of queries (named in its docstring),
whatever the number of rows, and loads the related rows its page prints.

Dates that filter a list are brand-local days: a spend event, alert or status
change of a brand in Tokyo "on March 10" happened on Tokyo's March 10.
"""

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TypeVar

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
)
from django.db.models.functions import Coalesce

from adserver.dashboard.charts import level
from budgets.models import Alert, Brand, Budget, Period
from budgets.periods import day_start_utc, month_start
from campaigns.models import Campaign, CampaignStatusChange, Status
from spend.models import TOTAL_DIGITS, BrandSpend, SpendEvent
from spend.selectors import PeriodTotals

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
        return None if self.cap is None else self.cap - self.spend

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


def current_period_q(todays: Mapping[str, dt.date], period: str, *, tz_path: str) -> Q:
    """Rows (rollups, alerts) of `period` that are the current one in their brand's zone.

    `todays` maps each time zone in use to its local date (local_todays_by_zone);
    the world spans at most three dates, so this is a short OR of IN lists.
    """
    zones_by_key: dict[dt.date, list[str]] = defaultdict(list)
    for tz, day in todays.items():
        zones_by_key[_period_key(day, period)].append(tz)
    condition = Q(pk__in=[])
    for key, zones in sorted(zones_by_key.items()):
        condition |= Q(period_start=key, **{f"{tz_path}__in": sorted(zones)})
    return Q(period=period) & condition


def _current_key_case(todays: Mapping[str, dt.date], period: str) -> Case:
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


def local_days_q(
    *,
    field: str,
    tz_path: str,
    zones: Sequence[str],
    first: dt.date | None,
    last: dt.date | None,
) -> Q:
    """Instants in `field` that fall on the brand-local days first..last (inclusive).

    Zones whose days begin at the same UTC instants share one condition, so
    the OR stays as short as the number of distinct UTC offsets in use.
    """
    if first is None and last is None:
        return Q()
    zones_by_bounds: dict[tuple[dt.datetime | None, dt.datetime | None], list[str]]
    zones_by_bounds = defaultdict(list)
    for tz in zones:
        start = day_start_utc(first, tz) if first is not None else None
        end = day_start_utc(last + dt.timedelta(days=1), tz) if last is not None else None
        zones_by_bounds[(start, end)].append(tz)
    condition = Q(pk__in=[])
    for (start, end), group in sorted(
        zones_by_bounds.items(), key=lambda item: (item[0][0] or item[0][1], item[0][1])
    ):
        bounds = Q(**{f"{tz_path}__in": sorted(group)})
        if start is not None:
            bounds &= Q(**{f"{field}__gte": start})
        if end is not None:
            bounds &= Q(**{f"{field}__lt": end})
        condition |= bounds
    # The widest bounds of all zones, so that the time index can narrow the rows.
    starts = [start for start, _ in zones_by_bounds if start is not None]
    ends = [end for _, end in zones_by_bounds if end is not None]
    if starts:
        condition &= Q(**{f"{field}__gte": min(starts)})
    if ends:
        condition &= Q(**{f"{field}__lt": max(ends)})
    return condition


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


def todays_spend_by_currency(todays: Mapping[str, dt.date]) -> list[CurrencyToday]:
    """Today's total spend and daily budget per currency: two queries.

    Totals are never added across currencies: 100 USD and 100 INR are not 200
    of anything.
    """
    # * daily budgets and brand counts grouped by currency
    budgets = (
        Brand.objects.order_by("currency")
        .values_list("currency")
        .annotate(total=Sum("daily_budget"), brands=Count("id"))
    )
    # * today's day rollups (each brand's own today) grouped by currency
    spend = dict(
        BrandSpend.objects.filter(current_period_q(todays, Period.DAY, tz_path="brand__timezone"))
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


def open_alerts(todays: Mapping[str, dt.date]) -> QuerySet[Alert]:
    """Alerts of each brand's current day or month that nobody has acknowledged."""
    current = current_period_q(todays, Period.DAY, tz_path="brand__timezone") | current_period_q(
        todays, Period.MONTH, tz_path="brand__timezone"
    )
    return (
        Alert.objects.filter(current, acknowledged_at__isnull=True)
        .select_related("brand", "budget")
        .order_by("-raised_at", "-id")
    )


def latest_status_changes() -> QuerySet[CampaignStatusChange]:
    return CampaignStatusChange.objects.select_related("campaign__brand", "user").order_by(
        "-changed_at", "-id"
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
}


def _current_spend(period: str) -> Coalesce:
    rollup = BrandSpend.objects.filter(
        brand_id=OuterRef("pk"), period=period, period_start=OuterRef(f"{period}_key")
    ).values("amount")[:1]
    money = DecimalField(max_digits=TOTAL_DIGITS, decimal_places=6)
    return Coalesce(Subquery(rollup, output_field=money), Value(ZERO), output_field=money)


def brands_list(
    *,
    todays: Mapping[str, dt.date],
    search: str = "",
    currency: str = "",
    over: str = "",
    sort: str = "name",
) -> QuerySet[Brand]:
    """Brands, searched, filtered to those at a cap, and sorted (by utilisation too).

    Utilisation is computed in SQL from each brand's own current rollups, so
    the sort is right across every page; the figures printed come from
    spend.selectors for the page's brands.
    """
    brands = Brand.objects.all()
    if search:
        brands = brands.filter(name__icontains=search)
    if currency:
        brands = brands.filter(currency=currency)
    if over:
        period = Period.DAY if over == "daily" else Period.MONTH
        cap = "brand__daily_budget" if over == "daily" else "brand__monthly_budget"
        # * brands at their cap, read once as ids: the count and the page then
        #   look brands up by primary key instead of repeating the search
        at_cap = BrandSpend.objects.filter(
            current_period_q(todays, period, tz_path="brand__timezone"), amount__gte=F(cap)
        )
        brands = brands.filter(pk__in=list(at_cap.values_list("brand_id", flat=True)))
    order = BRAND_SORTS[sort]
    needs = {key.lstrip("-") for key in order}
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
    return brands.order_by(*order)


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


# ---------------------------------------------------------------- budgets, campaigns


def budgets_list(*, brand: Brand | None = None, search: str = "") -> QuerySet[Budget]:
    budgets = Budget.objects.select_related("brand")
    if brand is not None:
        budgets = budgets.filter(brand=brand)
    if search:
        brands = Brand.objects.filter(name__icontains=search).values("pk")
        budgets = budgets.filter(Q(name__icontains=search) | Q(brand_id__in=brands))
    return budgets.order_by("brand__name", "name", "id")


def campaigns_list(
    *,
    brand: Brand | None = None,
    budget: Budget | None = None,
    search: str = "",
    status: str = "",
    reason: str = "",
) -> QuerySet[Campaign]:
    campaigns = Campaign.objects.select_related("brand", "budget")
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


# ---------------------------------------------------------------- spend log


EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


@dataclass(frozen=True)
class Cursor:
    """A position in the spend log, newest first: (occurred_at, id)."""

    occurred_at: dt.datetime
    id: int

    def encode(self) -> str:
        micros = (self.occurred_at - EPOCH) // dt.timedelta(microseconds=1)
        return f"{micros}_{self.id}"

    @classmethod
    def decode(cls, value: str) -> "Cursor":
        """Raises ValueError for anything that is not a cursor this page made."""
        micros, _, pk = value.partition("_")
        if not micros.lstrip("-").isdigit() or not pk.isdigit():
            raise ValueError(value)
        return cls(EPOCH + dt.timedelta(microseconds=int(micros)), int(pk))

    @classmethod
    def of(cls, event: SpendEvent) -> "Cursor":
        return cls(event.occurred_at, event.pk)


@dataclass(frozen=True)
class SpendPage:
    events: list[SpendEvent]
    newer: Cursor | None
    older: Cursor | None


def spend_events_filtered(
    *,
    brand: Brand | None = None,
    campaign: Campaign | None = None,
    kind: str = "",
    first: dt.date | None = None,
    last: dt.date | None = None,
) -> QuerySet[SpendEvent]:
    events = SpendEvent.objects.select_related("campaign", "brand")
    if brand is not None:
        events = events.filter(brand=brand)
    if campaign is not None:
        events = events.filter(campaign=campaign)
    if kind:
        events = events.filter(kind=kind)
    # local_date is exact; the wider occurred_at bounds (no zone is more than
    # a day from UTC) let the time index find the rows.
    if first is not None:
        start = dt.datetime.combine(first - dt.timedelta(days=1), dt.time.min, tzinfo=dt.UTC)
        events = events.filter(local_date__gte=first, occurred_at__gte=start)
    if last is not None:
        end = dt.datetime.combine(last + dt.timedelta(days=2), dt.time.min, tzinfo=dt.UTC)
        events = events.filter(local_date__lte=last, occurred_at__lt=end)
    return events


def spend_page(
    events: QuerySet[SpendEvent],
    *,
    before: Cursor | None = None,
    after: Cursor | None = None,
    size: int = 50,
) -> SpendPage:
    """One page of the log, newest first, by keyset: one query, no COUNT(*).

    With a million events an OFFSET page or a total count would read the whole
    ledger; a cursor reads only the rows it shows (plus one to know if more).
    """
    if after is not None:
        # * the page just newer than the cursor, read oldest first, then reversed
        newer_rows = list(
            events.filter(
                Q(occurred_at__gt=after.occurred_at)
                | Q(occurred_at=after.occurred_at, id__gt=after.id),
                occurred_at__gte=after.occurred_at,
            ).order_by("occurred_at", "id")[: size + 1]
        )
        more = len(newer_rows) > size
        rows = list(reversed(newer_rows[:size]))
        return SpendPage(
            events=rows,
            newer=Cursor.of(rows[0]) if more and rows else None,
            older=Cursor.of(rows[-1]) if rows else None,
        )
    if before is not None:
        events = events.filter(
            Q(occurred_at__lt=before.occurred_at)
            | Q(occurred_at=before.occurred_at, id__lt=before.id),
            occurred_at__lte=before.occurred_at,
        )
    # * the page, newest first, one row more than shown
    rows = list(events.order_by("-occurred_at", "-id")[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    return SpendPage(
        events=rows,
        newer=Cursor.of(rows[0]) if before is not None and rows else None,
        older=Cursor.of(rows[-1]) if more else None,
    )


# ---------------------------------------------------------------- alerts, history


def alerts_list(
    *,
    todays: Mapping[str, dt.date],
    brand: Brand | None = None,
    period: str = "",
    threshold: int | None = None,
    state: str = "",
    first: dt.date | None = None,
    last: dt.date | None = None,
) -> QuerySet[Alert]:
    """Alerts newest first; `state` is "open" (current period, not acknowledged),
    "acknowledged" or "" (all); first..last are brand-local days of raised_at."""
    alerts = (
        open_alerts(todays) if state == "open" else Alert.objects.select_related("brand", "budget")
    )
    if state == "acknowledged":
        alerts = alerts.filter(acknowledged_at__isnull=False)
    if brand is not None:
        alerts = alerts.filter(brand=brand)
    if period:
        alerts = alerts.filter(period=period)
    if threshold is not None:
        alerts = alerts.filter(threshold=threshold)
    zones = [brand.timezone] if brand is not None else sorted(todays)
    alerts = alerts.filter(
        local_days_q(
            field="raised_at", tz_path="brand__timezone", zones=zones, first=first, last=last
        )
    )
    return alerts.order_by("-raised_at", "-id")


def status_changes_list(
    *,
    zones: Sequence[str],
    brand: Brand | None = None,
    campaign: Campaign | None = None,
    status: str = "",
    reason: str = "",
    actor: str = "",
    first: dt.date | None = None,
    last: dt.date | None = None,
) -> QuerySet[CampaignStatusChange]:
    """Status history newest first; first..last are brand-local days of changed_at."""
    changes = latest_status_changes()
    if brand is not None:
        changes = changes.filter(campaign__brand=brand)
        zones = [brand.timezone]
    if campaign is not None:
        changes = changes.filter(campaign=campaign)
        zones = [campaign.brand.timezone]
    if status:
        changes = changes.filter(new_status=status)
    if reason:
        changes = changes.filter(new_reason=reason)
    if actor:
        changes = changes.filter(actor=actor)
    return changes.filter(
        local_days_q(
            field="changed_at",
            tz_path="campaign__brand__timezone",
            zones=zones,
            first=first,
            last=last,
        )
    )
