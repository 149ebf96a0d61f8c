"""/api/brands/: brands with their local day's and month's spend."""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from budgets.models import Brand, Period
from budgets.tests.factories import BrandFactory, BudgetFactory
from campaigns.models import Campaign
from campaigns.tests.factories import CampaignFactory
from spend.tests.factories import BrandSpendFactory, SpendEventFactory

pytestmark = pytest.mark.django_db

# 20:00 UTC on 10 March: already the 11th in Kolkata.
NOW = dt.datetime(2026, 3, 10, 20, 0, tzinfo=dt.UTC)
NEW_BRAND = {"name": "Acme", "daily_budget": "100.00", "monthly_budget": "3000.00"}


@time_machine.travel(NOW, tick=False)
def test_list_shows_spend_and_remaining_for_each_brands_local_day(api: APIClient) -> None:
    brand = BrandFactory.create(
        timezone="Asia/Kolkata", daily_budget=Decimal("100"), monthly_budget=Decimal("1000")
    )
    CampaignFactory.create_batch(2, brand=brand)
    for period, start, amount in [
        (Period.DAY, dt.date(2026, 3, 11), "30.5"),
        (Period.DAY, dt.date(2026, 3, 10), "99"),  # yesterday in Kolkata
        (Period.MONTH, dt.date(2026, 3, 1), "129.5"),
    ]:
        BrandSpendFactory.create(
            brand=brand, period=period, period_start=start, amount=Decimal(amount)
        )

    response = api.get("/api/brands/")

    assert response.status_code == 200
    assert response.json() == {
        "count": 1,
        "next": None,
        "previous": None,
        "results": [
            {
                "id": brand.pk,
                "name": brand.name,
                "timezone": "Asia/Kolkata",
                "currency": "USD",
                "daily_budget": "100.00",
                "monthly_budget": "1000.00",
                "delivery": "accelerated",
                "daily_spend": "30.500000",
                "monthly_spend": "129.500000",
                "daily_remaining": "69.500000",
                "monthly_remaining": "870.500000",
                "daily_overspend": "0.000000",
                "monthly_overspend": "0.000000",
                "campaigns_count": 2,
                # 01:30 on the 11th in Kolkata: 10.0625 of 31 days gone; one
                # complete day of spend (99) in the last seven.
                "pacing": {
                    "month_expected_to_date": "324.60",
                    "month_pacing_percent": "39.90",
                    "month_projected": "425.62",
                    "month_cap_reached_on": None,
                    "recommended_daily_budget": "42.90",  # (1000 - 99) / 21
                    "status": "under",
                    "day_cap_reached_at": None,
                },
                "archived_at": None,
            }
        ],
    }


def test_remaining_stops_at_zero_and_overspend_shows_in_the_spend(api: APIClient) -> None:
    brand = BrandFactory.create(daily_budget=Decimal("10"))
    BrandSpendFactory.create(brand=brand, amount=Decimal("12.25"))
    body = api.get(f"/api/brands/{brand.pk}/").json()
    assert (body["daily_spend"], body["daily_remaining"]) == ("12.250000", "0.000000")


@pytest.mark.parametrize("rows", [3, 40])
def test_list_runs_the_same_queries_whatever_the_page_size(api: APIClient, rows: int) -> None:
    for brand in BrandFactory.create_batch(rows):
        CampaignFactory.create(brand=brand)
        BrandSpendFactory.create(brand=brand, amount=Decimal("1"))
    with CaptureQueriesContext(connection) as queries:
        response = api.get("/api/brands/", {"page_size": 50})
    assert len(response.json()["results"]) == rows
    # * the token and its user  * count  * the page with campaign counts
    # * the current day and month rollups of the page's brands
    # * pacing: the page's rollups of this month  * their ledger spend of the last hour
    # * their serving windows today
    assert len(queries) == 7, [q["sql"] for q in queries]


def test_pages_follow_the_name_order(api: APIClient) -> None:
    for name in ["Cedar", "Alder", "Birch"]:
        BrandFactory.create(name=name)
    first = api.get("/api/brands/", {"page_size": 2}).json()
    assert [b["name"] for b in first["results"]] == ["Alder", "Birch"]
    assert first["count"] == 3
    second = api.get(first["next"]).json()
    assert [b["name"] for b in second["results"]] == ["Cedar"]
    assert second["next"] is None
    assert api.get("/api/brands/", {"page": 9}).status_code == 404


def test_create_returns_the_brand_with_zero_spend(api: APIClient) -> None:
    response = api.post(
        "/api/brands/", {**NEW_BRAND, "timezone": "Europe/Oslo", "currency": "NOK"}, format="json"
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["timezone"] == "Europe/Oslo"
    assert (body["daily_spend"], body["daily_remaining"]) == ("0.000000", "100.000000")
    assert body["campaigns_count"] == 0
    assert Brand.objects.get(pk=body["id"]).currency == "NOK"


def test_create_defaults_to_utc_and_usd(api: APIClient) -> None:
    body = api.post("/api/brands/", NEW_BRAND, format="json").json()
    assert (body["timezone"], body["currency"]) == ("UTC", "USD")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("timezone", "Mars/Olympus_Mons"),
        ("timezone", ""),
        ("currency", "usd"),
        ("daily_budget", "-1.00"),
        ("daily_budget", "0"),
        ("daily_budget", "10.001"),
        ("daily_budget", "NaN"),
        ("monthly_budget", "Infinity"),
        ("monthly_budget", "1e20"),
        ("monthly_budget", True),
        ("delivery", "even"),
        ("delivery", None),
        ("daily_budget", None),
        ("name", ""),
        ("name", "x" * 201),
        ("name", ["Acme"]),
    ],
)
def test_create_refuses_a_bad_value_naming_the_field(
    api: APIClient, field: str, value: object
) -> None:
    response = api.post("/api/brands/", {**NEW_BRAND, field: value}, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {field}
    assert not Brand.objects.exists()


def test_a_daily_budget_above_the_monthly_one_is_a_400_on_the_daily_budget(
    api: APIClient,
) -> None:
    response = api.post("/api/brands/", {**NEW_BRAND, "daily_budget": "3000.01"}, format="json")
    assert response.status_code == 400
    assert response.json() == {
        "daily_budget": ["The daily budget cannot be above the monthly budget (3,000.00)."]
    }
    assert not Brand.objects.exists()
    brand = BrandFactory.create(daily_budget=Decimal("100"), monthly_budget=Decimal("3000"))
    response = api.patch(f"/api/brands/{brand.pk}/", {"monthly_budget": "99"}, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"daily_budget"}
    brand.refresh_from_db()
    assert brand.monthly_budget == Decimal("3000")


def test_create_refuses_a_taken_name(api: APIClient) -> None:
    BrandFactory.create(name="Acme")
    response = api.post("/api/brands/", NEW_BRAND, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"name"}


def test_create_needs_the_budgets(api: APIClient) -> None:
    response = api.post("/api/brands/", {"name": "Acme"}, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"daily_budget", "monthly_budget"}


def test_patch_changes_only_what_was_sent(api: APIClient, announced: list[frozenset[int]]) -> None:
    brand = BrandFactory.create(name="Acme", timezone="Europe/Paris")
    response = api.patch(f"/api/brands/{brand.pk}/", {"daily_budget": "55.5"}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["daily_budget"] == "55.50"
    brand.refresh_from_db()
    assert (brand.name, brand.timezone, brand.daily_budget) == (
        "Acme",
        "Europe/Paris",
        Decimal("55.50"),
    )
    assert announced == [frozenset({brand.pk})]


def test_patch_with_an_unknown_time_zone_changes_nothing(api: APIClient) -> None:
    brand = BrandFactory.create(timezone="Europe/Paris")
    response = api.patch(
        f"/api/brands/{brand.pk}/", {"timezone": "Europe/Atlantis", "name": "New"}, format="json"
    )
    assert response.status_code == 400
    assert set(response.json()) == {"timezone"}
    brand.refresh_from_db()
    assert (brand.timezone, brand.name) == ("Europe/Paris", brand.name)


def test_put_is_not_offered(api: APIClient) -> None:
    brand = BrandFactory.create()
    assert api.put(f"/api/brands/{brand.pk}/", NEW_BRAND, format="json").status_code == 405


def test_delete_removes_a_brand_without_spend(api: APIClient) -> None:
    budget = BudgetFactory.create()
    CampaignFactory.create(brand=budget.brand, budget=budget)
    assert api.delete(f"/api/brands/{budget.brand_id}/").status_code == 204
    assert not Brand.objects.exists()
    assert not Campaign.objects.exists()


def test_delete_of_a_brand_with_spend_is_a_conflict_and_keeps_everything(
    api: APIClient,
) -> None:
    event = SpendEventFactory.create()
    response = api.delete(f"/api/brands/{event.brand_id}/")
    assert response.status_code == 409
    assert "recorded spend" in response.json()["detail"]
    assert Brand.objects.filter(pk=event.brand_id).exists()
    assert Campaign.objects.filter(pk=event.campaign_id).exists()


@pytest.mark.parametrize("pk", ["987654", "abc", "99999999999999999999999", "-1"])
def test_unknown_ids_are_404(api: APIClient, pk: str) -> None:
    assert api.get(f"/api/brands/{pk}/").status_code == 404
    assert api.patch(f"/api/brands/{pk}/", {"name": "x"}, format="json").status_code == 404
    assert api.delete(f"/api/brands/{pk}/").status_code == 404
