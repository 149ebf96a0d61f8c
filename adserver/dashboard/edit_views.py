"""The dashboard's forms: brands, budgets, campaigns and dayparts, created and changed.

Each view finds the row through the access rule (another brand's row is a
404, as if it did not exist), refuses a person who does not manage the
brand (403, on the page as on its POST), lets the form check the input and
calls one service to write. A refusal of the service is shown beside the
field it names, and nothing is written.
"""

import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.forms import BaseForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from adserver.dashboard.views import acting_user, dashboard_view, visible_or_404
from budgets import services as budget_services
from budgets.access import manages_all_brands, may_manage_brand
from budgets.forms import BrandForm, BudgetForm, add_service_errors
from budgets.models import Brand, Budget
from campaigns import services as campaign_services
from campaigns.forms import DashboardCampaignForm, DaypartForm
from campaigns.models import Campaign, Daypart

Save = Callable[[Any], Brand | Budget | Campaign]


def _posted(request: HttpRequest) -> Any:
    """The POSTed data, or None for a GET: an empty POST is still a bound form."""
    return request.POST if request.method == "POST" else None


def _require_manager(request: HttpRequest, brand_id: int) -> None:
    if not may_manage_brand(request.user, brand_id):
        raise PermissionDenied("Only a manager of the brand may change it.")


def _form_page(
    request: HttpRequest,
    form: BaseForm,
    *,
    save: Save,
    title: str,
    context: dict[str, Any],
    done: str,
    template: str = "dashboard/edit_form.html",
) -> HttpResponse:
    """Show the form; on a valid POST save it through `save` and go to the saved row."""
    if request.method == "POST" and form.is_valid():
        try:
            saved = save(form)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, done.format(saved))
            return redirect(saved)
    status = 400 if form.is_bound else 200
    context = {"form": form, "title": title, **context}
    return render(request, template, context, status=status)


# ---------------------------------------------------------------- brands


def _suggested_caps(request: HttpRequest) -> dict[str, Decimal]:
    """A cap proposed by a link (the brand page's recommended daily budget):
    shown in the form for the manager to save, never saved by the link itself.
    A value that is no amount is left out: the form shows the stored cap."""
    if request.method != "GET":
        return {}
    suggested = {}
    for field in ("daily_budget", "monthly_budget"):
        value = request.GET.get(field, "")
        if re.fullmatch(r"[0-9]{1,12}(\.[0-9]{1,2})?", value) and Decimal(value) > 0:
            suggested[field] = Decimal(value)
    return suggested


@dashboard_view
def brand_create(request: HttpRequest) -> HttpResponse:
    if not manages_all_brands(request.user):
        raise PermissionDenied("Only agency admins add brands.")
    form = BrandForm(_posted(request))

    def save(form: BrandForm) -> Brand:
        return budget_services.brand_create(**form.cleaned_data)

    return _form_page(
        request,
        form,
        save=save,
        title="New brand",
        context={"cancel": reverse("dashboard:brand-list")},
        done="{} is added.",
    )


@dashboard_view
def brand_edit(request: HttpRequest, pk: int) -> HttpResponse:
    brand = visible_or_404(Brand.objects.all(), request.user, brand_field="id", pk=pk)
    _require_manager(request, brand.pk)
    form = BrandForm(_posted(request), instance=brand, initial=_suggested_caps(request))

    def save(form: BrandForm) -> Brand:
        changes = {field: form.cleaned_data[field] for field in form.changed_data}
        return budget_services.brand_update(brand_id=pk, **changes)

    return _form_page(
        request,
        form,
        save=save,
        title=f"Edit {brand.name}",
        context={"brand": brand, "cancel": brand.get_absolute_url()},
        done="{} is saved.",
    )


# ---------------------------------------------------------------- budgets


def _warn_of_unreachable_limits(request: HttpRequest, budget: Budget) -> None:
    for warning in budget.limits_above_brand_caps(budget.brand):
        messages.warning(request, warning)


@dashboard_view
def budget_create(request: HttpRequest, pk: int) -> HttpResponse:
    brand = visible_or_404(Brand.objects.all(), request.user, brand_field="id", pk=pk)
    _require_manager(request, brand.pk)
    form = BudgetForm(_posted(request), instance=Budget(brand=brand))

    def save(form: BudgetForm) -> Budget:
        budget = budget_services.budget_create(brand=brand, **form.cleaned_data)
        _warn_of_unreachable_limits(request, budget)
        return budget

    return _form_page(
        request,
        form,
        save=save,
        title=f"New shared budget of {brand.name}",
        context={"brand": brand, "cancel": brand.get_absolute_url()},
        done="Shared budget {} is added.",
    )


@dashboard_view
def budget_edit(request: HttpRequest, pk: int) -> HttpResponse:
    budget = visible_or_404(
        Budget.objects.select_related("brand"), request.user, brand_field="brand_id", pk=pk
    )
    _require_manager(request, budget.brand_id)
    form = BudgetForm(_posted(request), instance=budget)

    def save(form: BudgetForm) -> Budget:
        changes = {field: form.cleaned_data[field] for field in form.changed_data}
        saved = budget_services.budget_update(budget_id=pk, **changes)
        _warn_of_unreachable_limits(request, saved)
        return saved

    return _form_page(
        request,
        form,
        save=save,
        title=f"Edit shared budget {budget.name}",
        context={"brand": budget.brand, "cancel": budget.get_absolute_url()},
        done="Shared budget {} is saved.",
    )


# ---------------------------------------------------------------- campaigns


@dashboard_view
def campaign_create(request: HttpRequest, pk: int) -> HttpResponse:
    brand = visible_or_404(Brand.objects.all(), request.user, brand_field="id", pk=pk)
    _require_manager(request, brand.pk)
    form = DashboardCampaignForm(_posted(request), brand=brand, instance=Campaign(brand=brand))

    def save(form: DashboardCampaignForm) -> Campaign:
        return campaign_services.campaign_create(brand=brand, **form.cleaned_data)

    return _form_page(
        request,
        form,
        save=save,
        title=f"New campaign of {brand.name}",
        context={"brand": brand, "cancel": brand.get_absolute_url()},
        done="Campaign {} is added; add its dayparts below, or it serves all week.",
    )


@dashboard_view
def campaign_edit(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = visible_or_404(
        Campaign.objects.select_related("brand", "budget"),
        request.user,
        brand_field="brand_id",
        pk=pk,
    )
    _require_manager(request, campaign.brand_id)
    form = DashboardCampaignForm(_posted(request), instance=campaign)

    def save(form: DashboardCampaignForm) -> Campaign:
        changes = {field: form.cleaned_data[field] for field in form.changed_data}
        return campaign_services.campaign_update(
            campaign_id=pk, user=acting_user(request), **changes
        )

    return _form_page(
        request,
        form,
        save=save,
        title=f"Edit campaign {campaign.name}",
        context={"brand": campaign.brand, "cancel": campaign.get_absolute_url()},
        done="Campaign {} is saved.",
    )


# ---------------------------------------------------------------- dayparts


def _daypart_page(
    request: HttpRequest, campaign: Campaign, form: DaypartForm, save: Save, title: str
) -> HttpResponse:
    return _form_page(
        request,
        form,
        save=save,
        title=title,
        context={
            "brand": campaign.brand,
            "campaign": campaign,
            "cancel": campaign.get_absolute_url(),
        },
        done="The window is saved.",
        template="dashboard/daypart_form.html",
    )


@dashboard_view
def daypart_create(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = visible_or_404(
        Campaign.objects.select_related("brand"), request.user, brand_field="brand_id", pk=pk
    )
    _require_manager(request, campaign.brand_id)
    form = DaypartForm(_posted(request), instance=Daypart(campaign=campaign))

    def save(form: DaypartForm) -> Campaign:
        campaign_services.daypart_create(
            campaign=campaign,
            days=form.day_names(),
            start_time=form.cleaned_data["start_time"],
            end_time=form.cleaned_data["end_time"],
        )
        return campaign

    return _daypart_page(request, campaign, form, save, f"New window of {campaign.name}")


@dashboard_view
def daypart_edit(request: HttpRequest, pk: int) -> HttpResponse:
    daypart = visible_or_404(
        Daypart.objects.select_related("campaign__brand"),
        request.user,
        brand_field="campaign__brand_id",
        pk=pk,
    )
    campaign = daypart.campaign
    _require_manager(request, campaign.brand_id)
    form = DaypartForm(_posted(request), instance=daypart)

    def save(form: DaypartForm) -> Campaign:
        campaign_services.daypart_update(
            daypart_id=pk,
            days=form.day_names(),
            start_time=form.cleaned_data["start_time"],
            end_time=form.cleaned_data["end_time"],
        )
        return campaign

    return _daypart_page(request, campaign, form, save, f"Edit a window of {campaign.name}")


@dashboard_view
def daypart_delete(request: HttpRequest, pk: int) -> HttpResponse:
    daypart = visible_or_404(
        Daypart.objects.select_related("campaign__brand"),
        request.user,
        brand_field="campaign__brand_id",
        pk=pk,
    )
    campaign = daypart.campaign
    _require_manager(request, campaign.brand_id)
    if request.method == "POST":
        campaign_services.daypart_delete(daypart_id=pk)
        messages.success(request, f"The window {daypart.window} is removed.")
        return redirect(campaign)
    return render(
        request,
        "dashboard/confirm.html",
        {
            "title": f"Remove a window of {campaign.name}",
            "question": f"Remove the window {', '.join(daypart.day_names)} {daypart.window}?",
            "button": "Remove",
            "cancel": campaign.get_absolute_url(),
        },
    )
