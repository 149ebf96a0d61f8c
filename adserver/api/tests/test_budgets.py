"""/api/budgets/: shared budgets inside a brand."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from budgets.models import Budget
from budgets.tests.factories import BrandFactory, BudgetFactory
from campaigns.tests.factories import CampaignFactory
from spend.tests.factories import BudgetSpendFactory

pytestmark = pytest.mark.django_db


def test_list_filters_by_brand_and_shows_current_spend(api: APIClient) -> None:
    budget = BudgetFactory.create(daily_limit=Decimal("50"), monthly_limit=None)
    BudgetFactory.create()
    BudgetSpendFactory.create(budget=budget, amount=Decimal("7.125"))
    response = api.get("/api/budgets/", {"brand": budget.brand_id})
    assert response.status_code == 200
    assert response.json()["results"] == [
        {
            "id": budget.pk,
            "brand": budget.brand_id,
            "name": budget.name,
            "daily_limit": "50.00",
            "monthly_limit": None,
            "daily_spend": "7.125000",
            "monthly_spend": "0.000000",
            "pacing": None,  # no monthly limit
        }
    ]


@pytest.mark.parametrize("value", ["abc", "1.5", "0", "99999999999999999999999"])
def test_a_malformed_brand_filter_is_a_400_naming_it(api: APIClient, value: str) -> None:
    response = api.get("/api/budgets/", {"brand": value})
    assert response.status_code == 400
    assert set(response.json()) == {"brand"}


def test_an_unknown_brand_filter_gives_an_empty_list(api: APIClient) -> None:
    """As the id of a brand one may not see does (test_access.py): nothing to tell apart."""
    BudgetFactory.create()
    response = api.get("/api/budgets/", {"brand": "987654"})
    assert (response.status_code, response.json()["results"]) == (200, [])


@pytest.mark.parametrize("rows", [2, 30])
def test_list_runs_the_same_queries_whatever_the_page_size(api: APIClient, rows: int) -> None:
    for budget in BudgetFactory.create_batch(rows, monthly_limit=Decimal("500")):
        BudgetSpendFactory.create(budget=budget, amount=Decimal("1"))
    with CaptureQueriesContext(connection) as queries:
        response = api.get("/api/budgets/")
    assert len(response.json()["results"]) == rows
    # * the token and its user  * count  * the page with brands
    # * the current rollups of the page's budgets
    # * pacing: the page's rollups of this month  * their ledger spend of the last hour
    # * the serving windows today of their campaigns (each has a daily limit)
    assert len(queries) == 7, [q["sql"] for q in queries]


def test_create_with_null_limits(api: APIClient) -> None:
    brand = BrandFactory.create()
    response = api.post(
        "/api/budgets/", {"brand": brand.pk, "name": "Search", "daily_limit": None}, format="json"
    )
    assert response.status_code == 201, response.json()
    assert (response.json()["daily_limit"], response.json()["monthly_limit"]) == (None, None)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("brand", 987654),
        ("brand", "abc"),
        ("brand", 1.5),
        ("brand", 10**30),
        ("brand", None),
        ("daily_limit", "-5"),
        ("daily_limit", "0.001"),
        ("monthly_limit", "NaN"),
        ("name", ""),
    ],
)
def test_create_refuses_a_bad_value_naming_the_field(
    api: APIClient, field: str, value: object
) -> None:
    brand = BrandFactory.create()
    response = api.post(
        "/api/budgets/", {"brand": brand.pk, "name": "Search", field: value}, format="json"
    )
    assert response.status_code == 400
    assert set(response.json()) == {field}
    assert not Budget.objects.exists()


def test_a_daily_limit_above_the_monthly_limit_is_a_400_on_the_daily_limit(
    api: APIClient,
) -> None:
    brand = BrandFactory.create()
    response = api.post(
        "/api/budgets/",
        {"brand": brand.pk, "name": "Odd", "daily_limit": "60", "monthly_limit": "50"},
        format="json",
    )
    assert response.status_code == 400
    assert response.json() == {
        "daily_limit": ["The daily limit cannot be above the monthly limit (50.00)."]
    }
    assert not Budget.objects.exists()


def test_a_limit_above_the_brands_cap_is_accepted(api: APIClient) -> None:
    brand = BrandFactory.create(daily_budget=Decimal("100"))
    response = api.post(
        "/api/budgets/",
        {"brand": brand.pk, "name": "Generous", "daily_limit": "150"},
        format="json",
    )
    assert response.status_code == 201, response.json()


def test_names_are_unique_within_a_brand(api: APIClient) -> None:
    budget = BudgetFactory.create(name="Search")
    response = api.post(
        "/api/budgets/", {"brand": budget.brand_id, "name": "Search"}, format="json"
    )
    assert response.status_code == 400
    assert set(response.json()) == {"name"}


def test_patch_of_a_limit_is_announced(api: APIClient, announced: list[frozenset[int]]) -> None:
    budget = BudgetFactory.create()
    response = api.patch(f"/api/budgets/{budget.pk}/", {"monthly_limit": "900"}, format="json")
    assert response.status_code == 200
    assert response.json()["monthly_limit"] == "900.00"
    assert announced == [frozenset({budget.brand_id})]


def test_a_budget_cannot_move_to_another_brand(api: APIClient) -> None:
    budget = BudgetFactory.create()
    other = BrandFactory.create()
    response = api.patch(f"/api/budgets/{budget.pk}/", {"brand": other.pk}, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"brand"}


def test_delete_of_a_budget_in_use_is_a_conflict(api: APIClient) -> None:
    budget = BudgetFactory.create()
    CampaignFactory.create(brand=budget.brand, budget=budget)
    response = api.delete(f"/api/budgets/{budget.pk}/")
    assert response.status_code == 409
    assert "used by campaigns" in response.json()["detail"]
    assert Budget.objects.filter(pk=budget.pk).exists()


def test_delete_of_an_unused_budget(api: APIClient) -> None:
    budget = BudgetFactory.create()
    assert api.delete(f"/api/budgets/{budget.pk}/").status_code == 204
    assert api.get(f"/api/budgets/{budget.pk}/").status_code == 404
