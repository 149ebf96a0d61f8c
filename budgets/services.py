"""Writes to brands and shared budgets.

Every write validates the whole row with the model's validators and the
cross-row rules here, so that a bad value is a `ValidationError` naming the
field (the API turns it into a 400), and the database constraints stay the
last line of defence: a race that slips past the checks (two clients
creating the same name at once) is turned back into the same error.

Every change of a money or schedule setting leaves rows in the audit trail
(`budgets.audit`) in the same transaction.

A change that moves a serving fact (a cap, a limit, the time zone that
defines the brand's day) sends `serving_facts_changed` so the brand's
campaigns are re-evaluated at once.
"""

import datetime as dt
import re
from collections.abc import Collection, Iterator, Mapping
from contextlib import contextmanager
from decimal import Decimal
from typing import TypedDict, Unpack

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import User
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import IntegrityError, models, transaction
from django.db.models import ProtectedError, RestrictedError
from django.utils import timezone as django_timezone

from budgets.audit import record_changes, stored
from budgets.locks import brands_lock
from budgets.models import Alert, Brand, BrandMembership, Budget, Delivery, Role
from budgets.signals import brand_has_spend, serving_facts_changed


class DeletionRefused(Exception):  # noqa: N818 - reads as the outcome, like DoesNotExist
    """A row others still point to (spend, campaigns) cannot be deleted."""


# --- shared by the services of this app and of campaigns --------------------

_KEY_DETAIL = re.compile(r"Key \((?:[a-z_]+, )*([a-z_]+?)(?:_id)?\)=")


def _integrity_error_field(exc: IntegrityError, constraint_fields: Mapping[str, str]) -> str:
    cause = exc.__cause__
    diag = getattr(cause, "diag", None)
    name = getattr(diag, "constraint_name", None) or ""
    if name in constraint_fields:
        return constraint_fields[name]
    for constraint, field in constraint_fields.items():
        if constraint in str(exc):  # SQLite has no diagnostics, only the message
            return field
    match = _KEY_DETAIL.search(getattr(diag, "message_detail", None) or "")
    return match.group(1) if match else NON_FIELD_ERRORS


def validated_save(
    instance: models.Model,
    *,
    update_fields: Collection[str] | None = None,
    constraint_fields: Mapping[str, str] | None = None,
) -> None:
    """Validate every field of `instance`, then save it in a savepoint.

    Cross-row rules (unique names per brand, same-brand budget) are checked
    by the caller, which knows which field to name; `constraint_fields` maps
    the database constraints that back them up to those fields.
    """
    instance.full_clean(validate_constraints=False)
    try:
        with transaction.atomic():
            instance.save(update_fields=update_fields)
    except IntegrityError as exc:
        field = _integrity_error_field(exc, constraint_fields or {})
        raise ValidationError(
            {field: ["This value conflicts with another row; try again."]}
        ) from exc


@contextmanager
def deletion_guard(what: str, *, archivable: bool = False) -> Iterator[None]:
    """Run a deletion atomically; turn "still referenced" into DeletionRefused.

    Spend is money already spent: it is never deleted, so neither is anything
    it was spent from. The database's own foreign keys (checked at commit)
    catch a reference added while the deletion ran, so this must be the
    outermost transaction for that race to surface here.
    """
    try:
        with transaction.atomic():
            yield
    except (ProtectedError, RestrictedError) as exc:
        raise DeletionRefused(_refusal_message(what, exc, archivable=archivable)) from exc
    except IntegrityError as exc:
        raise DeletionRefused(f"{what} is still referenced; nothing was deleted.") from exc


def spend_refusal(what: str, *, archivable: bool) -> str:
    """Why something with spend is not deleted, and what to do instead."""
    if archivable:
        return (
            f"{what} has recorded spend, which is never deleted; archive it instead. "
            "Nothing was deleted."
        )
    return f"{what} has recorded spend, which is never deleted; nothing was deleted."


def _refusal_message(
    what: str, exc: ProtectedError | RestrictedError, *, archivable: bool = False
) -> str:
    objects = exc.protected_objects if isinstance(exc, ProtectedError) else exc.restricted_objects
    models_seen = {type(obj)._meta.model_name for obj in objects}
    if models_seen & {"spendevent", "brandspend", "budgetspend", "campaignspend"}:
        return spend_refusal(what, archivable=archivable)
    if "campaign" in models_seen:
        return f"{what} is used by campaigns; move or delete them first. Nothing was deleted."
    return f"{what} is still referenced; nothing was deleted."


def _immutable(instance: models.Model, field: str, new_value: object) -> None:
    if getattr(instance, field) != new_value:
        raise ValidationError({field: ["This cannot change after creation."]})


# --- brands ------------------------------------------------------------------

BRAND_CONSTRAINT_FIELDS = Brand.constraint_fields()
# Changing these moves the brand's caps or its day, so its campaigns' holds.
BRAND_SERVING_FIELDS = frozenset({"timezone", "daily_budget", "monthly_budget", "delivery"})
BRAND_AUDITED_FIELDS = (
    "name",
    "timezone",
    "currency",
    "daily_budget",
    "monthly_budget",
    "delivery",
)


class BrandChanges(TypedDict, total=False):
    name: str
    timezone: str
    currency: str
    daily_budget: Decimal
    monthly_budget: Decimal
    delivery: str


def brand_create(
    *,
    name: str,
    daily_budget: Decimal,
    monthly_budget: Decimal,
    timezone: str = "UTC",
    currency: str = "USD",
    delivery: str = Delivery.ACCELERATED,
) -> Brand:
    brand = Brand(
        name=name,
        timezone=timezone,
        currency=currency,
        daily_budget=daily_budget,
        monthly_budget=monthly_budget,
        delivery=delivery,
    )
    with transaction.atomic():
        validated_save(brand, constraint_fields=BRAND_CONSTRAINT_FIELDS)
        _record_brand(brand, {f: (None, stored(brand, f)) for f in BRAND_AUDITED_FIELDS})
    return brand


def _record_brand(brand: Brand, changes: Mapping[str, tuple[object, object]]) -> None:
    record_changes(
        brand=brand,
        object_type="brand",
        object_id=brand.pk,
        object_repr=brand.name,
        changes=changes,
    )


def timezone_fixed_reason(brand: Brand) -> str:
    return (
        f"The time zone cannot change once the brand has spend: its days and months "
        f"are already counted in {brand.timezone}."
    )


def brand_update(*, brand_id: int, **changes: Unpack[BrandChanges]) -> Brand:
    """Change some of a brand's fields; its campaigns follow a new cap at once.

    The time zone is fixed from the brand's first spend on (a ValidationError
    naming `timezone`): its spend is counted in that zone's days and months,
    and a new zone would start a new day (or month) with the cap untouched.
    The brand row is locked first, and every recorder holds it FOR SHARE, so
    spend committed before the check is seen and none slips in after it.

    Raises Brand.DoesNotExist for an unknown id.
    """
    with transaction.atomic():
        brand = Brand.objects.select_for_update().get(pk=brand_id)
        changed = [field for field, value in changes.items() if getattr(brand, field) != value]
        if not changed:
            return brand
        if "timezone" in changed and brand_has_spend(brand.pk):
            raise ValidationError({"timezone": [timezone_fixed_reason(brand)]})
        before = {field: getattr(brand, field) for field in changed}
        for field in changed:
            setattr(brand, field, changes[field])  # type: ignore[literal-required]
        validated_save(brand, update_fields=changed, constraint_fields=BRAND_CONSTRAINT_FIELDS)
        _record_brand(brand, {f: (before[f], stored(brand, f)) for f in changed})
        if BRAND_SERVING_FIELDS.intersection(changed):
            serving_facts_changed.send(sender=Brand, brand_ids=frozenset({brand.pk}))
    return brand


def brand_delete(*, brand_id: int) -> None:
    """Delete a brand with its budgets, campaigns and dayparts.

    Refused (DeletionRefused) while the brand has any spend; then nothing is
    deleted. Raises Brand.DoesNotExist for an unknown id.
    """
    with deletion_guard(f"Brand {brand_id}", archivable=True):
        brand = Brand.objects.select_for_update().get(pk=brand_id)
        _record_brand(brand, {f: (getattr(brand, f), None) for f in BRAND_AUDITED_FIELDS})
        # Campaigns first: their budgets are PROTECTed from them, and Django's
        # collector does not see that both go in the same cascade.
        brand.campaigns.all().delete()
        brand.delete()


# --- shared budgets ------------------------------------------------------------

BUDGET_CONSTRAINT_FIELDS = Budget.constraint_fields()
BUDGET_SERVING_FIELDS = frozenset({"daily_limit", "monthly_limit"})
BUDGET_AUDITED_FIELDS = ("name", "daily_limit", "monthly_limit")


class BudgetChanges(TypedDict, total=False):
    brand: Brand
    name: str
    daily_limit: Decimal | None
    monthly_limit: Decimal | None


def _check_budget_name_free(budget: Budget) -> None:
    taken = Budget.objects.filter(brand_id=budget.brand_id, name=budget.name).exclude(pk=budget.pk)
    if taken.exists():
        raise ValidationError({"name": ["This brand already has a budget with this name."]})


def budget_create(
    *,
    brand: Brand,
    name: str,
    daily_limit: Decimal | None = None,
    monthly_limit: Decimal | None = None,
) -> Budget:
    budget = Budget(brand=brand, name=name, daily_limit=daily_limit, monthly_limit=monthly_limit)
    with transaction.atomic():
        brands_lock(brand_ids={brand.pk})
        _check_budget_name_free(budget)
        validated_save(budget, constraint_fields=BUDGET_CONSTRAINT_FIELDS)
        _record_budget(budget, {f: (None, stored(budget, f)) for f in BUDGET_AUDITED_FIELDS})
    return budget


def _record_budget(budget: Budget, changes: Mapping[str, tuple[object, object]]) -> None:
    record_changes(
        brand=budget.brand,
        object_type="budget",
        object_id=budget.pk,
        object_repr=budget.name,
        changes=changes,
    )


def budget_update(*, budget_id: int, **changes: Unpack[BudgetChanges]) -> Budget:
    """Change a budget's name or limits. Its brand never changes.

    Raises Budget.DoesNotExist for an unknown id.
    """
    with transaction.atomic():
        # The brand first, as every writer of serving facts does (budgets.locks).
        brands_lock(brand_ids={Budget.objects.values_list("brand_id", flat=True).get(pk=budget_id)})
        budget = Budget.objects.select_for_update().select_related("brand").get(pk=budget_id)
        if "brand" in changes:
            _immutable(budget, "brand", changes["brand"])
        changed = [field for field, value in changes.items() if getattr(budget, field) != value]
        if not changed:
            return budget
        before = {field: getattr(budget, field) for field in changed}
        for field in changed:
            setattr(budget, field, changes[field])  # type: ignore[literal-required]
        if "name" in changed:
            _check_budget_name_free(budget)
        validated_save(budget, update_fields=changed, constraint_fields=BUDGET_CONSTRAINT_FIELDS)
        _record_budget(budget, {f: (before[f], stored(budget, f)) for f in changed})
        if BUDGET_SERVING_FIELDS.intersection(changed):
            serving_facts_changed.send(sender=Budget, brand_ids=frozenset({budget.brand_id}))
    return budget


def budget_delete(*, budget_id: int) -> None:
    """Refused (DeletionRefused) while campaigns use the budget or it has spend.

    Raises Budget.DoesNotExist for an unknown id.
    """
    with deletion_guard(f"Budget {budget_id}"):
        brands_lock(brand_ids={Budget.objects.values_list("brand_id", flat=True).get(pk=budget_id)})
        budget = Budget.objects.select_for_update().select_related("brand").get(pk=budget_id)
        _record_budget(budget, {f: (getattr(budget, f), None) for f in BUDGET_AUDITED_FIELDS})
        budget.delete()


# --- memberships -------------------------------------------------------------------


def _record_membership(brand: Brand, user: User, before: str | None, after: str | None) -> None:
    record_changes(
        brand=brand,
        object_type="membership",
        object_id=user.pk,
        object_repr=user.get_username(),
        changes={"role": (before, after)},
    )


def membership_set(*, brand: Brand, user: User, role: str) -> BrandMembership:
    """Give `user` this role on `brand`, adding the membership if it is new."""
    if role not in Role.values:
        raise ValidationError({"role": [f"Choose one of {', '.join(Role.values)}."]})
    with transaction.atomic():
        brands_lock(brand_ids={brand.pk})
        membership = (
            BrandMembership.objects.select_for_update().filter(brand=brand, user=user).first()
        )
        before = None if membership is None else membership.role
        if membership is None:
            membership = BrandMembership(brand=brand, user=user, role=role)
            validated_save(membership, constraint_fields={"membership_once_per_user_brand": "user"})
        elif membership.role != role:
            membership.role = role
            validated_save(membership, update_fields=["role"])
        _record_membership(brand, user, before, role)
    return membership


def membership_delete(*, membership_id: int) -> None:
    """Take a person off a brand; from their next request they no longer see it.

    Raises BrandMembership.DoesNotExist for an unknown id.
    """
    with transaction.atomic():
        membership = BrandMembership.objects.select_related("brand", "user").get(pk=membership_id)
        brands_lock(brand_ids={membership.brand_id})
        _record_membership(membership.brand, membership.user, membership.role, None)
        membership.delete()


# --- alerts ------------------------------------------------------------------------


def alerts_acknowledge(
    *, alert_ids: Collection[int], user: AbstractBaseUser, now: dt.datetime | None = None
) -> int:
    """Mark these alerts as seen by `user`, now; the number newly acknowledged.

    An alert acknowledged already keeps its first who and when (a conditional
    UPDATE: two people acknowledging at once record the first), so repeating
    the request changes nothing. Access is the caller's to check.
    """
    return Alert.objects.filter(id__in=list(alert_ids), acknowledged_at__isnull=True).update(
        acknowledged_at=now or django_timezone.now(), acknowledged_by=user
    )
