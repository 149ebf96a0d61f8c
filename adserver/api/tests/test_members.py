"""/api/brands/{id}/members/: who may see and change a brand; agency admins only."""

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from adserver.api.tests.conftest import PEOPLE, World, member_of
from budgets.models import BrandMembership, Role, SettingChange

pytestmark = pytest.mark.django_db


def _members(brand_id: int) -> list[tuple[str, str]]:
    return sorted(
        BrandMembership.objects.filter(brand_id=brand_id).values_list("user__username", "role")
    )


def test_an_agency_admin_lists_a_brands_members(world: World) -> None:
    response = world.agency_admin.get(f"/api/brands/{world.a.brand.pk}/members/")
    assert response.status_code == 200
    manager = User.objects.get(username="manager-a")
    viewer = User.objects.get(username="viewer-a")
    assert response.json() == {
        "count": 2,
        "next": None,
        "previous": None,
        "results": [
            {"user": manager.pk, "username": "manager-a", "role": "manager"},
            {"user": viewer.pk, "username": "viewer-a", "role": "viewer"},
        ],
    }
    empty = world.agency_admin.get(f"/api/brands/{world.b.brand.pk}/members/")
    assert empty.json()["results"] == []


def test_adding_a_member_gives_access_and_is_in_the_trail(world: World) -> None:
    newcomer = User.objects.create_user("newcomer")
    url = f"/api/brands/{world.b.brand.pk}/members/"
    response = world.agency_admin.post(url, {"user": newcomer.pk, "role": "viewer"}, format="json")
    assert response.status_code == 201, response.json()
    assert response.json() == {"user": newcomer.pk, "username": "newcomer", "role": "viewer"}
    assert _members(world.b.brand.pk) == [("newcomer", "viewer")]
    change = SettingChange.objects.filter(object_type="membership").latest("id")
    assert (change.brand_id, change.actor, change.via, change.before, change.after) == (
        world.b.brand.pk,
        "agency-admin",
        "api",
        None,
        "viewer",
    )
    # Posting again with another role changes it (200), it does not add a second row.
    again = world.agency_admin.post(url, {"user": newcomer.pk, "role": "manager"}, format="json")
    assert (again.status_code, again.json()["role"]) == (200, "manager")
    assert _members(world.b.brand.pk) == [("newcomer", "manager")]


def test_changing_and_removing_a_member(world: World) -> None:
    viewer = User.objects.get(username="viewer-a")
    url = f"/api/brands/{world.a.brand.pk}/members/{viewer.pk}/"
    changed = world.agency_admin.patch(url, {"role": "manager"}, format="json")
    assert changed.status_code == 200, changed.json()
    assert changed.json() == {"user": viewer.pk, "username": "viewer-a", "role": "manager"}
    assert world.viewer.post(f"/api/campaigns/{world.a.campaign.pk}/pause/").status_code == 200

    assert world.agency_admin.delete(url).status_code == 204
    assert ("viewer-a", "manager") not in _members(world.a.brand.pk)
    # From the next request on, the brand is gone for them.
    assert world.viewer.get(f"/api/brands/{world.a.brand.pk}/").status_code == 404
    trail = SettingChange.objects.filter(object_type="membership", object_id=viewer.pk)
    assert list(trail.order_by("id").values_list("before", "after")) == [
        (None, "viewer"),
        ("viewer", "manager"),
        ("manager", None),
    ]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"user": 987654, "role": "viewer"}, "user"),
        ({"user": "abc", "role": "viewer"}, "user"),
        ({"role": "viewer"}, "user"),
        ({"user": "SELF", "role": "owner"}, "role"),
        ({"user": "SELF", "role": None}, "role"),
        ({"user": "SELF"}, "role"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(
    world: World, body: dict[str, Any], field: str
) -> None:
    newcomer = User.objects.create_user("newcomer")
    body = {k: newcomer.pk if v == "SELF" else v for k, v in body.items()}
    before = _members(world.b.brand.pk), SettingChange.objects.count()
    response = world.agency_admin.post(
        f"/api/brands/{world.b.brand.pk}/members/", body, format="json"
    )
    assert response.status_code == 400
    assert set(response.json()) == {field}
    assert (_members(world.b.brand.pk), SettingChange.objects.count()) == before


def test_a_bad_role_in_a_patch_is_a_400(world: World) -> None:
    viewer = User.objects.get(username="viewer-a")
    url = f"/api/brands/{world.a.brand.pk}/members/{viewer.pk}/"
    response = world.agency_admin.patch(url, {"role": "owner"}, format="json")
    assert (response.status_code, set(response.json())) == (400, {"role"})
    assert ("viewer-a", "viewer") in _members(world.a.brand.pk)


@pytest.mark.parametrize("user_id", ["987654", "99999999999999999999999", "abc"])
def test_a_person_who_is_no_member_is_a_404(world: World, user_id: str) -> None:
    url = f"/api/brands/{world.a.brand.pk}/members/{user_id}/"
    assert world.agency_admin.patch(url, {"role": "viewer"}, format="json").status_code == 404
    assert world.agency_admin.delete(url).status_code == 404


# (brand A, brand B) for every method of both URLs.
ACCESS = {
    "anonymous": (401, 401),
    "no_membership": (404, 404),
    "viewer": (403, 404),
    "manager": (403, 404),
}


@pytest.mark.parametrize("who", [p for p in PEOPLE if p != "agency_admin"])
def test_only_agency_admins_see_or_change_members(world: World, who: str) -> None:
    client: APIClient = world.client(who)
    outsider = User.objects.create_user("outsider")
    viewer = User.objects.get(username="viewer-a")
    before = sorted(BrandMembership.objects.values_list("brand_id", "user_id", "role"))
    for method, path, body in [
        ("get", "members/", None),
        ("post", "members/", {"user": outsider.pk, "role": "manager"}),
        ("patch", f"members/{viewer.pk}/", {"role": "manager"}),
        ("delete", f"members/{viewer.pk}/", None),
    ]:
        codes = tuple(
            getattr(client, method)(
                f"/api/brands/{brand.pk}/{path}", body, format="json"
            ).status_code
            for brand in (world.a.brand, world.b.brand)
        )
        assert codes == ACCESS[who], (method, path)
    assert sorted(BrandMembership.objects.values_list("brand_id", "user_id", "role")) == before


@pytest.mark.parametrize("count", [2, 15])
def test_the_member_list_runs_a_fixed_number_of_queries(
    world: World, settings: Any, count: int
) -> None:
    settings.API_TOKEN_CACHE_SECONDS = 0
    for n in range(count):
        member_of(world.b.brand, Role.VIEWER, f"person-{n}")
    with CaptureQueriesContext(connection) as queries:
        response = world.agency_admin.get(f"/api/brands/{world.b.brand.pk}/members/")
    assert response.json()["count"] == count
    # * the token and its user  * the brand  * the user's permissions
    # * their groups' permissions  * count  * the page with the users
    assert len(queries) == 6, [q["sql"] for q in queries]
