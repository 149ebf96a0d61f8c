"""Brand roles decide what the API shows and lets change: one test per rule and person.

Five people (see `conftest.world`): anonymous, a user with no membership, a
viewer of brand A, a manager of A, an agency admin; each tried on A's
objects and on B's. An invisible object is a 404 like an unknown id, a
refused write is a 403 (or that 404) and changes nothing.
"""

from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import Permission, User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from adserver.api.tests.conftest import PEOPLE, BrandRows, World, brand_rows, token_client
from budgets.models import Brand, BrandMembership, Budget, Role, SettingChange
from budgets.services import membership_set
from budgets.tests.factories import BrandFactory
from campaigns.models import Campaign, Daypart
from spend.models import BrandSpend, SpendEvent
from spend.tests.factories import BrandSpendFactory

pytestmark = pytest.mark.django_db

RESOURCES = ["brands", "budgets", "campaigns", "dayparts", "spend"]


def _row_id(rows: BrandRows, resource: str) -> int:
    row: Any = {
        "brands": rows.brand,
        "budgets": rows.budget,
        "campaigns": rows.campaign,
        "dayparts": rows.daypart,
        "spend": rows.event,
    }[resource]
    pk: int = row.pk
    return pk


def _ids(response: Any) -> list[int]:
    assert response.status_code == 200, response.content[:300]
    return sorted(item["id"] for item in response.json()["results"])


def everything() -> tuple[Any, ...]:
    """Every row a write could touch, to prove a refused one touched none."""
    return (
        list(Brand.objects.order_by("pk").values()),
        list(Budget.objects.order_by("pk").values()),
        list(Campaign.objects.order_by("pk").values()),
        list(Daypart.objects.order_by("pk").values()),
        list(SpendEvent.objects.order_by("pk").values_list("pk", "amount")),
        list(BrandSpend.objects.order_by("pk").values_list("pk", "amount")),
        list(BrandMembership.objects.order_by("pk").values_list("pk", "user_id", "role")),
        SettingChange.objects.count(),
    )


# --- reading --------------------------------------------------------------------------------

LISTED = {
    "anonymous": None,  # 401
    "no_membership": [],
    "viewer": ["a"],
    "manager": ["a"],
    "agency_admin": ["a", "b"],
}


@pytest.mark.parametrize("resource", RESOURCES)
@pytest.mark.parametrize("who", PEOPLE)
def test_lists_hold_only_the_objects_of_visible_brands(
    world: World, who: str, resource: str
) -> None:
    response = world.client(who).get(f"/api/{resource}/")
    expected = LISTED[who]
    if expected is None:
        assert response.status_code == 401
        return
    rows = {"a": world.a, "b": world.b}
    assert _ids(response) == sorted(_row_id(rows[key], resource) for key in expected)
    assert response.json()["count"] == len(expected)


DETAIL = {
    "anonymous": (401, 401),
    "no_membership": (404, 404),
    "viewer": (200, 404),
    "manager": (200, 404),
    "agency_admin": (200, 200),
}


@pytest.mark.parametrize("resource", RESOURCES)
@pytest.mark.parametrize("who", PEOPLE)
def test_the_detail_of_an_invisible_object_is_a_404(world: World, who: str, resource: str) -> None:
    client = world.client(who)
    on_a = client.get(f"/api/{resource}/{_row_id(world.a, resource)}/")
    on_b = client.get(f"/api/{resource}/{_row_id(world.b, resource)}/")
    assert (on_a.status_code, on_b.status_code) == DETAIL[who]
    if on_b.status_code == 404:  # the same answer as an id that does not exist
        unknown = client.get(f"/api/{resource}/987654/")
        assert (unknown.status_code, unknown.json()) == (404, on_b.json())


@pytest.mark.parametrize(
    ("url", "param", "rows"),
    [
        ("/api/budgets/", "brand", "brand"),
        ("/api/campaigns/", "brand", "brand"),
        ("/api/campaigns/", "budget", "budget"),
        ("/api/dayparts/", "campaign", "campaign"),
        ("/api/spend/", "brand", "brand"),
        ("/api/spend/", "campaign", "campaign"),
    ],
)
def test_a_filter_naming_an_invisible_object_gives_an_empty_list(
    world: World, url: str, param: str, rows: str
) -> None:
    own = getattr(world.a, rows).pk
    invisible = getattr(world.b, rows).pk
    assert len(_ids(world.viewer.get(url, {param: own}))) == 1
    hidden = world.viewer.get(url, {param: invisible})
    unknown = world.viewer.get(url, {param: 987654})
    assert (
        hidden.json()
        == unknown.json()
        == {
            "count": 0,
            "next": None,
            "previous": None,
            "results": [],
        }
    )
    # The agency admin sees B's row through the same filter.
    assert len(_ids(world.agency_admin.get(url, {param: invisible}))) == 1


def test_status_counts_only_the_visible_brands(world: World) -> None:
    def brands(client: APIClient) -> tuple[int, int]:
        body = client.get("/api/status/").json()
        return body["total_brands"], body["total_campaigns"]

    assert brands(world.no_membership) == (0, 0)
    assert brands(world.viewer) == (1, 1)
    assert brands(world.manager) == (1, 1)
    assert brands(world.agency_admin) == (2, 2)
    assert world.anonymous.get("/api/status/").status_code == 401


def test_a_removed_membership_counts_from_the_next_request(world: World) -> None:
    url = f"/api/campaigns/{world.a.campaign.pk}/"
    assert world.viewer.get(url).status_code == 200
    BrandMembership.objects.filter(user__username="viewer-a").delete()
    assert world.viewer.get(url).status_code == 404
    assert world.viewer.get("/api/campaigns/").json()["count"] == 0


# --- changing -------------------------------------------------------------------------------

PATCHES = {
    "brands": {"daily_budget": "55.00"},
    "budgets": {"daily_limit": "44.00"},
    "campaigns": {"name": "Renamed"},
    "dayparts": {"start_time": "10:00"},
}
# (A's object, B's object) for a PATCH, DELETE or pause/resume.
WRITE = {
    "anonymous": (401, 401),
    "no_membership": (404, 404),
    "viewer": (403, 404),
    "manager": (200, 404),
    "agency_admin": (200, 200),
}


@pytest.mark.parametrize("resource", list(PATCHES))
@pytest.mark.parametrize("who", PEOPLE)
def test_a_change_needs_the_manager_role_and_a_refused_one_changes_nothing(
    world: World, who: str, resource: str
) -> None:
    client = world.client(who)
    answers = []
    for rows in (world.a, world.b):
        before = everything()
        response = client.patch(
            f"/api/{resource}/{_row_id(rows, resource)}/", PATCHES[resource], format="json"
        )
        answers.append(response)
        if response.status_code != 200:
            assert everything() == before
    assert tuple(answer.status_code for answer in answers) == WRITE[who]
    if answers[0].status_code == 403:
        assert answers[0].json() == {"detail": "This needs the manager role on the brand."}


@pytest.mark.parametrize("who", PEOPLE)
def test_deleting_needs_the_manager_role(world: World, who: str) -> None:
    client = world.client(who)
    codes = []
    for rows in (world.a, world.b):
        before = everything()
        response = client.delete(f"/api/dayparts/{rows.daypart.pk}/")
        codes.append(response.status_code)
        if response.status_code != 204:
            assert everything() == before
    assert tuple(codes) == {**WRITE, "manager": (204, 404), "agency_admin": (204, 204)}[who]


@pytest.mark.parametrize("action", ["pause", "resume"])
@pytest.mark.parametrize("who", PEOPLE)
def test_pause_and_resume_need_the_manager_role(world: World, who: str, action: str) -> None:
    if action == "resume":
        Campaign.objects.filter(pk__in=[world.a.campaign.pk, world.b.campaign.pk]).update(
            enabled=False
        )
    client = world.client(who)
    codes = []
    for rows in (world.a, world.b):
        before = everything()
        response = client.post(f"/api/campaigns/{rows.campaign.pk}/{action}/")
        codes.append(response.status_code)
        if response.status_code != 200:
            assert everything() == before
        else:
            assert Campaign.objects.get(pk=rows.campaign.pk).enabled is (action == "resume")
    assert tuple(codes) == WRITE[who]


def _creation(rows: BrandRows, resource: str) -> dict[str, object]:
    return {
        "budgets": {"brand": rows.brand.pk, "name": "New"},
        "campaigns": {"brand": rows.brand.pk, "budget": rows.budget.pk, "name": "New"},
        "dayparts": {
            "campaign": rows.campaign.pk,
            "days": ["mon"],
            "start_time": "09:00",
            "end_time": "17:00",
        },
    }[resource]


@pytest.mark.parametrize("resource", ["budgets", "campaigns", "dayparts"])
@pytest.mark.parametrize(
    ("who", "on_a", "on_b"),
    [
        ("anonymous", 401, 401),
        ("no_membership", 400, 400),
        ("viewer", 403, 400),
        ("manager", 201, 400),
        ("agency_admin", 201, 201),
    ],
)
def test_creating_needs_the_manager_role_of_a_brand_one_may_see(
    world: World, who: str, on_a: int, on_b: int, resource: str
) -> None:
    client = world.client(who)
    codes = []
    for rows in (world.a, world.b):
        before = everything()
        response = client.post(f"/api/{resource}/", _creation(rows, resource), format="json")
        codes.append(response.status_code)
        if response.status_code != 201:
            assert everything() == before
        if response.status_code == 400:
            # Exactly what ids that do not exist get: B's existence is not revealed.
            related = {"budgets": ["brand"], "campaigns": ["brand", "budget"]}.get(
                resource, ["campaign"]
            )
            unknown = client.post(
                f"/api/{resource}/",
                {**_creation(rows, resource), **dict.fromkeys(related, 987654)},
                format="json",
            )
            assert set(response.json()) == set(unknown.json()) == set(related)
            for field in related:
                shown = str(getattr(rows, field).pk)
                assert [m.replace(shown, "N") for m in response.json()[field]] == [
                    m.replace("987654", "N") for m in unknown.json()[field]
                ]
    assert (codes[0], codes[1]) == (on_a, on_b)


def test_a_campaign_cannot_draw_from_an_invisible_budget(world: World) -> None:
    before = everything()
    response = world.manager.post(
        "/api/campaigns/",
        {"brand": world.a.brand.pk, "budget": world.b.budget.pk, "name": "Sly"},
        format="json",
    )
    assert response.status_code == 400
    assert set(response.json()) == {"budget"}
    assert everything() == before


NEW_BRAND = {"name": "Acme", "daily_budget": "1.00", "monthly_budget": "2.00"}


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("anonymous", 401),
        ("no_membership", 403),
        ("viewer", 403),
        ("manager", 403),
        ("agency_admin", 201),
    ],
)
def test_only_agency_admins_create_brands(world: World, who: str, expected: int) -> None:
    before = everything()
    response = world.client(who).post("/api/brands/", NEW_BRAND, format="json")
    assert response.status_code == expected
    if expected == 403:
        assert response.json() == {"detail": "Only agency admins may do this."}
    if expected != 201:
        assert everything() == before
    else:
        assert Brand.objects.filter(name="Acme").exists()


@pytest.mark.parametrize(
    ("who", "on_a", "on_b"),
    [
        ("anonymous", 401, 401),
        ("no_membership", 404, 404),
        ("viewer", 403, 404),
        ("manager", 403, 404),
        ("agency_admin", 204, 204),
    ],
)
def test_only_agency_admins_delete_brands(world: World, who: str, on_a: int, on_b: int) -> None:
    # Brands with spend are never deleted (409): these two have none.
    spare_a, spare_b = BrandFactory.create(), BrandFactory.create()
    BrandMembership.objects.filter(brand=world.a.brand).update(brand=spare_a)
    codes = []
    for brand in (spare_a, spare_b):
        before = everything()
        response = world.client(who).delete(f"/api/brands/{brand.pk}/")
        codes.append(response.status_code)
        if response.status_code != 204:
            assert everything() == before
    assert (codes[0], codes[1]) == (on_a, on_b)


# --- recording spend ------------------------------------------------------------------------


def _spend(campaign_id: int, amount: str = "2.50") -> dict[str, object]:
    return {"campaign": campaign_id, "amount": amount}


@pytest.mark.parametrize(
    ("who", "on_a", "on_b"),
    [
        ("anonymous", 401, 401),
        ("no_membership", 403, 403),
        ("viewer", 403, 403),
        ("manager", 201, 403),
        ("agency_admin", 201, 201),
    ],
)
def test_recording_spend_needs_the_manager_role_on_the_campaigns_brand(
    world: World, who: str, on_a: int, on_b: int
) -> None:
    client = world.client(who)
    codes = []
    for rows in (world.a, world.b):
        before = everything()
        response = client.post("/api/spend/", _spend(rows.campaign.pk), format="json")
        codes.append(response.status_code)
        if response.status_code != 201:
            assert everything() == before
        if response.status_code == 403:
            assert response.json() == {
                "detail": f"You may not record spend for campaign {rows.campaign.pk}: "
                "it needs the manager role on the campaign's brand."
            }
    assert (codes[0], codes[1]) == (on_a, on_b)


def test_a_refusal_is_the_same_whether_the_campaign_exists_or_not(world: World) -> None:
    hidden = world.manager.post("/api/spend/", _spend(world.b.campaign.pk), format="json")
    missing_id = world.b.campaign.pk + 1000
    missing = world.manager.post("/api/spend/", _spend(missing_id), format="json")
    assert (hidden.status_code, missing.status_code) == (403, 403)
    assert hidden.json()["detail"].replace(str(world.b.campaign.pk), "N") == missing.json()[
        "detail"
    ].replace(str(missing_id), "N")
    # An agency admin is told the truth: there is no such campaign.
    unknown = world.agency_admin.post("/api/spend/", _spend(missing_id), format="json")
    assert unknown.status_code == 400
    assert set(unknown.json()) == {"campaign"}


def test_a_batch_with_one_refused_event_is_refused_whole(world: World) -> None:
    before = everything()
    events = [_spend(world.a.campaign.pk) for _ in range(3)] + [_spend(world.b.campaign.pk)]
    response = world.manager.post("/api/spend/batch/", {"events": events}, format="json")
    assert response.status_code == 403
    assert str(world.b.campaign.pk) in response.json()["detail"]
    assert str(world.a.campaign.pk) not in response.json()["detail"]
    assert everything() == before

    own = world.manager.post("/api/spend/batch/", {"events": events[:3]}, format="json")
    assert own.status_code == 201, own.json()
    assert SpendEvent.objects.filter(campaign=world.a.campaign).count() == 4
    viewer = world.viewer.post("/api/spend/batch/", {"events": events[:1]}, format="json")
    assert viewer.status_code == 403
    admin = world.agency_admin.post("/api/spend/batch/", {"events": events}, format="json")
    assert (admin.status_code, admin.json()) == (201, {"created": 4, "duplicates": 0})


def test_spend_input_is_still_checked_by_name_for_a_manager(world: World) -> None:
    response = world.manager.post(
        "/api/spend/", _spend(world.a.campaign.pk, amount="-1"), format="json"
    )
    assert response.status_code == 400
    assert set(response.json()) == {"amount"}


def test_a_model_permission_alone_grants_nothing(world: World) -> None:
    """Before brand roles, `campaigns.change_campaign` let anyone pause any campaign."""
    user = User.objects.create_user("operator")
    user.user_permissions.add(
        *Permission.objects.filter(codename__in=["change_campaign", "add_spendevent"])
    )
    client = token_client(user)
    before = everything()
    assert client.post(f"/api/campaigns/{world.a.campaign.pk}/pause/").status_code == 404
    assert client.post("/api/spend/", _spend(world.a.campaign.pk), format="json").status_code == 403
    assert everything() == before


# --- query counts ---------------------------------------------------------------------------


def _many_brands(count: int, member: User) -> None:
    for _ in range(count):
        rows = brand_rows()
        membership_set(brand=rows.brand, user=member, role=Role.VIEWER)
        BrandSpendFactory.create(brand=rows.brand, amount=Decimal(1))


# Queries of each list beyond those every request makes (see below).
LIST_QUERIES = {
    # * count  * the page with campaign counts  * the day and month rollups of the page
    # * the page's rollups of this month (pacing)  * their ledger's last hour (pacing)
    # * their serving windows today (pacing)
    "brands": 6,
    # * count  * the page with brands  * the rollups of the page's budgets
    "budgets": 3,
    # * count  * the page with brands and budgets  * the rollups of the page's campaigns
    "campaigns": 3,
    # * count  * the page with campaigns
    "dayparts": 2,
    # * count  * the page
    "spend": 2,
}


@pytest.mark.parametrize("resource", RESOURCES)
@pytest.mark.parametrize("rows", [2, 12])
@pytest.mark.parametrize("who", ["member", "agency_admin"])
def test_lists_run_a_fixed_number_of_queries(
    world: World, settings: Any, who: str, rows: int, resource: str
) -> None:
    settings.API_TOKEN_CACHE_SECONDS = 0  # the token's query every time
    member = User.objects.get(username="viewer-a")
    _many_brands(rows, member)
    client = world.viewer if who == "member" else world.agency_admin
    with CaptureQueriesContext(connection) as queries:
        response = client.get(f"/api/{resource}/", {"page_size": 100})
    assert response.status_code == 200
    assert response.json()["count"] == rows + (1 if who == "member" else 2)
    # Every request: * the token and its user
    # * the user's permissions  * their groups' permissions (is this an agency admin?)
    # A member's rows are narrowed by a subquery of their memberships: no query of its own.
    assert len(queries) == 3 + LIST_QUERIES[resource], [q["sql"] for q in queries]


def _spend_queries(client: APIClient, url: str, body: Any) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        response = client.post(url, body, format="json")
    assert response.status_code == 201, response.json()
    return [q["sql"] for q in queries]


@pytest.mark.parametrize("batch", [False, True])
def test_the_role_check_costs_a_superuser_nothing_and_a_member_one_query(
    world: World, settings: Any, staff_user: User, batch: bool
) -> None:
    settings.API_TOKEN_CACHE_SECONDS = 0
    manager = User.objects.get(username="manager-a")
    membership_set(brand=world.b.brand, user=manager, role=Role.MANAGER)
    events = [_spend(world.a.campaign.pk), _spend(world.b.campaign.pk)]
    url, body = ("/api/spend/batch/", {"events": events}) if batch else ("/api/spend/", events[0])
    admin = token_client(staff_user)
    admin.post(url, body, format="json")  # the rollups exist: both take the same path after

    superuser = _spend_queries(admin, url, body)
    member = _spend_queries(world.manager, url, body)

    # The superuser's queries are the service's and the token's (test_spend_*.py count them):
    # no permission query at all.
    assert not [sql for sql in superuser if "auth_permission" in sql or "membership" in sql]
    # A manager: * the campaigns among those posted that their memberships manage
    assert len(member) == len(superuser) + 1
    (check,) = [sql for sql in member if "budgets_brandmembership" in sql]
    assert "auth_user" not in check  # memberships, brands and campaigns only: no sort
