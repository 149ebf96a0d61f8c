"""GET /api/brands/{id}/changes/: the brand's audit trail, newest first, for whoever sees it."""

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext

from adserver.api.tests.conftest import World, member_of
from budgets.models import Role, SettingChange

pytestmark = pytest.mark.django_db


def test_a_change_made_through_the_api_is_in_the_trail_newest_first(world: World) -> None:
    SettingChange.objects.all().delete()  # only what this test does
    brand = world.a.brand
    assert (
        world.manager.patch(
            f"/api/brands/{brand.pk}/", {"daily_budget": "75.00"}, format="json"
        ).status_code
        == 200
    )
    assert (
        world.manager.patch(
            f"/api/budgets/{world.a.budget.pk}/", {"daily_limit": None}, format="json"
        ).status_code
        == 200
    )

    response = world.viewer.get(f"/api/brands/{brand.pk}/changes/")

    assert response.status_code == 200
    body = response.json()
    manager = User.objects.get(username="manager-a")
    newest, oldest = body["results"]
    assert body["count"] == 2
    assert {k: v for k, v in newest.items() if k not in {"id", "changed_at"}} == {
        "actor": "manager-a",
        "user": manager.pk,
        "via": "api",
        "object_type": "budget",
        "object_id": world.a.budget.pk,
        "object_repr": world.a.budget.name,
        "field": "daily_limit",
        "before": "50.00",
        "after": None,
    }
    assert (oldest["object_type"], oldest["field"], oldest["before"], oldest["after"]) == (
        "brand",
        "daily_budget",
        "100.00",
        "75.00",
    )
    assert newest["id"] > oldest["id"]
    assert newest["changed_at"] >= oldest["changed_at"]


def test_the_trail_holds_only_the_brands_own_changes(world: World) -> None:
    url = f"/api/brands/{world.b.brand.pk}/"
    assert world.agency_admin.patch(url, {"name": "Bee"}, format="json").status_code == 200

    def trail(client: Any, brand_id: int) -> set[int]:
        return {
            row["id"] for row in client.get(f"/api/brands/{brand_id}/changes/").json()["results"]
        }

    on_b = set(SettingChange.objects.filter(brand=world.b.brand).values_list("id", flat=True))
    on_a = set(SettingChange.objects.filter(brand=world.a.brand).values_list("id", flat=True))
    assert on_b  # the rename of B
    assert on_a  # the memberships of A
    assert trail(world.agency_admin, world.b.brand.pk) == on_b
    assert trail(world.viewer, world.a.brand.pk) == on_a


@pytest.mark.parametrize(
    ("who", "on_a", "on_b"),
    [
        ("anonymous", 401, 401),
        ("no_membership", 404, 404),
        ("viewer", 200, 404),
        ("manager", 200, 404),
        ("agency_admin", 200, 200),
    ],
)
def test_whoever_sees_the_brand_sees_its_trail(
    world: World, who: str, on_a: int, on_b: int
) -> None:
    client = world.client(who)
    codes = tuple(
        client.get(f"/api/brands/{brand.pk}/changes/").status_code
        for brand in (world.a.brand, world.b.brand)
    )
    assert codes == (on_a, on_b)


def test_the_trail_is_paginated(world: World) -> None:
    for n in range(5):
        member_of(world.a.brand, Role.VIEWER, f"person-{n}")
    total = SettingChange.objects.filter(brand=world.a.brand).count()
    first = world.viewer.get(f"/api/brands/{world.a.brand.pk}/changes/", {"page_size": 2}).json()
    assert (first["count"], len(first["results"])) == (total, 2)
    second = world.viewer.get(first["next"]).json()
    assert [r["id"] for r in first["results"]] + [r["id"] for r in second["results"]] == sorted(
        SettingChange.objects.filter(brand=world.a.brand).values_list("id", flat=True),
        reverse=True,
    )[:4]
    bad = world.viewer.get(f"/api/brands/{world.a.brand.pk}/changes/", {"page_size": "x"})
    assert (bad.status_code, set(bad.json())) == (400, {"page_size"})


@pytest.mark.parametrize("count", [2, 15])
@pytest.mark.parametrize("who", ["viewer", "agency_admin"])
def test_the_trail_runs_a_fixed_number_of_queries(
    world: World, settings: Any, who: str, count: int
) -> None:
    settings.API_TOKEN_CACHE_SECONDS = 0
    for n in range(count):
        member_of(world.a.brand, Role.VIEWER, f"person-{n}")
    with CaptureQueriesContext(connection) as queries:
        response = world.client(who).get(f"/api/brands/{world.a.brand.pk}/changes/")
    assert response.status_code == 200
    # * the token and its user  * the user's permissions  * their groups' permissions
    # * the brand (narrowed to the visible ones by a subquery)  * count  * the page
    assert len(queries) == 6, [q["sql"] for q in queries]
