"""Spend feeds and people's API tokens in the admin: agency admins only.

A feed is created here (its key shown once, in the page's message),
listed, and revoked with an action; it is never edited or deleted, so the
ledger's `source` always names a feed that can be looked up. A person's
token (django-rest-knox) is created here or with `manage.py token_create`
and revoked by deleting it.
"""

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from knox.admin import AuthTokenAdmin
from knox.models import AuthToken
from rest_framework_api_key.models import APIKey

from budgets import access
from budgets.admin_base import agency_admins_only
from credentials.models import SpendFeed
from credentials.services import MAX_EXPIRY_DAYS, feed_create, feed_revoke

# The library's own key model is not used: feeds are `SpendFeed`.
if admin.site.is_registered(APIKey):
    admin.site.unregister(APIKey)


class SpendFeedCreateForm(forms.ModelForm[SpendFeed]):
    expires_days = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_EXPIRY_DAYS,
        help_text="The key stops working after this many days; empty: never.",
    )

    class Meta:
        model = SpendFeed
        fields = ["name", "brands", "may_adjust"]


class SpendFeedAdmin(admin.ModelAdmin[SpendFeed]):
    list_display = [
        "name",
        "brand_names",
        "may_adjust",
        "state",
        "last_used_at",
        "created",
        "expiry_date",
        "created_by",
    ]
    list_filter = ["revoked", "may_adjust"]
    search_fields = ["name", "prefix"]
    readonly_fields = [
        "name",
        "prefix",
        "brand_names",
        "may_adjust",
        "state",
        "created",
        "created_by",
        "expiry_date",
        "revoked_at",
        "last_used_at",
    ]
    actions = ["revoke"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[SpendFeed]:
        return super().get_queryset(request).prefetch_related("brands")

    def get_form(
        self,
        request: HttpRequest,
        obj: SpendFeed | None = None,
        change: bool = False,
        **kwargs: Any,
    ) -> Any:
        if obj is None:
            kwargs["form"] = SpendFeedCreateForm
        return super().get_form(request, obj, change, **kwargs)

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return ["name", "brands", "may_adjust", "expires_days"]
        return self.readonly_fields

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return [] if obj is None else self.readonly_fields

    @admin.display(description="brands")
    def brand_names(self, feed: SpendFeed) -> str:
        return ", ".join(brand.name for brand in feed.brands.all())

    def save_model(self, request: HttpRequest, obj: SpendFeed, form: Any, change: bool) -> None:
        if change:
            return  # nothing of a feed is edited; revoke it instead
        data = form.cleaned_data
        feed, key = feed_create(
            name=data["name"],
            brand_ids=[brand.pk for brand in data["brands"]],
            may_adjust=data["may_adjust"],
            expires_days=data.get("expires_days"),
            created_by=request.user,  # type: ignore[arg-type]
        )
        obj.pk, obj.prefix, obj.created = feed.pk, feed.prefix, feed.created
        self.message_user(
            request,
            f'The key of "{feed.name}", shown only now (send it as `Authorization: Api-Key '
            f"<key>`): {key}",
            messages.WARNING,
        )

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        """The service set the brands."""

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description="Revoke the selected feeds' keys", permissions=["change"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[SpendFeed]) -> None:
        if not access.manages_all_brands(request.user):
            return
        names = list(queryset.filter(revoked=False).values_list("name", flat=True))
        for name in names:
            feed_revoke(name=name)
        self.message_user(request, f"Revoked {len(names)} feed(s): {', '.join(names) or '-'}.")


admin.site.register(SpendFeed, agency_admins_only(SpendFeedAdmin))


class UserTokenAdmin(AuthTokenAdmin):
    """knox's admin (its add page shows the new token once), without the digests."""

    list_display = ("user", "created", "expiry")
    list_filter = ("expiry",)
    search_fields = ["user__username"]


admin.site.unregister(AuthToken)
admin.site.register(AuthToken, agency_admins_only(UserTokenAdmin))
