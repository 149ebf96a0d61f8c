"""The dashboard's logs: spend events, alerts and status history, lists and details.

Date filters are brand-local days. The spend log pages by keyset (no COUNT
over the ledger); alerts and history, which grow far slower, by page number.
"""

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from adserver.dashboard import exports, forms
from adserver.dashboard.log_selectors import (
    alerts_list,
    spend_events_filtered,
    spend_page,
    status_changes_list,
)
from adserver.dashboard.views import (
    acting_user,
    dashboard_view,
    page,
    paginate,
    visible_or_404,
)
from budgets.access import managed_among, may_manage_brand, scope_to_visible
from budgets.models import Alert
from budgets.services import alerts_acknowledge
from campaigns.models import CampaignStatusChange
from spend.alerts import alert_summary
from spend.models import SpendEvent
from spend.selectors import local_todays_by_zone

# Alerts and status changes are read newest first; older ones are reached
# with a date range, so pages (and the count) stop at 2,000 rows: 40 pages.
LOG_PAGES_REACH = 2_000


@dashboard_view
@require_GET
def spend_list(request: HttpRequest) -> HttpResponseBase:
    form = forms.SpendFilterForm(request.GET, user=request.user)
    context: dict[str, Any] = {"form": form}
    if not form.is_valid():
        return page(request, "dashboard/spend_list.html", context, status=400)
    data = form.cleaned_data
    events = spend_events_filtered(
        user=request.user,
        brand=data["brand"],
        campaign=data["campaign"],
        kind=data["kind"],
        first=data["date_from"],
        last=data["date_to"],
    )
    if form.wants_csv():
        return exports.csv_response("spend", exports.SPEND_HEADER, exports.spend_rows(events))
    context |= {
        "brand": data["brand"],
        "campaign": data["campaign"],
        "log": spend_page(events, before=data["before"], after=data["after"]),
        "paged": bool(data["before"] or data["after"]),
    }
    return page(
        request,
        "dashboard/spend_list.html",
        context,
        live="dashboard/includes/_spend_table.html",
    )


@dashboard_view
@require_GET
def spend_detail(request: HttpRequest, pk: int) -> HttpResponse:
    event = visible_or_404(
        SpendEvent.objects.select_related("campaign", "brand", "budget"),
        request.user,
        brand_field="brand_id",
        pk=pk,
    )
    return page(request, "dashboard/spend_detail.html", {"event": event})


@dashboard_view
@require_GET
def alert_list(request: HttpRequest) -> HttpResponseBase:
    form = forms.AlertFilterForm(request.GET, user=request.user)
    context: dict[str, Any] = {"form": form}
    if not form.is_valid():
        return page(request, "dashboard/alert_list.html", context, status=400)
    data = form.cleaned_data
    alerts = alerts_list(
        user=request.user,
        todays=local_todays_by_zone(now=timezone.now()),
        brand=data["brand"],
        period=data["period"],
        threshold=data["threshold"],
        state=data["state"],
        first=data["date_from"],
        last=data["date_to"],
    )
    if form.wants_csv():
        return exports.csv_response("alerts", exports.ALERT_HEADER, exports.alert_rows(alerts))
    results = paginate(alerts, form.page_number(), count_all=False, max_rows=LOG_PAGES_REACH)
    open_brand_ids = {alert.brand_id for alert in results if alert.acknowledged_at is None}
    context |= {
        "brand": data["brand"],
        "page": results,
        # * the user's manager roles among the brands of the open alerts shown
        "acknowledgeable": managed_among(request.user, open_brand_ids),
    }
    return page(
        request,
        "dashboard/alert_list.html",
        context,
        live="dashboard/includes/_alert_table.html",
    )


@dashboard_view
@require_GET
def alert_detail(request: HttpRequest, pk: int) -> HttpResponse:
    alert = visible_or_404(
        Alert.objects.select_related("brand", "budget", "acknowledged_by"),
        request.user,
        brand_field="brand_id",
        pk=pk,
    )
    deliveries = list(alert.deliveries.order_by("channel"))
    context = {
        "alert": alert,
        "alert_summary": alert_summary(alert),
        "deliveries": deliveries,
        # * the user's role on the brand, when the alert is still open
        "may_acknowledge": alert.acknowledged_at is None
        and may_manage_brand(request.user, alert.brand_id),
    }
    return page(request, "dashboard/alert_detail.html", context)


@dashboard_view
@require_POST
def alert_acknowledge(request: HttpRequest) -> HttpResponse:
    """Acknowledge the ticked alerts, all or none: an alert the user may not see is
    a 404 (as one that does not exist), one of a brand they only view a 403."""
    form = forms.AlertAcknowledgeForm(request.POST)
    if not form.is_valid():
        return page(request, "dashboard/bad_request.html", {"form": form}, status=400)
    ids: list[int] = form.cleaned_data["alert"]
    found = list(
        scope_to_visible(Alert.objects.filter(id__in=ids), request.user, brand_field="brand_id")
        .values_list("id", "brand_id")
        .order_by("id")
    )
    if len(found) != len(ids):
        raise Http404("No such alert.")
    brand_ids = {brand_id for _id, brand_id in found}
    if managed_among(request.user, brand_ids) != brand_ids:
        raise PermissionDenied("Only a manager of the alert's brand may acknowledge it.")
    done = alerts_acknowledge(alert_ids=ids, user=acting_user(request))
    already = len(ids) - done
    text = f"{done} alert{'s' if done != 1 else ''} acknowledged."
    messages.success(request, text + (f" {already} already were." if already else ""))
    target = form.cleaned_data["next"]
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = "dashboard:alert-list"
    return redirect(target)


@dashboard_view
@require_GET
def history_list(request: HttpRequest) -> HttpResponseBase:
    form = forms.HistoryFilterForm(request.GET, user=request.user)
    context: dict[str, Any] = {"form": form}
    if not form.is_valid():
        return page(request, "dashboard/history_list.html", context, status=400)
    data = form.cleaned_data
    dated = data["date_from"] or data["date_to"]
    scoped = data["brand"] or data["campaign"]
    changes = status_changes_list(
        user=request.user,
        # The zones in use are read only when a date range spans every brand.
        zones=sorted(local_todays_by_zone()) if dated and not scoped else [],
        brand=data["brand"],
        campaign=data["campaign"],
        status=data["status"],
        reason=data["reason"],
        actor=data["actor"],
        first=data["date_from"],
        last=data["date_to"],
    )
    if form.wants_csv():
        return exports.csv_response(
            "status-history", exports.HISTORY_HEADER, exports.history_rows(changes)
        )
    context |= {
        "brand": data["brand"],
        "campaign": data["campaign"],
        "page": paginate(changes, form.page_number(), count_all=False, max_rows=LOG_PAGES_REACH),
    }
    return page(
        request,
        "dashboard/history_list.html",
        context,
        live="dashboard/includes/_history_table.html",
    )


@dashboard_view
@require_GET
def history_detail(request: HttpRequest, pk: int) -> HttpResponse:
    change = visible_or_404(
        CampaignStatusChange.objects.select_related("campaign__brand", "user"),
        request.user,
        brand_field="campaign__brand_id",
        pk=pk,
    )
    return page(request, "dashboard/history_detail.html", {"change": change})
