"""A brand's `delivery` through the API: set, changed, refused, on the audit trail,
and the pacing hold it brings as a campaign's pause_reason."""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from rest_framework.test import APIClient

from adserver.api.tests.conftest import World
from budgets.models import Brand, Delivery, SettingChange
from campaigns.models import Daypart
from spend.reconcile import reconcile
from spend.services import spend_record

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


def test_a_campaign_held_for_pacing_says_so_and_can_be_filtered(world: World) -> None:
    brand = world.a.brand
    campaign = world.a.campaign
    Brand.objects.filter(pk=brand.pk).update(delivery=Delivery.STANDARD)
    Daypart.objects.filter(campaign=campaign).delete()
    now = dt.datetime(2026, 3, 10, 6, tzinfo=dt.UTC)
    with time_machine.travel(now, tick=False):
        spend_record(campaign_id=campaign.pk, amount=brand.daily_budget * Decimal("0.4"))
        reconcile()  # at 06:00, 40% of the day's budget is ahead of 25% + 5%

        listed = world.viewer.get("/api/campaigns/", {"pause_reason": "brand_daily_pacing"})
        status = world.agency_admin.get("/api/status/").json()

    assert [(c["id"], c["status"], c["pause_reason"]) for c in listed.json()["results"]] == [
        (campaign.pk, "paused", "brand_daily_pacing")
    ]
    assert status["paused_by_reason"]["brand_daily_pacing"] == 1
