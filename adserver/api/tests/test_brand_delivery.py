"""A brand's `delivery` through the API: set, changed, refused, and on the audit trail."""

import pytest
from rest_framework.test import APIClient

from adserver.api.tests.conftest import World
from budgets.models import Brand, Delivery, SettingChange

pytestmark = pytest.mark.django_db

NEW_BRAND = {"name": "Acme", "daily_budget": "100.00", "monthly_budget": "3000.00"}


def test_a_new_brand_is_accelerated_unless_asked(api: APIClient) -> None:
    body = api.post("/api/brands/", NEW_BRAND, format="json").json()
    assert body["delivery"] == "accelerated"
    standard = api.post(
        "/api/brands/", {**NEW_BRAND, "name": "Even", "delivery": "standard"}, format="json"
    )
    assert standard.status_code == 201, standard.json()
    assert Brand.objects.get(pk=standard.json()["id"]).delivery == Delivery.STANDARD


def test_a_manager_switches_to_standard_and_the_trail_says_who(
    world: World, announced: list[frozenset[int]]
) -> None:
    brand = world.a.brand
    response = world.manager.patch(
        f"/api/brands/{brand.pk}/", {"delivery": "standard"}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert response.json()["delivery"] == "standard"
    change = SettingChange.objects.get(brand=brand, field="delivery")
    assert (change.actor, change.via, change.before, change.after) == (
        "manager-a",
        "api",
        "accelerated",
        "standard",
    )
    # The pacing holds follow the setting at once.
    assert announced == [frozenset({brand.pk})]


def test_an_unknown_mode_is_a_400_naming_delivery_and_changes_nothing(world: World) -> None:
    brand = world.a.brand
    response = world.manager.patch(f"/api/brands/{brand.pk}/", {"delivery": "even"}, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"delivery"}
    brand.refresh_from_db()
    assert brand.delivery == Delivery.ACCELERATED
    assert not SettingChange.objects.filter(field="delivery").exists()


@pytest.mark.parametrize(("who", "status"), [("viewer", 403), ("no_membership", 404)])
def test_who_may_not_change_it_changes_nothing(world: World, who: str, status: int) -> None:
    brand = world.a.brand
    response = world.client(who).patch(
        f"/api/brands/{brand.pk}/", {"delivery": "standard"}, format="json"
    )
    assert response.status_code == status
    brand.refresh_from_db()
    assert brand.delivery == Delivery.ACCELERATED
