from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest

from budgets import services
from budgets.admin_base import DeleteThroughServiceAdmin
from budgets.models import Alert, Budget

# Brand's admin is registered in spend/admin.py: its list shows today's and
# this month's spend, which are spend rollups (imports flow spend -> budgets).


@admin.register(Budget)
class BudgetAdmin(DeleteThroughServiceAdmin[Budget]):
    list_display = ["name", "brand", "daily_limit", "monthly_limit", "created_at"]
    list_select_related = ["brand"]
    search_fields = ["name", "brand__name"]
    autocomplete_fields = ["brand"]

    def get_readonly_fields(self, request: HttpRequest, obj: Budget | None = None) -> list[str]:
        # A budget's campaigns are its brand's: it cannot move to another brand.
        return ["brand"] if obj is not None else []

    # Saved through the services, so that a new limit is enforced at once.
    def save_model(
        self, request: HttpRequest, obj: Budget, form: forms.ModelForm[Budget], change: bool
    ) -> None:
        data: dict[str, Any] = form.cleaned_data
        if change:
            changes = {f: data[f] for f in form.changed_data if f != "brand"}
            services.budget_update(budget_id=obj.pk, **changes)
            return
        created = services.budget_create(
            brand=data["brand"],
            name=data["name"],
            daily_limit=data["daily_limit"],
            monthly_limit=data["monthly_limit"],
        )
        obj.pk, obj._state.adding = created.pk, False

    def delete_through_service(self, pk: int) -> None:
        services.budget_delete(budget_id=pk)


@admin.register(Alert)
class AlertAdmin(admin.ModelAdmin[Alert]):
    list_display = [
        "raised_at",
        "brand",
        "budget",
        "period",
        "period_start",
        "threshold",
        "spend",
        "cap",
        "acknowledged_at",
    ]
    list_select_related = ["brand", "budget"]
    list_filter = ["period", "threshold", "scope"]
    search_fields = ["brand__name", "budget__name"]
    date_hierarchy = "raised_at"
    readonly_fields = [f.name for f in Alert._meta.fields if f.name != "acknowledged_at"]

    def has_add_permission(self, request: object) -> bool:
        return False
