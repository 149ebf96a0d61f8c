from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet
from django.forms import BaseInlineFormSet, BaseModelFormSet
from django.http import HttpRequest

from budgets import access, services
from budgets.admin_base import (
    BrandScopedAdmin,
    DeleteThroughServiceAdmin,
    ReadOnlyAdmin,
    local_time_display,
    money_display,
)
from budgets.forms import BudgetForm
from budgets.models import Alert, BrandMembership, Budget, SettingChange

# Brand's admin is registered in spend/admin.py: its list shows today's and
# this month's spend, which are spend rollups (imports flow spend -> budgets).


@admin.register(Budget)
class BudgetAdmin(DeleteThroughServiceAdmin[Budget]):
    list_display = ["name", "brand", "daily_limit_display", "monthly_limit_display"]
    list_select_related = ["brand"]
    search_fields = ["name", "brand__name"]
    autocomplete_fields = ["brand"]
    form = BudgetForm
    fields = ["brand", "name", "daily_limit", "monthly_limit"]

    def get_readonly_fields(self, request: HttpRequest, obj: Budget | None = None) -> list[str]:
        # A budget's campaigns are its brand's: it cannot move to another brand.
        return ["brand"] if obj is not None else []

    # Saved through the services, so that a new limit is enforced at once.
    def save_model(
        self, request: HttpRequest, obj: Budget, form: forms.ModelForm[Budget], change: bool
    ) -> None:
        data: dict[str, Any] = form.cleaned_data
        # Allowed, but the brand's cap stops spend first: say so.
        for warning in obj.limits_above_brand_caps(obj.brand):
            self.message_user(request, warning, messages.WARNING)
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

    @admin.display(description="Daily limit", ordering="daily_limit")
    def daily_limit_display(self, budget: Budget) -> str:
        return money_display(budget.daily_limit, budget.brand.currency)

    @admin.display(description="Monthly limit", ordering="monthly_limit")
    def monthly_limit_display(self, budget: Budget) -> str:
        return money_display(budget.monthly_limit, budget.brand.currency)


@admin.register(Alert)
class AlertAdmin(BrandScopedAdmin[Alert]):
    list_display = [
        "raised_display",
        "brand",
        "budget",
        "period",
        "period_start",
        "threshold_display",
        "spend_display",
        "cap_display",
        "acknowledged_display",
        "acknowledged_by",
    ]
    list_select_related = ["brand", "budget", "acknowledged_by"]
    list_filter = ["period", "threshold", "scope"]
    search_fields = ["brand__name", "budget__name"]
    date_hierarchy = "raised_at"
    # Acknowledged by the action (or on the dashboard), which records who and
    # when: never a date typed by hand.
    readonly_fields = [f.name for f in Alert._meta.fields]
    actions = ["acknowledge_selected"]

    @admin.action(description="Acknowledge selected alerts", permissions=["change"])
    def acknowledge_selected(self, request: HttpRequest, queryset: QuerySet[Alert]) -> None:
        self.check_may_write(request, queryset)
        if not isinstance(request.user, User):
            raise PermissionDenied
        ids = list(queryset.values_list("id", flat=True))
        done = services.alerts_acknowledge(alert_ids=ids, user=request.user)
        self.message_user(request, f"{done} of {len(ids)} alert(s) acknowledged.", messages.SUCCESS)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Alert | None = None) -> bool:
        # An alert is raised once per cap, period and threshold: deleting it
        # would raise it again. It is acknowledged, never deleted.
        return False

    @admin.display(description="Raised at (brand's time)", ordering="raised_at")
    def raised_display(self, alert: Alert) -> str:
        return local_time_display(alert.raised_at, alert.brand.timezone)

    @admin.display(description="Threshold", ordering="threshold")
    def threshold_display(self, alert: Alert) -> str:
        return alert.get_kind_display() if alert.is_pacing else f"{alert.threshold}%"

    @admin.display(description="Spend", ordering="spend")
    def spend_display(self, alert: Alert) -> str:
        return money_display(alert.spend, alert.brand.currency)

    @admin.display(description="Cap", ordering="cap")
    def cap_display(self, alert: Alert) -> str:
        return money_display(alert.cap, alert.brand.currency)

    @admin.display(description="Acknowledged at (brand's time)", ordering="acknowledged_at")
    def acknowledged_display(self, alert: Alert) -> str:
        return local_time_display(alert.acknowledged_at, alert.brand.timezone)


@admin.register(SettingChange)
class SettingChangeAdmin(ReadOnlyAdmin[SettingChange]):
    """The audit trail: written by the services only, never edited here.

    A change of a brand since deleted has no brand: only agency admins see it.
    """

    list_display = [
        "changed_display",
        "brand_name",
        "object_type",
        "object_repr",
        "field_display",
        "before",
        "after",
        "actor",
        "via",
    ]
    list_select_related = ["brand"]
    list_filter = ["via", "object_type", "field"]
    search_fields = ["brand_name", "object_repr", "actor"]
    date_hierarchy = "changed_at"
    show_full_result_count = False

    @admin.display(description="Changed at (brand's time)", ordering="changed_at")
    def changed_display(self, change: SettingChange) -> str:
        return local_time_display(
            change.changed_at, change.brand.timezone if change.brand else None
        )

    @admin.display(description="Field", ordering="field")
    def field_display(self, change: SettingChange) -> str:
        return change.field.replace("_", " ").capitalize()


# --- memberships: agency admins give and take roles ---------------------------


class MembershipInline(admin.TabularInline[BrandMembership, Any]):
    """A brand's members, or a person's brands. Only agency admins see or edit them."""

    model = BrandMembership
    extra = 0

    def has_view_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return access.manages_all_brands(request.user) and super().has_view_permission(request, obj)

    def has_add_permission(self, request: HttpRequest, obj: Model | None) -> bool:  # type: ignore[override]
        return access.manages_all_brands(request.user) and super().has_add_permission(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return access.manages_all_brands(request.user) and super().has_change_permission(
            request, obj
        )

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return access.manages_all_brands(request.user) and super().has_delete_permission(
            request, obj
        )


class BrandMembersInline(MembershipInline):
    fields = ["user", "role"]
    autocomplete_fields = ["user"]
    verbose_name = "member"
    verbose_name_plural = "members (who may see or manage this brand)"


class UserBrandsInline(MembershipInline):
    fields = ["brand", "role"]
    autocomplete_fields = ["brand"]
    verbose_name = "brand membership"
    verbose_name_plural = "brand memberships (viewer: reads the brand; manager: also changes it)"


def save_memberships(request: HttpRequest, formset: BaseModelFormSet[Any, Any]) -> bool:
    """Save a membership formset through the services (so the trail records it).

    False when `formset` holds something else, for the caller to save.
    """
    if not isinstance(formset, BaseInlineFormSet) or formset.model is not BrandMembership:
        return False
    if not access.manages_all_brands(request.user):
        raise PermissionDenied("Only agency admins give or take brand roles.")
    formset.save(commit=False)
    for membership in formset.deleted_objects:
        services.membership_delete(membership_id=membership.pk)
    for membership, fields in formset.changed_objects:
        if "brand" in fields or "user" in fields:
            # Moved to another brand or person: the old role is taken away.
            services.membership_delete(membership_id=membership.pk)
        services.membership_set(brand=membership.brand, user=membership.user, role=membership.role)
    for membership in formset.new_objects:
        services.membership_set(brand=membership.brand, user=membership.user, role=membership.role)
    return True


UserModel = get_user_model()
admin.site.unregister(UserModel)


@admin.register(UserModel)
class UserAdmin(DjangoUserAdmin[User]):
    """Django's user admin, with the person's brand memberships inline."""

    inlines = [UserBrandsInline]

    def get_inline_instances(
        self, request: HttpRequest, obj: User | None = None
    ) -> list[admin.options.InlineModelAdmin[Any, Any]]:
        # Adding a user is Django's two-step form; roles come on the second.
        return [] if obj is None else super().get_inline_instances(request, obj)

    def save_formset(
        self,
        request: HttpRequest,
        form: forms.ModelForm[User],
        formset: BaseModelFormSet[Any, Any],
        change: bool,
    ) -> None:
        if not save_memberships(request, formset):
            super().save_formset(request, form, formset, change)
