from django.contrib import admin

from budgets.models import Alert, Budget

# Brand's admin is registered in spend/admin.py: its list shows today's and
# this month's spend, which are spend rollups (imports flow spend -> budgets).


@admin.register(Budget)
class BudgetAdmin(admin.ModelAdmin[Budget]):
    list_display = ["name", "brand", "daily_limit", "monthly_limit", "created_at"]
    list_select_related = ["brand"]
    search_fields = ["name", "brand__name"]
    autocomplete_fields = ["brand"]


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
