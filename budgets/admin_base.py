"""Admin plumbing shared by the apps' admins (imported downward only).

The brand rule in the admin. Django's model permissions (`is_staff` and
add/change/delete/view per model) still decide which pages a staff user
opens; `BrandScopedAdmin` narrows on top of them to the brands the user
manages (`budgets.access.managed_brands`): lists and change pages hold
only those brands' rows, foreign-key choices and autocompletes offer only
them, and every write (save, delete, bulk delete, actions) checks the rule
for each object it touches. Agency admins (superusers and holders of
`budgets.manage_all_brands`) manage every brand, so nothing is narrowed.

An object of another brand is not found (the admin's "doesn't exist"
redirect), never a 403: its existence is not revealed.
"""

import datetime as dt
from collections.abc import Collection, Iterator
from decimal import Decimal
from typing import Any, TypeVar

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import unquote
from django.core.exceptions import FieldDoesNotExist, PermissionDenied
from django.db.models import ForeignKey, Model, Q, QuerySet
from django.forms import ModelChoiceField
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from budgets import access
from budgets.models import Brand
from budgets.periods import zone
from budgets.services import DeletionRefused

M = TypeVar("M", bound=Model)
P = TypeVar("P", bound=Model)


# --- how the admin's lists show money and times --------------------------------------


def money_display(amount: Decimal | None, currency: str, *, exact: bool = False) -> str:
    """`1,234.50 NOK`: two places, or with `exact` every place the ledger keeps (at least two)."""
    if amount is None:
        return "-"
    places = 2
    if exact:
        exponent = amount.normalize().as_tuple().exponent
        places = max(2, -exponent if isinstance(exponent, int) else 0)
    return f"{amount:,.{places}f} {currency}"


def local_time_display(value: dt.datetime | None, timezone_name: str | None) -> str:
    """An instant in the brand's own zone, with the zone's abbreviation (UTC without a brand)."""
    if value is None:
        return "-"
    return f"{value.astimezone(zone(timezone_name or 'UTC')):%Y-%m-%d %H:%M %Z}"


def brand_path_of_model(model: type[Model]) -> str | None:
    """The path from `model`'s rows to their brand id, when it has a `brand`."""
    if model is Brand:
        return "id"
    try:
        field = model._meta.get_field("brand")
    except FieldDoesNotExist:
        return None
    return "brand_id" if isinstance(field, ForeignKey) else None


def brand_id_of(obj: Model, brand_field: str) -> int | None:
    """Follow `brand_field` ("brand_id", "campaign__brand_id", "id") on one object."""
    value: Any = obj
    for part in brand_field.split("__"):
        if value is None:
            return None
        value = value.pk if part == "id" else getattr(value, part)
    return None if value is None else int(value)


def may_manage_object(request: HttpRequest, obj: Model, brand_field: str) -> bool:
    """The brand rule for one row; a row of no brand is an agency admin's only."""
    brand_id = brand_id_of(obj, brand_field)
    if brand_id is None:
        return access.manages_all_brands(request.user)
    return access.may_manage_brand(request.user, brand_id)


def refuse_unless_manages(request: HttpRequest, brand_ids: Collection[int]) -> None:
    """Every brand of a write must be the user's to manage; 403 otherwise."""
    if not access.may_manage_brands(request.user, set(brand_ids)):
        raise PermissionDenied("You do not manage every brand of the selected objects.")


class BrandScopedAdmin(admin.ModelAdmin[M]):
    """A ModelAdmin whose rows, choices and writes follow the brand rule.

    `brand_field` is the path from a row to its brand id.
    """

    brand_field: str = "brand_id"

    def get_queryset(self, request: HttpRequest) -> QuerySet[M]:
        return access.scope_to_visible(
            super().get_queryset(request), request.user, brand_field=self.brand_field, manage=True
        )

    def has_view_permission(self, request: HttpRequest, obj: M | None = None) -> bool:
        allowed = super().has_view_permission(request, obj)
        return allowed and (obj is None or may_manage_object(request, obj, self.brand_field))

    def has_change_permission(self, request: HttpRequest, obj: M | None = None) -> bool:
        allowed = super().has_change_permission(request, obj)
        return allowed and (obj is None or may_manage_object(request, obj, self.brand_field))

    def has_delete_permission(self, request: HttpRequest, obj: M | None = None) -> bool:
        allowed = super().has_delete_permission(request, obj)
        return allowed and (obj is None or may_manage_object(request, obj, self.brand_field))

    def formfield_for_foreignkey(
        self, db_field: ForeignKey[Any, Any], request: HttpRequest, **kwargs: Any
    ) -> ModelChoiceField[Any] | None:
        # A brand, budget or campaign may be picked only among the managed
        # brands'; the form refuses any other id as "not one of the choices".
        # (The autocomplete of such a field asks that model's own admin, which
        # is narrowed the same way.)
        related: type[Model] = db_field.related_model
        path = brand_path_of_model(related)
        if path is not None and "queryset" not in kwargs:
            kwargs["queryset"] = access.scope_to_visible(
                related._default_manager.all(), request.user, brand_field=path, manage=True
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def brand_ids_of(self, queryset: QuerySet[M]) -> set[int | None]:
        """The brands of every row of `queryset`, in one query."""
        return set(queryset.values_list(self.brand_field, flat=True).distinct())

    def check_may_write(self, request: HttpRequest, queryset: QuerySet[M]) -> None:
        """Refuse the whole write unless the user manages every selected row's brand.

        `queryset` is already narrowed by `get_queryset`, so a selected row
        of another brand is missing from it: that is a 404 (as its change
        page is), and nothing is written, not even to the other rows. The
        brands of the rows left are checked once more where the write
        happens (403).
        """
        selected = set(request.POST.getlist(helpers.ACTION_CHECKBOX_NAME))
        if (
            selected
            and request.POST.get("select_across") != "1"
            and queryset.count() != len(selected)
        ):
            raise Http404("Some of the selected objects do not exist.")
        brand_ids = self.brand_ids_of(queryset)
        if None in brand_ids and not access.manages_all_brands(request.user):
            raise PermissionDenied("Only agency admins may change rows of no brand.")
        refuse_unless_manages(request, {pk for pk in brand_ids if pk is not None})


class BrandScopedInline(admin.TabularInline[M, P]):
    """An inline under a brand-scoped parent: writes need the parent's brand.

    `parent_brand_field` is the path from the parent object to its brand id.
    """

    parent_brand_field: str = "brand_id"

    def _parent_ok(self, request: HttpRequest, obj: P | None) -> bool:
        return obj is None or may_manage_object(request, obj, self.parent_brand_field)

    def has_add_permission(self, request: HttpRequest, obj: P | None) -> bool:  # type: ignore[override]
        return super().has_add_permission(request, obj) and self._parent_ok(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: P | None = None) -> bool:
        return super().has_change_permission(request, obj) and self._parent_ok(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: P | None = None) -> bool:
        return super().has_delete_permission(request, obj) and self._parent_ok(request, obj)


class ArchivedListFilter(admin.SimpleListFilter):
    """Lists leave out the archived: "Archived" and "All" show them.

    Only the list: an archived object keeps its change page and history.
    """

    title = "archive"
    parameter_name = "archived"
    # Paths to the archive stamps; a campaign is archived by its brand's too.
    lookups_of_archive: tuple[str, ...] = ("archived_at",)

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("no", "Not archived"), ("yes", "Archived"), ("all", "All")]

    def choices(self, changelist: Any) -> Iterator[Any]:
        # No "All" of Django's own: without a value the filter means "no".
        for lookup, title in self.lookup_choices:
            yield {
                "selected": (self.value() or "no") == lookup,
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        archived = Q()
        for lookup in self.lookups_of_archive:
            archived |= Q(**{f"{lookup}__isnull": False})
        value = self.value() or "no"
        if value == "yes":
            return queryset.filter(archived)
        if value == "all":
            return queryset
        return queryset.exclude(archived)


class CampaignArchivedListFilter(ArchivedListFilter):
    lookups_of_archive = ("archived_at", "brand__archived_at")


class DeleteThroughServiceAdmin(BrandScopedAdmin[M]):
    """Deletes, one or many, go through the model's delete service.

    A bulk delete is refused as a whole (403, nothing deleted) unless the
    user manages the brand of every selected row. A refused deletion (the
    object has spend, or is in use) is shown as a message and leaves the
    others of a bulk delete to go ahead.
    """

    def delete_through_service(self, pk: int) -> None:
        raise NotImplementedError

    def get_deleted_objects(
        self, objs: Any, request: HttpRequest
    ) -> tuple[list[Any], dict[str, int], set[str], list[Any]]:
        """What goes with the object is the service's to delete, not the user's.

        Django asks for the delete permission of every row a deletion
        cascades to; a campaign's status history and a brand's alerts are
        read-only in the admin, so no one, a superuser included, could delete
        a campaign that was ever paused. Whoever may delete the object may
        delete what the service deletes with it.
        """
        deleted, model_count, _perms_needed, protected = super().get_deleted_objects(objs, request)
        return deleted, model_count, set(), protected

    def deletion_refusal(self, obj: M) -> str | None:
        """Why `obj` cannot be deleted, said before asking to confirm (None: ask)."""
        return None

    def delete_view(
        self, request: HttpRequest, object_id: str, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        # Said in words on the object's page, rather than Django's list of
        # "protected related objects" (rows of the ledger) it cannot delete.
        obj = self.get_object(request, unquote(object_id))
        if obj is not None and self.has_delete_permission(request, obj):
            refusal = self.deletion_refusal(obj)
            if refusal is not None:
                self.message_user(request, refusal, messages.ERROR)
                opts = self.model._meta
                return HttpResponseRedirect(
                    reverse(
                        f"admin:{opts.app_label}_{opts.model_name}_change",
                        args=[obj.pk],
                        current_app=self.admin_site.name,
                    )
                )
        return super().delete_view(request, object_id, extra_context)

    def delete_model(self, request: HttpRequest, obj: M) -> None:
        if not may_manage_object(request, obj, self.brand_field):
            raise PermissionDenied("You do not manage this brand.")
        self.delete_through_service(obj.pk)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[M]) -> None:
        self.check_may_write(request, queryset)
        for pk in queryset.values_list("pk", flat=True):
            try:
                self.delete_through_service(pk)
            except DeletionRefused as exc:
                self.message_user(request, str(exc), messages.ERROR)


class ReadOnlyAdmin(BrandScopedAdmin[M]):
    """Rows written only by the services (the ledger, rollups, histories, the trail)."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: M | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: M | None = None) -> bool:
        return False


def agency_admins_only(model_admin: type[admin.ModelAdmin[Any]]) -> type[admin.ModelAdmin[Any]]:
    """A subclass of `model_admin` that only agency admins may open at all."""

    class AgencyAdminsOnly(model_admin):  # type: ignore[valid-type,misc]
        def has_module_permission(self, request: HttpRequest) -> bool:
            return access.manages_all_brands(request.user) and bool(
                super().has_module_permission(request)
            )

        def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
            return access.manages_all_brands(request.user) and bool(
                super().has_view_permission(request, obj)
            )

        def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
            return access.manages_all_brands(request.user) and bool(
                super().has_add_permission(request, *args)
            )

        def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
            return access.manages_all_brands(request.user) and bool(
                super().has_change_permission(request, obj)
            )

        def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
            return access.manages_all_brands(request.user) and bool(
                super().has_delete_permission(request, obj)
            )

    AgencyAdminsOnly.__name__ = AgencyAdminsOnly.__qualname__ = model_admin.__name__
    return AgencyAdminsOnly
