"""The audit trail of brand, budget and membership settings (budgets.audit)."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from budgets import audit, services
from budgets.models import BrandMembership, Role, SettingChange, Via
from budgets.tests.factories import BrandFactory, BudgetFactory, UserFactory

pytestmark = pytest.mark.django_db


def rows(**filters: object) -> list[tuple[str, str, str | None, str | None, str, str]]:
    return [
        (change.object_type, change.field, change.before, change.after, change.actor, change.via)
        for change in SettingChange.objects.filter(**filters).order_by("id")
    ]


def test_a_cap_change_records_who_before_and_after() -> None:
    brand = BrandFactory.create(daily_budget=Decimal("100.00"))
    person = UserFactory.create(username="ana")

    with audit.acting_as(audit.actor_for(person, Via.DASHBOARD)):
        services.brand_update(brand_id=brand.pk, daily_budget=Decimal("150.00"), name=brand.name)

    assert rows(brand=brand) == [("brand", "daily_budget", "100.00", "150.00", "ana", "dashboard")]
    change = SettingChange.objects.get(brand=brand)
    assert change.user == person
    assert change.brand_name == brand.name
    assert change.object_id == brand.pk


def test_nothing_is_recorded_when_nothing_changes() -> None:
    brand = BrandFactory.create(daily_budget=Decimal("100.00"))

    services.brand_update(brand_id=brand.pk, daily_budget=Decimal("100"))

    assert rows() == []


def test_a_refused_change_leaves_no_trail() -> None:
    brand = BrandFactory.create()

    with pytest.raises(ValidationError):
        services.brand_update(brand_id=brand.pk, daily_budget=Decimal("-1"))

    assert rows() == []


def test_changes_outside_a_request_or_command_are_the_systems() -> None:
    brand = BrandFactory.create()

    services.brand_update(brand_id=brand.pk, timezone="Europe/Oslo")

    assert rows(brand=brand) == [("brand", "timezone", "UTC", "Europe/Oslo", "system", "system")]
    assert SettingChange.objects.get().user is None


def test_a_command_names_itself() -> None:
    with audit.acting_as(audit.command_actor("seed_demo")):
        brand = services.brand_create(
            name="Acme", daily_budget=Decimal("10"), monthly_budget=Decimal("300")
        )

    assert rows(brand=brand) == [
        ("brand", "name", None, "Acme", "command:seed_demo", "command"),
        ("brand", "timezone", None, "UTC", "command:seed_demo", "command"),
        ("brand", "currency", None, "USD", "command:seed_demo", "command"),
        # kept, and recorded, at the cap's two places
        ("brand", "daily_budget", None, "10.00", "command:seed_demo", "command"),
        ("brand", "monthly_budget", None, "300.00", "command:seed_demo", "command"),
        ("brand", "delivery", None, "accelerated", "command:seed_demo", "command"),
    ]


def test_budget_limits_are_recorded_from_creation_to_deletion() -> None:
    brand = BrandFactory.create()
    budget = services.budget_create(brand=brand, name="Search", daily_limit=Decimal("20.00"))
    services.budget_update(budget_id=budget.pk, monthly_limit=Decimal("500.00"))
    services.budget_delete(budget_id=budget.pk)

    assert [row[:4] for row in rows(brand=brand)] == [
        ("budget", "name", None, "Search"),
        ("budget", "daily_limit", None, "20.00"),
        ("budget", "monthly_limit", None, "500.00"),
        ("budget", "name", "Search", None),
        ("budget", "daily_limit", "20.00", None),
        ("budget", "monthly_limit", "500.00", None),
    ]


def test_the_trail_outlives_the_brand() -> None:
    brand = BrandFactory.create(name="Gone Inc")
    BudgetFactory.create(brand=brand)

    services.brand_delete(brand_id=brand.pk)

    deleted = SettingChange.objects.filter(brand_name="Gone Inc", field="daily_budget").get()
    assert deleted.brand is None
    assert deleted.after is None


def test_memberships_are_recorded() -> None:
    brand = BrandFactory.create()
    person = UserFactory.create(username="bo")

    membership = services.membership_set(brand=brand, user=person, role=Role.VIEWER)
    services.membership_set(brand=brand, user=person, role=Role.MANAGER)
    services.membership_set(brand=brand, user=person, role=Role.MANAGER)  # no change
    services.membership_delete(membership_id=membership.pk)

    assert [row[:4] for row in rows(brand=brand)] == [
        ("membership", "role", None, "viewer"),
        ("membership", "role", "viewer", "manager"),
        ("membership", "role", "manager", None),
    ]
    assert not BrandMembership.objects.filter(user=person).exists()


def test_an_unknown_role_is_refused_and_changes_nothing() -> None:
    brand = BrandFactory.create()

    with pytest.raises(ValidationError) as refused:
        services.membership_set(brand=brand, user=UserFactory.create(), role="owner")

    assert "role" in refused.value.message_dict
    assert not brand.memberships.exists()
    assert rows() == []
