"""/api/campaigns/: campaigns, their derived status, manual pause and resume."""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from budgets.tests.factories import BrandFactory, BudgetFactory
from campaigns.models import Campaign, CampaignStatusChange
from campaigns.tests.factories import CampaignFactory
from spend.tests.factories import CampaignSpendFactory, SpendEventFactory

pytestmark = pytest.mark.django_db


def _hold(campaign: Campaign, **facts: object) -> None:
    Campaign.objects.filter(pk=campaign.pk).update(**facts)


def test_detail_shows_every_contract_field(api: APIClient) -> None:
    budget = BudgetFactory.create()
    campaign = CampaignFactory.create(
        brand=budget.brand, budget=budget, starts_on=dt.date(2026, 1, 1)
    )
    CampaignSpendFactory.create(campaign=campaign, amount=Decimal("2.5"))
    _hold(campaign, budget_hold="budget_daily_limit")
    assert api.get(f"/api/campaigns/{campaign.pk}/").json() == {
        "id": campaign.pk,
        "brand": budget.brand_id,
        "budget": budget.pk,
        "name": campaign.name,
        "enabled": True,
        "starts_on": "2026-01-01",
        "ends_on": None,
        "status": "paused",
        "pause_reason": "budget_daily_limit",
        "daily_spend": "2.500000",
        "monthly_spend": "0.000000",
        "archived_at": None,
    }


def test_list_filters_by_brand_status_and_pause_reason(api: APIClient) -> None:
    brand = BrandFactory.create()
    active = CampaignFactory.create(brand=brand)
    manual = CampaignFactory.create(brand=brand, enabled=False)
    daypart = CampaignFactory.create(brand=brand)
    _hold(daypart, schedule_hold="outside_daypart")
    CampaignFactory.create()  # another brand

    def ids(**params: str | int) -> set[int]:
        response = api.get("/api/campaigns/", params)
        assert response.status_code == 200, response.json()
        return {c["id"] for c in response.json()["results"]}

    assert ids(brand=brand.pk) == {active.pk, manual.pk, daypart.pk}
    assert ids(brand=brand.pk, status="active") == {active.pk}
    assert ids(status="paused") == {manual.pk, daypart.pk}
    assert ids(pause_reason="outside_daypart") == {daypart.pk}
    assert ids(pause_reason="manual", brand=brand.pk) == {manual.pk}


@pytest.mark.parametrize(
    ("param", "value"), [("status", "sleeping"), ("pause_reason", "tired"), ("brand", "x")]
)
def test_a_bad_filter_value_is_a_400_naming_it(api: APIClient, param: str, value: str) -> None:
    response = api.get("/api/campaigns/", {param: value})
    assert response.status_code == 400
    assert set(response.json()) == {param}


@pytest.mark.parametrize("rows", [2, 30])
def test_list_runs_the_same_queries_whatever_the_page_size(api: APIClient, rows: int) -> None:
    for _ in range(rows):
        budget = BudgetFactory.create()
        campaign = CampaignFactory.create(brand=budget.brand, budget=budget)
        CampaignSpendFactory.create(campaign=campaign, amount=Decimal("1"))
    with CaptureQueriesContext(connection) as queries:
        response = api.get("/api/campaigns/")
    assert len(response.json()["results"]) == rows
    # * the token and its user  * count  * the page with brands and budgets
    # * the current rollups of the page's campaigns
    assert len(queries) == 4, [q["sql"] for q in queries]


@time_machine.travel(dt.datetime(2026, 3, 10, 12, 0, tzinfo=dt.UTC), tick=False)
def test_create_is_announced_and_returns_the_derived_state(
    api: APIClient, announced: list[frozenset[int]]
) -> None:
    budget = BudgetFactory.create()
    response = api.post(
        "/api/campaigns/",
        {
            "brand": budget.brand_id,
            "budget": budget.pk,
            "name": "Spring",
            "starts_on": "2026-03-01",
            "ends_on": "2026-03-31",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["status"], body["pause_reason"], body["enabled"]) == ("active", None, True)
    assert announced == [frozenset({budget.brand_id})]
    # The brand is reconciled in the same transaction: a flight already over
    # is paused from the start.
    response = api.post(
        "/api/campaigns/",
        {"brand": budget.brand_id, "name": "Winter", "ends_on": "2026-02-28"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert (response.json()["status"], response.json()["pause_reason"]) == ("paused", "ended")


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"budget": "foreign"}, "budget"),
        ({"budget": 987654}, "budget"),
        ({"starts_on": "2026-03-02", "ends_on": "2026-03-01"}, "ends_on"),
        ({"starts_on": "2026-02-30"}, "starts_on"),
        ({"ends_on": "03/01/2026"}, "ends_on"),
        ({"enabled": "perhaps"}, "enabled"),
        ({"brand": None}, "brand"),
        ({"name": None}, "name"),
    ],
)
def test_create_refuses_a_bad_value_naming_the_field(
    api: APIClient, changes: dict[str, object], field: str
) -> None:
    brand = BrandFactory.create()
    if changes.get("budget") == "foreign":
        changes = {"budget": BudgetFactory.create().pk}
    response = api.post(
        "/api/campaigns/", {"brand": brand.pk, "name": "Spring", **changes}, format="json"
    )
    assert response.status_code == 400
    assert set(response.json()) == {field}
    assert not Campaign.objects.exists()


def test_a_campaign_cannot_change_brand(api: APIClient) -> None:
    campaign = CampaignFactory.create()
    other = BrandFactory.create()
    response = api.patch(f"/api/campaigns/{campaign.pk}/", {"brand": other.pk}, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"brand"}
    assert Campaign.objects.get(pk=campaign.pk).brand_id == campaign.brand_id


def test_patch_with_the_same_brand_is_fine(api: APIClient) -> None:
    campaign = CampaignFactory.create()
    response = api.patch(
        f"/api/campaigns/{campaign.pk}/",
        {"brand": campaign.brand_id, "name": "Renamed"},
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["name"] == "Renamed"


def test_patch_with_ends_on_before_the_stored_start_is_refused(api: APIClient) -> None:
    campaign = CampaignFactory.create(starts_on=dt.date(2026, 3, 10))
    response = api.patch(f"/api/campaigns/{campaign.pk}/", {"ends_on": "2026-03-09"}, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"ends_on"}


def test_pause_is_manual_and_recorded_with_the_user(api: APIClient, staff_user: User) -> None:
    campaign = CampaignFactory.create()
    response = api.post(
        f"/api/campaigns/{campaign.pk}/pause/", {"note": "client asked"}, format="json"
    )
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["pause_reason"]) == ("paused", "manual")
    change = CampaignStatusChange.objects.get()
    assert (change.user, change.note, change.new_reason) == (staff_user, "client asked", "manual")


def test_resume_lifts_only_the_manual_pause(api: APIClient) -> None:
    campaign = CampaignFactory.create(enabled=False)
    _hold(campaign, budget_hold="brand_daily_budget")
    response = api.post(f"/api/campaigns/{campaign.pk}/resume/")
    assert response.status_code == 200
    body = response.json()
    assert (body["enabled"], body["status"], body["pause_reason"]) == (
        True,
        "paused",
        "brand_daily_budget",
    )


def test_resume_of_a_campaign_held_by_nothing_else_makes_it_serve(api: APIClient) -> None:
    campaign = CampaignFactory.create(enabled=False)
    body = api.post(f"/api/campaigns/{campaign.pk}/resume/", {}, format="json").json()
    assert (body["status"], body["pause_reason"]) == ("active", None)


def test_pause_of_an_unknown_campaign_is_404(api: APIClient) -> None:
    assert api.post("/api/campaigns/987654/pause/").status_code == 404
    assert api.post("/api/campaigns/abc/resume/").status_code == 404


def test_pause_note_is_bounded(api: APIClient) -> None:
    campaign = CampaignFactory.create()
    response = api.post(f"/api/campaigns/{campaign.pk}/pause/", {"note": "x" * 256}, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"note"}
    assert Campaign.objects.get(pk=campaign.pk).enabled


def test_disabling_through_patch_is_a_manual_pause(api: APIClient) -> None:
    campaign = CampaignFactory.create()
    response = api.patch(f"/api/campaigns/{campaign.pk}/", {"enabled": False}, format="json")
    assert response.json()["pause_reason"] == "manual"
    assert CampaignStatusChange.objects.get().actor == "user"


def test_delete_of_a_campaign_with_spend_is_a_conflict(api: APIClient) -> None:
    event = SpendEventFactory.create()
    response = api.delete(f"/api/campaigns/{event.campaign_id}/")
    assert response.status_code == 409
    assert Campaign.objects.filter(pk=event.campaign_id).exists()


def test_delete_of_a_campaign_without_spend(api: APIClient) -> None:
    campaign = CampaignFactory.create()
    assert api.delete(f"/api/campaigns/{campaign.pk}/").status_code == 204
    assert not Campaign.objects.exists()
