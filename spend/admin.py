from typing import Any, TypeVar

from django import forms
from django.contrib import admin
from django.contrib.admin.views.main import ChangeList
from django.db.models import Model
from django.http import HttpRequest

from budgets import services as budget_services
from budgets.admin_base import DeleteThroughServiceAdmin
from budgets.models import Brand
from spend.models import BrandSpend, BudgetSpend, CampaignSpend, SpendEvent
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
    """Registered here, not in budgets/, because it shows spend rollups."""

    list_display = [
        "name",
        "timezone",
        "currency",
        "daily_spend_display",
        "monthly_spend_display",
    ]
    search_fields = ["name"]
    list_filter = ["timezone", "currency"]

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
        )
        obj.pk, obj._state.adding = created.pk, False

    def delete_through_service(self, pk: int) -> None:
        budget_services.brand_delete(brand_id=pk)

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


M = TypeVar("M", bound=Model)


class ReadOnlyAdmin(admin.ModelAdmin[M]):
    """The ledger and its rollups are written only by spend.services."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(SpendEvent)
class SpendEventAdmin(ReadOnlyAdmin[SpendEvent]):
    list_display = [
        "occurred_at",
        "campaign",
        "brand",
        "kind",
        "amount",
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


@admin.register(BrandSpend)
class BrandSpendAdmin(ReadOnlyAdmin[BrandSpend]):
    list_display = ["brand", "period", "period_start", "amount", "overspend", "events_count"]
    list_select_related = ["brand"]
    list_filter = ["period"]
    date_hierarchy = "period_start"


@admin.register(BudgetSpend)
class BudgetSpendAdmin(ReadOnlyAdmin[BudgetSpend]):
    list_display = ["budget", "period", "period_start", "amount", "overspend", "events_count"]
    list_select_related = ["budget"]
    list_filter = ["period"]
    date_hierarchy = "period_start"


@admin.register(CampaignSpend)
class CampaignSpendAdmin(ReadOnlyAdmin[CampaignSpend]):
    list_display = ["campaign", "period", "period_start", "amount", "overspend", "events_count"]
    list_select_related = ["campaign"]
    list_filter = ["period"]
    date_hierarchy = "period_start"
