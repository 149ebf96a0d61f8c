"""The dashboard's pages: overview, brands, budgets and campaigns.

Views parse the filters, call selectors and render. Every page runs a fixed
number of queries whatever the number of rows (see the tests). A request
sent by htmx's polling (header HX-Request) gets only the page's live part.

Access is `budgets.access`'s: every list and figure holds only the brands
the user may see, a detail page of another brand's row is a 404 (as if it
did not exist), and pausing or resuming needs the brand's manager (403).
"""

import datetime as dt
from collections.abc import Callable, Mapping
from functools import wraps
from typing import Any, TypeVar

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.core.paginator import EmptyPage, Page, Paginator
from django.db.models import Model, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render, resolve_url
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.functional import cached_property
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from adserver.dashboard import charts, exports, forms
from adserver.dashboard.selectors import (
    BrandRow,
    BudgetRow,
    CampaignCounts,
    Utilisation,
    brand_feeds,
    brands_list,
    brands_near_cap,
    brands_pacing_counts,
    budgets_list,
    budgets_near_cap,
    campaign_counts,
    campaign_rows,
    campaigns_list,
    chart_days,
    daily_series,
    latest_status_changes,
    open_alerts,
    todays_spend_by_currency,
    todays_spend_by_hour,
)
from budgets.access import AnyUser, manages_all_brands, may_manage_brand, scope_to_visible
from budgets.models import Brand, Budget, Delivery, Period, SettingChange
from budgets.pacing import Pacing, month_clock
from budgets.periods import local_date, zone
from campaigns import services
from campaigns.models import Campaign, PauseReason
from campaigns.next_serving import next_serving
from spend.models import BrandSpend, BudgetSpend, CampaignSpend
from spend.pacing import brand_pacing
from spend.selectors import (
    brand_current_totals,
    budget_current_totals,
    campaign_current_totals,
    local_todays_by_zone,
    status_overview,
)

PAGE_SIZE = 50
ON_DETAIL_PAGE = 10
CHANGES_PER_PAGE = 20
CAMPAIGNS_ON_DETAIL_PAGE = 100

View = TypeVar("View", bound=Callable[..., HttpResponseBase])
M = TypeVar("M", bound=Model)


def is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def dashboard_view(view: View) -> View:
    """Login required; an expired session during live refresh reloads to the login page."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if request.user.is_authenticated:
            return view(request, *args, **kwargs)
        if is_htmx(request):
            # Swapping the login form into a table would be confusing: go there.
            response = HttpResponse(status=204)
            login = resolve_url("login")
            response["HX-Redirect"] = f"{login}?{urlencode({'next': request.get_full_path()})}"
            return response
        return redirect_to_login(request.get_full_path())

    return wrapper  # type: ignore[return-value]


def page(
    request: HttpRequest,
    template: str,
    context: Mapping[str, Any],
    *,
    live: str | None = None,
    status: int = 200,
) -> HttpResponse:
    """The whole page, or only its live part when htmx polls for fresh figures."""
    name = live if live is not None and is_htmx(request) else template
    context = {**context, "refresh_seconds": settings.DASHBOARD_REFRESH_SECONDS}
    response = render(request, name, context, status=status)
    patch_vary_headers(response, ["HX-Request"])
    return response


class BoundedPaginator(Paginator):  # type: ignore[type-arg]
    """Page numbers reach the first 10,000 rows of a list; the filters reach the rest.

    An OFFSET deep into 100,000 campaigns, or a COUNT over a million-row log,
    costs as much as reading them all. With `count_all` off the count stops
    at the same bound (COUNT over a LIMIT, unordered so it stops early) and
    the page says "10,000+".
    """

    max_rows = 10_000

    def __init__(self, object_list: QuerySet[Any], per_page: int, *, count_all: bool) -> None:
        super().__init__(object_list, per_page)
        self.count_all = count_all

    @cached_property
    def count(self) -> int:
        items: QuerySet[Any] = self.object_list  # type: ignore[assignment]
        if self.count_all:
            return items.count()
        return items.order_by().values("pk")[: self.max_rows + 1].count()

    @property
    def capped(self) -> bool:
        return self.count > self.max_rows

    @cached_property
    def num_pages(self) -> int:
        return max(1, -(-min(self.count, self.max_rows) // self.per_page))

    def page(self, number: int | str) -> Page[Any]:
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = min(bottom + self.per_page, self.max_rows)
        return Page(self.object_list[bottom:top], number, self)


def paginate(
    items: QuerySet[M], number: int, *, count_all: bool = True, max_rows: int | None = None
) -> Page[M]:
    """A page of a list (one COUNT, one SELECT); past the last page is a 404."""
    paginator = BoundedPaginator(items, PAGE_SIZE, count_all=count_all)
    if max_rows is not None:
        paginator.max_rows = max_rows
    try:
        return paginator.page(number)
    except EmptyPage:
        raise Http404("No such page.") from None


def visible_or_404(queryset: QuerySet[M], user: AnyUser, *, brand_field: str, pk: int) -> M:
    """The row `pk` if `user` may see its brand: otherwise a 404, as for a row that
    does not exist, so that a page never tells whether another brand's row exists.
    One query: the narrowing is a subquery of it."""
    return get_object_or_404(scope_to_visible(queryset, user, brand_field=brand_field), pk=pk)


def acting_user(request: HttpRequest) -> AbstractBaseUser:
    if not isinstance(request.user, AbstractBaseUser):
        raise PermissionDenied
    return request.user


# ---------------------------------------------------------------- overview


@dashboard_view
@require_GET
def overview(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    todays = local_todays_by_zone(now=now)
    brands_near = brands_near_cap(todays, user=request.user)
    at_cap = (brands_near.at_daily_cap, brands_near.at_monthly_cap)
    status = status_overview(user=request.user, now=now, todays=todays, over_cap_counts=at_cap)
    alerts = open_alerts(todays, user=request.user)
    reasons = [
        (reason.value, reason.label, status.paused_by_reason.get(reason.value, 0))
        for reason in PauseReason
    ]
    context = {
        "status": status,
        "reasons": reasons,
        "currencies": todays_spend_by_currency(todays, user=request.user),
        "near_caps": sorted(
            [*brands_near.shown, *budgets_near_cap(todays, user=request.user)],
            key=lambda near: -(near.utilisation.percent or 0),
        ),
        "pacing_counts": brands_pacing_counts(todays, user=request.user, now=now),
        "open_alerts_count": alerts.count(),
        "open_alerts": list(alerts[:ON_DETAIL_PAGE]),
        "changes": list(latest_status_changes(user=request.user)[:ON_DETAIL_PAGE]),
    }
    return page(
        request,
        "dashboard/overview.html",
        context,
        live="dashboard/includes/_overview_live.html",
    )


# ---------------------------------------------------------------- brands


def _next_sorts(current: str) -> dict[str, str]:
    """The sort each column header links to: the same column flips direction."""
    links = {}
    for key in ("name", "daily", "monthly", "campaigns", "pacing"):
        first = key if key == "name" else f"-{key}"
        flipped = first[1:] if first.startswith("-") else f"-{first}"
        links[key] = flipped if current == first else first
    return links


def _brand_rows(listed: list[Brand], *, now: dt.datetime) -> list[BrandRow]:
    """The figures of a page of brands: four queries (totals, campaign counts, pacing's two)."""
    totals = brand_current_totals(listed, now=now)
    counts = campaign_counts(field="brand_id", ids=[brand.pk for brand in listed])
    pacing = brand_pacing(listed, now=now)
    return [
        BrandRow(brand, totals[brand.pk], counts.get(brand.pk, CampaignCounts()), pacing[brand.pk])
        for brand in listed
    ]


@dashboard_view
@require_GET
def brand_list(request: HttpRequest) -> HttpResponseBase:
    form = forms.BrandFilterForm(request.GET)
    # Django caches the permissions the overview's access already read: no query.
    context: dict[str, Any] = {"form": form, "may_add_brand": manages_all_brands(request.user)}
    if not form.is_valid():
        return page(request, "dashboard/brand_list.html", context, status=400)
    now = timezone.now()
    sort = form.cleaned_data["sort"] or "name"
    brands = brands_list(
        user=request.user,
        todays=local_todays_by_zone(now=now),
        search=form.cleaned_data["q"],
        currency=form.cleaned_data["currency"],
        over=form.cleaned_data["over"],
        sort=sort,
        archived=form.cleaned_data["archived"],
        pacing=form.cleaned_data["pacing"],
        now=now,
    )
    if form.wants_csv():
        return exports.csv_response(
            "brands", exports.BRAND_HEADER, exports.brand_rows(brands, now=now)
        )
    results = paginate(brands, form.page_number())
    context |= {
        "page": results,
        "rows": _brand_rows(list(results), now=now),
        "sort": sort,
        "sorts": _next_sorts(sort),
    }
    return page(
        request,
        "dashboard/brand_list.html",
        context,
        live="dashboard/includes/_brand_table.html",
    )


@dashboard_view
@require_GET
def brand_detail(request: HttpRequest, pk: int) -> HttpResponse:
    changes_form = forms.ChangesPageForm(request.GET)
    if not changes_form.is_valid():
        return page(request, "dashboard/bad_request.html", {"form": changes_form}, status=400)
    brand = visible_or_404(Brand.objects.all(), request.user, brand_field="id", pk=pk)
    now = timezone.now()
    today = local_date(now, brand.timezone)
    totals = brand_current_totals([brand], now=now)[brand.pk]
    campaigns = list(campaigns_list(user=request.user, brand=brand)[:CAMPAIGNS_ON_DETAIL_PAGE])
    campaign_totals = campaign_current_totals(campaigns, now=now)
    days = chart_days(today)
    series = daily_series(BrandSpend.objects.filter(brand=brand), first=days.fetch_from, last=today)
    context = {
        "brand": brand,
        # * the user's role on the brand (none for an agency admin)
        "may_manage": may_manage_brand(request.user, brand.pk),
        "today": today,
        "daily": Utilisation(totals.daily_spend, brand.daily_budget),
        "monthly": Utilisation(totals.monthly_spend, brand.monthly_budget),
        "counts": campaign_counts(field="brand_id", ids=[brand.pk]).get(brand.pk, CampaignCounts()),
        "budget_rows": _brand_budget_rows(brand, now=now),
        "campaign_rows": campaign_rows(campaigns, campaign_totals, now=now),
        "campaigns_shown": CAMPAIGNS_ON_DETAIL_PAGE,
        "daily_chart": charts.daily_bars(
            series, first=days.first, last=today, cap=brand.daily_budget
        ),
        **_pacing_context(brand, now=now, series=series),
        **_brand_history(request, brand, changes_page=changes_form.page_number()),
        "feeds": brand_feeds(brand, today=today),
    }
    return page(
        request,
        "dashboard/brand_detail.html",
        context,
        live="dashboard/includes/_brand_live.html",
    )


def _brand_budget_rows(brand: Brand, *, now: dt.datetime) -> list[BudgetRow]:
    """The brand's shared budgets with their totals and campaign counts: three queries."""
    budgets = list(Budget.objects.filter(brand=brand).order_by("name"))
    for budget in budgets:
        budget.brand = brand  # already loaded: no query per budget
    totals = budget_current_totals(budgets, now=now)
    counts = campaign_counts(field="budget_id", ids=[budget.pk for budget in budgets])
    return [BudgetRow(b, totals[b.pk], counts.get(b.pk, CampaignCounts())) for b in budgets]


def _brand_history(request: HttpRequest, brand: Brand, *, changes_page: int) -> dict[str, Any]:
    """The brand page's latest alerts, status changes and page of setting changes."""
    alerts = brand.alerts.select_related("budget", "acknowledged_by")
    status_changes = latest_status_changes(user=request.user).filter(campaign__brand=brand)
    return {
        "alerts": list(alerts.order_by("-raised_at", "-id")[:10]),
        "changes": list(status_changes[:ON_DETAIL_PAGE]),
        "settings_changes": _settings_changes(brand.pk, changes_page),
    }


def _pacing_context(
    brand: Brand, *, now: dt.datetime, series: Mapping[dt.date, Any]
) -> dict[str, Any]:
    """The brand's pacing, today's chart by hour and the month's chart with its
    projection: four queries (the pacing's three, today's spend by hour)."""
    pacing: Pacing | None = brand_pacing([brand], now=now)[brand.pk]
    if pacing is None:  # pragma: no cover - a brand always has a monthly budget
        raise ValueError("a brand has a monthly budget")
    clock = month_clock(now, brand.timezone)
    day = charts.Day(
        start=clock.day_start,
        end=clock.day_end,
        now=now,
        tz=zone(brand.timezone),
        serving_ends_at=pacing.serving_ends_at,
    )
    hours = todays_spend_by_hour(brand, today=clock.today)
    projection = charts.Projection(pacing.month_projected, pacing.month_cap_reached_on)
    standard = brand.delivery == Delivery.STANDARD
    return {
        "pacing": pacing,
        "intraday_chart": charts.intraday(
            hours,
            day=day,
            cap=brand.daily_budget,
            rate_per_hour=pacing.day_rate_per_hour,
            serving=pacing.serving_windows if standard else None,
        ),
        "month_chart": charts.month_cumulative(
            series, today=clock.today, cap=brand.monthly_budget, projection=projection
        ),
    }


def _settings_changes(brand_id: int, number: int) -> Page[SettingChange]:
    """A page of the brand's settings trail, newest first: a COUNT and a SELECT."""
    trail = SettingChange.objects.filter(brand_id=brand_id).order_by("-changed_at", "-id")
    paginator = BoundedPaginator(trail, CHANGES_PER_PAGE, count_all=True)
    try:
        return paginator.page(number)
    except EmptyPage:
        raise Http404("No such page.") from None


# ---------------------------------------------------------------- budgets


@dashboard_view
@require_GET
def budget_list(request: HttpRequest) -> HttpResponseBase:
    form = forms.BudgetFilterForm(request.GET, user=request.user)
    context: dict[str, Any] = {"form": form}
    if not form.is_valid():
        return page(request, "dashboard/budget_list.html", context, status=400)
    now = timezone.now()
    brand = form.cleaned_data["brand"]
    budgets_found = budgets_list(user=request.user, brand=brand, search=form.cleaned_data["q"])
    if form.wants_csv():
        return exports.csv_response(
            "budgets", exports.BUDGET_HEADER, exports.budget_rows(budgets_found, now=now)
        )
    results = paginate(budgets_found, form.page_number())
    budgets = list(results)
    totals = budget_current_totals(budgets, now=now)
    counts = campaign_counts(field="budget_id", ids=[budget.pk for budget in budgets])
    context |= {
        "brand": brand,
        "page": results,
        "rows": [BudgetRow(b, totals[b.pk], counts.get(b.pk, CampaignCounts())) for b in budgets],
    }
    return page(
        request,
        "dashboard/budget_list.html",
        context,
        live="dashboard/includes/_budget_table.html",
    )


@dashboard_view
@require_GET
def budget_detail(request: HttpRequest, pk: int) -> HttpResponse:
    budget = visible_or_404(
        Budget.objects.select_related("brand"), request.user, brand_field="brand_id", pk=pk
    )
    brand = budget.brand
    now = timezone.now()
    today = local_date(now, brand.timezone)
    totals = budget_current_totals([budget], now=now)[budget.pk]
    campaigns = list(campaigns_list(user=request.user, budget=budget)[:CAMPAIGNS_ON_DETAIL_PAGE])
    campaign_totals = campaign_current_totals(campaigns, now=now)
    context = {
        "budget": budget,
        "brand": brand,
        # * the user's role on the brand (none for an agency admin)
        "may_manage": may_manage_brand(request.user, brand.pk),
        "limit_warnings": budget.limits_above_brand_caps(brand),
        "today": today,
        "daily": Utilisation(totals.daily_spend, budget.daily_limit),
        "monthly": Utilisation(totals.monthly_spend, budget.monthly_limit),
        "counts": campaign_counts(field="budget_id", ids=[budget.pk]).get(
            budget.pk, CampaignCounts()
        ),
        "campaign_rows": campaign_rows(campaigns, campaign_totals, now=now),
        "campaigns_shown": CAMPAIGNS_ON_DETAIL_PAGE,
        **_budget_charts(budget, today=today),
        "alerts": list(
            budget.alerts.select_related("acknowledged_by").order_by("-raised_at", "-id")[
                :ON_DETAIL_PAGE
            ]
        ),
    }
    return page(
        request,
        "dashboard/budget_detail.html",
        context,
        live="dashboard/includes/_budget_live.html",
    )


def _budget_charts(budget: Budget, *, today: dt.date) -> dict[str, Any]:
    """The budget page's day bars and month curve, from one read of its day rollups."""
    days = chart_days(today)
    series = daily_series(
        BudgetSpend.objects.filter(budget=budget), first=days.fetch_from, last=today
    )
    return {
        "daily_chart": charts.daily_bars(
            series, first=days.first, last=today, cap=budget.daily_limit
        ),
        "month_chart": charts.month_cumulative(series, today=today, cap=budget.monthly_limit),
    }


# ---------------------------------------------------------------- campaigns


@dashboard_view
@require_GET
def campaign_list(request: HttpRequest) -> HttpResponseBase:
    form = forms.CampaignFilterForm(request.GET, user=request.user)
    context: dict[str, Any] = {"form": form}
    if not form.is_valid():
        return page(request, "dashboard/campaign_list.html", context, status=400)
    data = form.cleaned_data
    campaigns = campaigns_list(
        user=request.user,
        brand=data["brand"],
        budget=data["budget"],
        search=data["q"],
        status=data["status"],
        reason=data["reason"],
        archived=data["archived"],
    )
    now = timezone.now()
    if form.wants_csv():
        return exports.csv_response(
            "campaigns", exports.CAMPAIGN_HEADER, exports.campaign_rows(campaigns, now=now)
        )
    results = paginate(campaigns, form.page_number())
    listed = list(results)
    totals = campaign_current_totals(listed, now=now)
    context |= {
        "brand": data["brand"],
        "budget": data["budget"],
        "page": results,
        "rows": campaign_rows(listed, totals, now=now),
    }
    return page(
        request,
        "dashboard/campaign_list.html",
        context,
        live="dashboard/includes/_campaign_table.html",
    )


def _caps_of(campaign: Campaign, now: dt.datetime) -> dict[str, Utilisation | None]:
    """The brand's and the shared budget's caps the campaign answers to: two queries."""
    brand, budget = campaign.brand, campaign.budget
    # * the brand's current rollups
    brand_totals = brand_current_totals([brand], now=now)[brand.pk]
    caps: dict[str, Utilisation | None] = {
        "brand_daily": Utilisation(brand_totals.daily_spend, brand.daily_budget),
        "brand_monthly": Utilisation(brand_totals.monthly_spend, brand.monthly_budget),
        "budget_daily": None,
        "budget_monthly": None,
    }
    if budget is not None:
        budget.brand = brand  # the same brand (a database invariant): no query
        # * the shared budget's current rollups
        budget_totals = budget_current_totals([budget], now=now)[budget.pk]
        caps["budget_daily"] = Utilisation(budget_totals.daily_spend, budget.daily_limit)
        caps["budget_monthly"] = Utilisation(budget_totals.monthly_spend, budget.monthly_limit)
    return caps


@dashboard_view
@require_GET
def campaign_detail(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = visible_or_404(
        Campaign.objects.select_related("brand", "budget"),
        request.user,
        brand_field="brand_id",
        pk=pk,
    )
    brand = campaign.brand
    now = timezone.now()
    today = local_date(now, brand.timezone)
    dayparts = list(campaign.dayparts.order_by("start_time", "id"))
    caps = _caps_of(campaign, now)
    context = {
        "campaign": campaign,
        "brand": brand,
        "budget": campaign.budget,
        # * the user's role on the brand (none for an agency admin)
        "may_manage": may_manage_brand(request.user, brand.pk),
        "today": today,
        "totals": campaign_current_totals([campaign], now=now)[campaign.pk],
        **caps,
        "next_serving": next_serving(
            campaign, dayparts, now=now, tz_name=brand.timezone, caps_reached=_spent(caps)
        ),
        "dayparts": dayparts,
        "grid": charts.week_grid(dayparts, now_local=now.astimezone(zone(brand.timezone))),
        "daily_chart": _campaign_daily_chart(campaign, today=today),
        "events": list(campaign.spend_events.order_by("-occurred_at", "-id")[:ON_DETAIL_PAGE]),
        "changes": list(
            campaign.status_changes.select_related("user").order_by("-changed_at", "-id")[
                :ON_DETAIL_PAGE
            ]
        ),
    }
    return page(
        request,
        "dashboard/campaign_detail.html",
        context,
        live="dashboard/includes/_campaign_live.html",
    )


def _campaign_daily_chart(campaign: Campaign, *, today: dt.date) -> charts.BarChart:
    days = chart_days(today)
    series = daily_series(
        CampaignSpend.objects.filter(campaign=campaign), first=days.fetch_from, last=today
    )
    return charts.daily_bars(series, first=days.first, last=today, cap=None)


def _spent(caps: dict[str, Utilisation | None]) -> set[str]:
    """The periods ("day", "month") whose caps over the campaign are spent."""
    spent: set[str] = set()
    for name, util in caps.items():
        if util is not None and util.cap is not None and util.spend >= util.cap:
            spent.add(Period.DAY if name.endswith("daily") else Period.MONTH)
    return spent


def _held_by(campaign: Campaign) -> str:
    return str(PauseReason(campaign.pause_reason).label).lower() if campaign.pause_reason else ""


def _managed_campaign_id(request: HttpRequest, pk: int) -> int:
    """The campaign's id if the user manages its brand: a 404 if they may not see
    it (nor may they learn that it exists), a 403 if they only view it."""
    campaign = visible_or_404(
        Campaign.objects.only("id", "brand_id"), request.user, brand_field="brand_id", pk=pk
    )
    if not may_manage_brand(request.user, campaign.brand_id):
        raise PermissionDenied("Only a manager of the brand may pause or resume its campaigns.")
    return campaign.pk


@dashboard_view
@require_http_methods(["GET", "POST"])
def campaign_pause(request: HttpRequest, pk: int) -> HttpResponse:
    """Asks first (GET), with an optional note for the status history; pauses on POST."""
    campaign_id = _managed_campaign_id(request, pk)
    form = forms.PauseForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            campaign = services.campaign_pause(
                campaign_id=campaign_id, user=acting_user(request), note=form.cleaned_data["note"]
            )
        except Campaign.DoesNotExist:
            raise Http404("No such campaign.") from None
        messages.success(request, f"{campaign} is paused until someone resumes it.")
        return redirect(campaign)
    campaign = get_object_or_404(Campaign.objects.select_related("brand"), pk=campaign_id)
    status = 400 if form.is_bound else 200
    return render(
        request,
        "dashboard/campaign_pause.html",
        {"campaign": campaign, "form": form},
        status=status,
    )


@dashboard_view
@require_POST
def campaign_resume(request: HttpRequest, pk: int) -> HttpResponse:
    campaign_id = _managed_campaign_id(request, pk)
    try:
        campaign = services.campaign_resume(campaign_id=campaign_id, user=acting_user(request))
    except Campaign.DoesNotExist:
        raise Http404("No such campaign.") from None
    if campaign.status == "active":
        messages.success(request, f"{campaign} is serving again.")
    else:
        messages.warning(
            request,
            f"The manual pause of {campaign} is lifted; it is still held: {_held_by(campaign)}.",
        )
    return redirect(campaign)
