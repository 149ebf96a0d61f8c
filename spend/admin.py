from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.forms import BaseModelFormSet
from django.http import HttpRequest

from budgets import access
from budgets import services as budget_services
from budgets.admin import BrandMembersInline, save_memberships
from budgets.admin_base import (
    ArchivedListFilter,
    DeleteThroughServiceAdmin,
    ReadOnlyAdmin,
    local_time_display,
    money_display,
)
from budgets.forms import BrandForm
from budgets.models import Brand
from campaigns import archive as campaign_archive
from spend import services as spend_services
from spend.models import AlertWebhook, BrandSpend, BudgetSpend, CampaignSpend, SpendEvent
from spend.selectors import PeriodTotals, brand_current_totals, brand_has_spend


class BrandChangeList(ChangeList):
    """Attach each listed brand's current totals with one query for the page."""

    def get_results(self, request: HttpRequest) -> None:
        super().get_results(request)
        totals = brand_current_totals(list(self.result_list))
        for brand in self.result_list:
            brand.current_totals = totals[brand.pk]


@admin.register(Brand)
class BrandAdmin(DeleteThroughServiceAdmin[Brand]):
    """Registered here, not in budgets/, because it shows spend rollups.

    A manager changes the caps of the brands they manage; adding and deleting
    brands, and giving roles on them (the members inline), are the agency
    admins'.
    """

    brand_field = "id"
    inlines = [BrandMembersInline]
    # A searchable time zone, the currency upper-cased, the daily budget
    # at most the monthly one: the dashboard's rules.
    form = BrandForm

    list_display = [
        "name",
        "timezone",
        "currency",
        "delivery",
        "daily_spend_display",
        "monthly_spend_display",
    ]
    search_fields = ["name"]
    list_filter = [ArchivedListFilter, "timezone", "currency", "delivery"]
    readonly_fields = ["archived_at"]
    actions = ["archive_selected", "unarchive_selected"]

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        return BrandChangeList

    # The time zone is fixed once the brand has spend (budgets.services.brand_update):
    # shown read-only then, with the reason, instead of a field the save would refuse.
    @staticmethod
    def _timezone_fixed(brand: Brand | None) -> bool:
        if brand is None:
            return False
        if not hasattr(brand, "_has_spend"):
            brand._has_spend = brand_has_spend(brand.pk)  # type: ignore[attr-defined]
        fixed: bool = brand._has_spend  # type: ignore[attr-defined]
        return fixed

    def get_exclude(self, request: HttpRequest, obj: Brand | None = None) -> Any:
        return ["timezone"] if self._timezone_fixed(obj) else super().get_exclude(request, obj)

    def get_form(
        self, request: HttpRequest, obj: Brand | None = None, change: bool = False, **kwargs: Any
    ) -> Any:
        if self._timezone_fixed(obj):
            # Excluding a field declared on the form does not remove it; this does.
            kwargs["form"] = type("FixedZoneBrandForm", (BrandForm,), {"timezone": None})
        return super().get_form(request, obj, change, **kwargs)

    def get_readonly_fields(self, request: HttpRequest, obj: Brand | None = None) -> Any:
        fields = list(super().get_readonly_fields(request, obj))
        return [*fields, "timezone_fixed"] if self._timezone_fixed(obj) else fields

    @admin.display(description="Time zone")
    def timezone_fixed(self, brand: Brand) -> str:
        return f"{brand.timezone}. {budget_services.timezone_fixed_reason(brand)}"

    # Saved through the services, so that a new cap is enforced at once.
    def save_model(
        self, request: HttpRequest, obj: Brand, form: forms.ModelForm[Brand], change: bool
    ) -> None:
        data: dict[str, Any] = form.cleaned_data
        if change:
            changes = {f: data[f] for f in form.changed_data}
            budget_services.brand_update(brand_id=obj.pk, **changes)
            return
        created = budget_services.brand_create(
            name=data["name"],
            timezone=data["timezone"],
            currency=data["currency"],
            daily_budget=data["daily_budget"],
            monthly_budget=data["monthly_budget"],
            delivery=data["delivery"],
        )
        obj.pk, obj._state.adding = created.pk, False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return access.manages_all_brands(request.user) and super().has_add_permission(request)

    def has_delete_permission(self, request: HttpRequest, obj: Brand | None = None) -> bool:
        return access.manages_all_brands(request.user) and super().has_delete_permission(
            request, obj
        )

    def save_formset(
        self,
        request: HttpRequest,
        form: forms.ModelForm[Brand],
        formset: BaseModelFormSet[Any, Any],
        change: bool,
    ) -> None:
        if not save_memberships(request, formset):
            super().save_formset(request, form, formset, change)

    def delete_through_service(self, pk: int) -> None:
        budget_services.brand_delete(brand_id=pk)

    def deletion_refusal(self, obj: Brand) -> str | None:
        # * one index probe: the rows the ledger's foreign key protects
        if SpendEvent.objects.filter(brand_id=obj.pk).exists():
            return budget_services.spend_refusal(f'Brand "{obj.name}"', archivable=True)
        return None

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions = super().get_actions(request)
        if not access.manages_all_brands(request.user):
            actions.pop("archive_selected", None)
            actions.pop("unarchive_selected", None)
        return actions

    def _refuse_unless_agency_admin(self, request: HttpRequest) -> None:
        if not access.manages_all_brands(request.user):
            raise PermissionDenied("Only agency admins may archive or unarchive brands.")

    @admin.action(description="Archive selected brands (pause their campaigns; no spend)")
    def archive_selected(self, request: HttpRequest, queryset: QuerySet[Brand]) -> None:
        self._refuse_unless_agency_admin(request)
        ids = list(queryset.filter(archived_at__isnull=True).values_list("id", flat=True))
        for pk in ids:
            campaign_archive.brand_archive(brand_id=pk, user=request.user)  # type: ignore[arg-type]
        self.message_user(request, f"{len(ids)} brand(s) archived.", messages.SUCCESS)

    @admin.action(description="Unarchive selected brands (their campaigns stay paused)")
    def unarchive_selected(self, request: HttpRequest, queryset: QuerySet[Brand]) -> None:
        self._refuse_unless_agency_admin(request)
        ids = list(queryset.filter(archived_at__isnull=False).values_list("id", flat=True))
        for pk in ids:
            campaign_archive.brand_unarchive(brand_id=pk, user=request.user)  # type: ignore[arg-type]
        self.message_user(request, f"{len(ids)} brand(s) unarchived.", messages.SUCCESS)

    @staticmethod
    def _totals(brand: Brand) -> PeriodTotals:
        totals: PeriodTotals = brand.current_totals  # type: ignore[attr-defined]
        return totals

    @admin.display(description="Today (local) / daily budget")
    def daily_spend_display(self, brand: Brand) -> str:
        spent = self._totals(brand).daily_spend
        return f"{spent:,.2f} / {brand.daily_budget:,.2f} {brand.currency}"

    @admin.display(description="This month / monthly budget")
    def monthly_spend_display(self, brand: Brand) -> str:
        spent = self._totals(brand).monthly_spend
        return f"{spent:,.2f} / {brand.monthly_budget:,.2f} {brand.currency}"


@admin.register(SpendEvent)
class SpendEventAdmin(ReadOnlyAdmin[SpendEvent]):
    list_display = [
        "occurred_display",
        "campaign",
        "brand",
        "kind",
        "amount_display",
        "local_date",
        "source",
        "event_id",
        "campaign_was_serving",
    ]
    list_select_related = ["campaign", "brand"]
    list_filter = ["kind", "source", "campaign_was_serving"]
    search_fields = ["event_id", "campaign__name", "brand__name"]
    date_hierarchy = "occurred_at"
    show_full_result_count = False

    @admin.display(description="Occurred at (brand's time)", ordering="occurred_at")
    def occurred_display(self, event: SpendEvent) -> str:
        return local_time_display(event.occurred_at, event.brand.timezone)

    @admin.display(description="Amount", ordering="amount")
    def amount_display(self, event: SpendEvent) -> str:
        return money_display(event.amount, event.brand.currency, exact=True)


class RollupAdmin(ReadOnlyAdmin[Any]):
    """A rollup's amount and overspend in its brand's currency."""

    def currency_of(self, row: Any) -> str:
        raise NotImplementedError

    @admin.display(description="Amount", ordering="amount")
    def amount_display(self, row: Any) -> str:
        return money_display(row.amount, self.currency_of(row))

    @admin.display(description="Overspend", ordering="overspend")
    def overspend_display(self, row: Any) -> str:
        return money_display(row.overspend, self.currency_of(row))


@admin.register(BrandSpend)
class BrandSpendAdmin(RollupAdmin):
    list_display = [
        "brand", "period", "period_start", "amount_display", "overspend_display", "events_count"
    ]  # fmt: skip
    list_select_related = ["brand"]

    def currency_of(self, row: BrandSpend) -> str:
        return row.brand.currency

    list_filter = ["period"]
    date_hierarchy = "period_start"


@admin.register(BudgetSpend)
class BudgetSpendAdmin(RollupAdmin):
    brand_field = "budget__brand_id"
    list_display = [
        "budget", "period", "period_start", "amount_display", "overspend_display", "events_count"
    ]  # fmt: skip
    list_select_related = ["budget__brand"]

    def currency_of(self, row: BudgetSpend) -> str:
        return row.budget.brand.currency

    list_filter = ["period"]
    date_hierarchy = "period_start"


@admin.register(CampaignSpend)
class CampaignSpendAdmin(RollupAdmin):
    brand_field = "campaign__brand_id"
    list_display = [
        "campaign", "period", "period_start", "amount_display", "overspend_display", "events_count"
    ]  # fmt: skip
    list_select_related = ["campaign__brand"]

    def currency_of(self, row: CampaignSpend) -> str:
        return row.campaign.brand.currency

    list_filter = ["period"]
    date_hierarchy = "period_start"


@admin.register(AlertWebhook)
class AlertWebhookAdmin(DeleteThroughServiceAdmin[AlertWebhook]):
    """Webhooks that receive a brand's alerts (no brand: every brand's). Added or deleted."""

    list_display = ["url", "brand", "created_at"]
    list_select_related = ["brand"]
    fields = ["brand", "url"]

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return obj is None and super().has_change_permission(request, obj)

    def save_model(
        self,
        request: HttpRequest,
        obj: AlertWebhook,
        form: forms.ModelForm[AlertWebhook],
        change: bool,
    ) -> None:
        created = spend_services.alert_webhook_create(brand=obj.brand, url=obj.url)
        obj.pk, obj._state.adding = created.pk, False

    def delete_through_service(self, pk: int) -> None:
        spend_services.alert_webhook_delete(webhook_id=pk)
