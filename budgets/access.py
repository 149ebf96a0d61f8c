"""Who may see and who may change a brand: the one rule, read everywhere.

A person sees a brand when they are one of its members (`BrandMembership`,
as a viewer or a manager) and may change it when they are its manager.
Agency admins, superusers and holders of `budgets.manage_all_brands`, manage
every brand without memberships. Every page, list, filter choice, count,
export, API view and admin page narrows its rows with `visible_brands` /
`scope_to_visible` and checks writes with `may_manage_brand`; nothing else
decides access, so a removed membership counts from the next request on.

Narrowing is a `brand_id IN (SELECT brand_id FROM memberships WHERE
user_id = …)` subquery, not a list fetched first: it adds no query, and the
planner turns it into a semi-join on the membership key.
"""

from collections.abc import Collection
from typing import Any, TypeVar

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser, PermissionsMixin
from django.db.models import Model, Q, QuerySet

from budgets.models import Brand, BrandMembership, Role

M = TypeVar("M", bound=Model)

MANAGE_ALL_BRANDS = "budgets.manage_all_brands"

AnyUser = AbstractBaseUser | AnonymousUser


def manages_all_brands(user: AnyUser | None) -> bool:
    """An agency admin: active, and a superuser or holder of `manage_all_brands`.

    Django caches the user's permissions on the user object, so this costs at
    most one query per request (none for a superuser).
    """
    if user is None or not user.is_active or not user.is_authenticated:
        return False
    if not isinstance(user, PermissionsMixin):
        return False
    return user.is_superuser or user.has_perm(MANAGE_ALL_BRANDS)


def _member_brand_ids(user: AnyUser, roles: Collection[str] | None = None) -> QuerySet[Any]:
    memberships = BrandMembership.objects.filter(user_id=user.pk or 0)
    if roles is not None:
        memberships = memberships.filter(role__in=list(roles))
    return memberships.values("brand_id")


def brand_q(user: AnyUser | None, *, brand_field: str = "id", manage: bool = False) -> Q:
    """The filter that keeps the rows of the brands `user` may see (or manage).

    `brand_field` is the path from the row to its brand's id, for example
    `"brand_id"` for a campaign or `"campaign__brand_id"` for a daypart.
    """
    if manages_all_brands(user):
        return Q()
    if user is None or not user.is_authenticated or not user.is_active:
        return Q(pk__in=[])
    roles = [Role.MANAGER] if manage else None
    return Q(**{f"{brand_field}__in": _member_brand_ids(user, roles)})


def scope_to_visible(
    queryset: QuerySet[M], user: AnyUser | None, *, brand_field: str, manage: bool = False
) -> QuerySet[M]:
    """`queryset` narrowed to the rows of brands `user` may see (or manage)."""
    return queryset.filter(brand_q(user, brand_field=brand_field, manage=manage))


def visible_brands(user: AnyUser | None) -> QuerySet[Brand]:
    """The brands `user` may see: every brand for an agency admin."""
    return scope_to_visible(Brand.objects.all(), user, brand_field="id")


def managed_brands(user: AnyUser | None) -> QuerySet[Brand]:
    """The brands `user` may change: every brand for an agency admin."""
    return scope_to_visible(Brand.objects.all(), user, brand_field="id", manage=True)


def role_on_brand(user: AnyUser | None, brand_id: int) -> str | None:
    """`"manager"`, `"viewer"` or None (may not see it). At most one query."""
    if manages_all_brands(user):
        return Role.MANAGER
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    return (
        BrandMembership.objects.filter(user_id=user.pk, brand_id=brand_id)
        .values_list("role", flat=True)
        .first()
    )


def may_see_brand(user: AnyUser | None, brand_id: int) -> bool:
    return role_on_brand(user, brand_id) is not None


def may_manage_brand(user: AnyUser | None, brand_id: int) -> bool:
    """May `user` change this brand's settings, pause, resume, acknowledge alerts?"""
    return role_on_brand(user, brand_id) == Role.MANAGER


def may_manage_brands(user: AnyUser | None, brand_ids: Collection[int]) -> bool:
    """May `user` change every one of these brands? One query for a member."""
    if manages_all_brands(user):
        return True
    wanted = set(brand_ids)
    if not wanted:
        return True
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    managed = BrandMembership.objects.filter(
        user_id=user.pk, brand_id__in=wanted, role=Role.MANAGER
    ).count()
    return managed == len(wanted)


def managed_among(user: AnyUser | None, brand_ids: Collection[int]) -> set[int]:
    """Which of `brand_ids` `user` may change: no query for an agency admin, one for a member."""
    wanted = set(brand_ids)
    if manages_all_brands(user):
        return wanted
    if not wanted or user is None or not user.is_authenticated or not user.is_active:
        return set()
    return set(
        BrandMembership.objects.filter(
            user_id=user.pk, brand_id__in=wanted, role=Role.MANAGER
        ).values_list("brand_id", flat=True)
    )
