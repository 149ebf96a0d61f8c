"""Who sees what on the dashboard: every list, figure and filter holds only the
brands the user may see, another brand's row is a 404 (its existence is not
revealed), and only a brand's manager may pause or resume its campaigns."""

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

import pytest
import time_machine
from django.contrib.auth.models import User
from django.test import Client

from adserver.dashboard.tests.conftest import MakeClient, make_agency_admin, make_member
from budgets import audit
from budgets.models import Alert, Brand, BrandMembership, Budget, Period, SettingChange
from budgets.services import brand_update, membership_delete
from budgets.tests.factories import AlertFactory, BrandFactory, BudgetFactory
from campaigns.models import Campaign, CampaignStatusChange
from campaigns.tests.factories import CampaignFactory, CampaignStatusChangeFactory
from spend.models import SpendEvent
from spend.tests.factories import BrandSpendFactory, SpendEventFactory

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 10, 15, 0, tzinfo=dt.UTC)
TODAY = dt.date(2026, 3, 10)


@dataclass
class Side:
    """One brand and a row of each kind under it."""

    brand: Brand
    budget: Budget
    campaign: Campaign
    event: SpendEvent
    alert: Alert
    change: CampaignStatusChange

    def detail_urls(self) -> dict[str, str]:
        return {
            "brand": self.brand.get_absolute_url(),
            "budget": self.budget.get_absolute_url(),
            "campaign": self.campaign.get_absolute_url(),
            "spend event": self.event.get_absolute_url(),
            "alert": self.alert.get_absolute_url(),
            "status change": self.change.get_absolute_url(),
        }


def _side(name: str, currency: str) -> Side:
    brand = BrandFactory.create(name=name, currency=currency, daily_budget=Decimal("100"))
    budget = BudgetFactory.create(brand=brand, name=f"{name} pool")
    campaign = CampaignFactory.create(brand=brand, budget=budget, name=f"{name} search")
    BrandSpendFactory.create(brand=brand, period=Period.DAY, period_start=TODAY, amount=100)
    return Side(
        brand=brand,
        budget=budget,
        campaign=campaign,
        event=SpendEventFactory.create(campaign=campaign, occurred_at=NOW),
        alert=AlertFactory.create(brand=brand, period_start=TODAY, raised_at=NOW, threshold=100),
        change=CampaignStatusChangeFactory.create(campaign=campaign, changed_at=NOW),
    )


@pytest.fixture
def a() -> Side:
    return _side("Acme", "USD")


@pytest.fixture
def b() -> Side:
    return _side("Borealis", "NOK")


@pytest.fixture
def viewer(a: Side) -> User:
    return make_member("viewer-of-a", views=[a.brand])


@pytest.fixture
def manager(a: Side) -> User:
    return make_member("manager-of-a", manages=[a.brand])


@pytest.fixture
def stranger(db: None) -> User:
    """Logged in, but a member of no brand."""
    return User.objects.create_user("stranger", password="a-long-test-password")


def _ids(body: str, table: str) -> set[int]:
    """The data-id of each row of one table (by its class or id)."""
    match = re.search(rf'<table class="list[^"]*\b{table}\b[^"]*"|<table[^>]*id="{table}"', body)
    assert match is not None, f"no table {table}"
    rows = body[match.start() :].split("</table>", 1)[0]
    return {int(pk) for pk in re.findall(r'<tr data-id="(\d+)"', rows)}


# (list, url, table, the row of a side it lists)
LISTS: list[tuple[str, str, str, Callable[[Side], int]]] = [
    ("brands", "/brands/", "brands", lambda s: s.brand.pk),
    ("budgets", "/budgets/", "budgets", lambda s: s.budget.pk),
    ("campaigns", "/campaigns/", "campaigns", lambda s: s.campaign.pk),
    ("spend", "/spend/", "spend", lambda s: s.event.pk),
    ("alerts", "/alerts/", "alerts", lambda s: s.alert.pk),
    ("history", "/history/", "history", lambda s: s.change.pk),
]


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize(("name", "url", "table", "row"), LISTS, ids=[x[0] for x in LISTS])
@pytest.mark.parametrize("live", [False, True], ids=["page", "htmx"])
def test_a_member_lists_only_the_rows_of_their_brands(
    client_for: MakeClient,
    viewer: User,
    a: Side,
    b: Side,
    name: str,
    url: str,
    table: str,
    row: Callable[[Side], int],
    live: bool,
) -> None:
    headers = {"HX-Request": "true"} if live else {}
    response = client_for(viewer).get(url, headers=headers)

    assert response.status_code == 200
    body = response.content.decode()
    assert _ids(body, table) == {row(a)}
    assert "Borealis" not in body


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize(("name", "url", "table", "row"), LISTS, ids=[x[0] for x in LISTS])
def test_a_user_of_no_brand_lists_nothing(
    client_for: MakeClient,
    stranger: User,
    a: Side,
    b: Side,
    name: str,
    url: str,
    table: str,
    row: Callable[[Side], int],
) -> None:
    response = client_for(stranger).get(url)

    assert response.status_code == 200
    assert _ids(response.content.decode(), table) == set()


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize(("name", "url", "table", "row"), LISTS, ids=[x[0] for x in LISTS])
def test_an_agency_admin_lists_every_brand(
    client_for: MakeClient,
    a: Side,
    b: Side,
    name: str,
    url: str,
    table: str,
    row: Callable[[Side], int],
) -> None:
    response = client_for(make_agency_admin()).get(url)

    assert _ids(response.content.decode(), table) == {row(a), row(b)}


def _figure(body: str, name: str) -> int:
    found = re.search(rf'id="figure-{name}"[^>]*><span class="value">([\d,]+)<', body)
    assert found is not None, name
    return int(found.group(1).replace(",", ""))


@time_machine.travel(NOW, tick=False)
def test_the_overview_counts_only_the_visible_brands(
    client_for: MakeClient, viewer: User, a: Side, b: Side
) -> None:
    CampaignFactory.create(brand=b.brand, name="Borealis video", enabled=False)

    body = client_for(viewer).get("/").content.decode()

    assert _figure(body, "brands") == 1
    assert _figure(body, "campaigns") == 1
    assert _figure(body, "active") == 1
    assert _figure(body, "paused") == 0
    assert _figure(body, "over-daily") == 1  # A is at its cap; so is B, unseen
    assert _figure(body, "open-alerts") == 1
    currencies = re.findall(r'data-currency="([A-Z]{3})"', body)
    assert currencies == ["USD"]  # no NOK line: B's currency
    assert _ids(body, "alerts") == {a.alert.pk}
    assert _ids(body, "history") == {a.change.pk}
    assert "Borealis" not in body


@time_machine.travel(NOW, tick=False)
def test_the_overview_of_an_agency_admin_counts_every_brand(
    client_for: MakeClient, a: Side, b: Side
) -> None:
    body = client_for(make_agency_admin()).get("/").content.decode()

    assert (_figure(body, "brands"), _figure(body, "campaigns")) == (2, 2)
    assert _figure(body, "open-alerts") == 2
    assert sorted(re.findall(r'data-currency="([A-Z]{3})"', body)) == ["NOK", "USD"]


@time_machine.travel(NOW, tick=False)
def test_the_overview_of_a_user_of_no_brand_is_empty(
    client_for: MakeClient, stranger: User, a: Side, b: Side
) -> None:
    body = client_for(stranger).get("/").content.decode()

    assert (_figure(body, "brands"), _figure(body, "campaigns")) == (0, 0)
    assert _figure(body, "open-alerts") == 0
    assert "No brands yet." in body
    assert "Acme" not in body
    assert "Borealis" not in body


# Every filter by a brand, budget or campaign: (url given a side)
FILTERS: list[tuple[str, Callable[[Side], str]]] = [
    ("budgets ?brand", lambda s: f"/budgets/?brand={s.brand.pk}"),
    ("campaigns ?brand", lambda s: f"/campaigns/?brand={s.brand.pk}"),
    ("campaigns ?budget", lambda s: f"/campaigns/?budget={s.budget.pk}"),
    ("spend ?brand", lambda s: f"/spend/?brand={s.brand.pk}"),
    ("spend ?campaign", lambda s: f"/spend/?campaign={s.campaign.pk}"),
    ("alerts ?brand", lambda s: f"/alerts/?brand={s.brand.pk}"),
    ("history ?brand", lambda s: f"/history/?brand={s.brand.pk}"),
    ("history ?campaign", lambda s: f"/history/?campaign={s.campaign.pk}"),
]


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize(("name", "url"), FILTERS, ids=[f[0] for f in FILTERS])
def test_a_filter_by_an_invisible_brand_is_refused_as_an_unknown_id(
    client_for: MakeClient, viewer: User, a: Side, b: Side, name: str, url: Callable[[Side], str]
) -> None:
    client = client_for(viewer)
    invisible = client.get(url(b))
    unknown = client.get(re.sub(r"=\d+$", "=999999", url(b)))

    assert client.get(url(a)).status_code == 200
    assert invisible.status_code == unknown.status_code == 400
    body = invisible.content.decode()
    assert "No such record" in body
    assert "Borealis" not in body
    assert "No such record" in unknown.content.decode()  # the same answer


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize("user_kind", ["viewer", "manager", "stranger"])
@pytest.mark.parametrize(
    "page", ["brand", "budget", "campaign", "spend event", "alert", "status change"]
)
def test_a_detail_page_of_an_invisible_brand_is_not_found(
    request: pytest.FixtureRequest,
    client_for: MakeClient,
    a: Side,
    b: Side,
    user_kind: str,
    page: str,
) -> None:
    client = client_for(request.getfixturevalue(user_kind))

    response = client.get(b.detail_urls()[page])

    assert response.status_code == 404
    assert "Borealis" not in response.content.decode()
    expected_on_a = 404 if user_kind == "stranger" else 200
    assert client.get(a.detail_urls()[page]).status_code == expected_on_a


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize(
    "page", ["brand", "budget", "campaign", "spend event", "alert", "status change"]
)
def test_an_agency_admin_sees_every_detail_page(
    client_for: MakeClient, a: Side, b: Side, page: str
) -> None:
    client = client_for(make_agency_admin())

    assert client.get(b.detail_urls()[page]).status_code == 200


@time_machine.travel(NOW, tick=False)
def test_the_live_part_of_an_invisible_brand_is_not_found(
    client_for: MakeClient, viewer: User, a: Side, b: Side
) -> None:
    client = client_for(viewer)
    headers = {"HX-Request": "true"}

    assert client.get(b.brand.get_absolute_url(), headers=headers).status_code == 404
    assert client.get(b.campaign.get_absolute_url(), headers=headers).status_code == 404


@time_machine.travel(NOW, tick=False)
def test_a_removed_membership_counts_from_the_next_request(
    client_for: MakeClient, viewer: User, a: Side
) -> None:
    client = client_for(viewer)
    assert client.get(a.brand.get_absolute_url()).status_code == 200

    membership_delete(membership_id=BrandMembership.objects.get(user=viewer).pk)

    assert client.get(a.brand.get_absolute_url()).status_code == 404
    assert _ids(client.get("/campaigns/").content.decode(), "campaigns") == set()


# ---------------------------------------------------------------- pause and resume


def _state(campaign: Campaign) -> tuple[object, ...]:
    campaign.refresh_from_db()
    return (
        campaign.enabled,
        campaign.status,
        campaign.pause_reason,
        CampaignStatusChange.objects.filter(campaign=campaign).count(),
        SettingChange.objects.filter(object_type="campaign", object_id=campaign.pk).count(),
    )


@pytest.mark.parametrize("action", ["pause", "resume"])
def test_a_viewer_may_not_pause_or_resume_and_nothing_changes(
    client_for: MakeClient, viewer: User, a: Side, action: str
) -> None:
    if action == "resume":
        Campaign.objects.filter(pk=a.campaign.pk).update(enabled=False)
    before = _state(a.campaign)

    response = client_for(viewer).post(f"/campaigns/{a.campaign.pk}/{action}/")

    assert response.status_code == 403
    assert _state(a.campaign) == before


@pytest.mark.parametrize("user_kind", ["viewer", "manager", "stranger"])
@pytest.mark.parametrize("action", ["pause", "resume"])
def test_pausing_an_invisible_campaign_is_not_found_and_changes_nothing(
    request: pytest.FixtureRequest,
    client_for: MakeClient,
    a: Side,
    b: Side,
    user_kind: str,
    action: str,
) -> None:
    if action == "resume":
        Campaign.objects.filter(pk=b.campaign.pk).update(enabled=False)
    before = _state(b.campaign)

    response = client_for(request.getfixturevalue(user_kind)).post(
        f"/campaigns/{b.campaign.pk}/{action}/"
    )

    assert response.status_code == 404
    assert _state(b.campaign) == before


def test_a_manager_pauses_and_resumes_their_brands_campaign(
    client_for: MakeClient, manager: User, a: Side
) -> None:
    client = client_for(manager)

    paused = client.post(f"/campaigns/{a.campaign.pk}/pause/")
    a.campaign.refresh_from_db()
    assert paused.status_code == 302
    assert (a.campaign.enabled, a.campaign.pause_reason) == (False, "manual")
    change = CampaignStatusChange.objects.filter(campaign=a.campaign).latest("id")
    assert change.user_id == manager.pk
    trail = SettingChange.objects.filter(object_type="campaign", object_id=a.campaign.pk).get()
    assert (trail.actor, trail.via, trail.field, trail.before, trail.after) == (
        "manager-of-a",
        "dashboard",
        "enabled",
        "yes",
        "no",
    )

    assert client.post(f"/campaigns/{a.campaign.pk}/resume/").status_code == 302
    a.campaign.refresh_from_db()
    assert a.campaign.enabled is True


def test_an_agency_admin_by_permission_may_pause_any_campaign(
    client_for: MakeClient, b: Side
) -> None:
    response = client_for(make_agency_admin()).post(f"/campaigns/{b.campaign.pk}/pause/")

    b.campaign.refresh_from_db()
    assert response.status_code == 302
    assert b.campaign.enabled is False


def test_a_manager_of_one_brand_may_only_view_another_they_view(
    client_for: MakeClient, a: Side, b: Side
) -> None:
    both = make_member("mixed", manages=[a.brand], views=[b.brand])
    client = client_for(both)
    before = _state(b.campaign)

    assert client.post(f"/campaigns/{b.campaign.pk}/pause/").status_code == 403
    assert _state(b.campaign) == before
    assert client.post(f"/campaigns/{a.campaign.pk}/pause/").status_code == 302


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize(("user_kind", "shown"), [("viewer", False), ("manager", True)])
def test_the_pause_button_shows_only_to_a_manager(
    request: pytest.FixtureRequest, client_for: MakeClient, a: Side, user_kind: str, shown: bool
) -> None:
    client = client_for(request.getfixturevalue(user_kind))

    active = client.get(a.campaign.get_absolute_url()).content.decode()
    Campaign.objects.filter(pk=a.campaign.pk).update(enabled=False)
    paused = client.get(a.campaign.get_absolute_url()).content.decode()

    assert ('id="pause"' in active) is shown
    assert ('id="resume"' in paused) is shown
    assert "/pause/" not in paused
    assert ("/pause/" in active) is shown


@time_machine.travel(NOW, tick=False)
def test_a_member_sees_no_admin_links(client_for: MakeClient, manager: User, a: Side) -> None:
    body = client_for(manager).get(a.campaign.get_absolute_url()).content.decode()

    assert "/admin/" not in body


# ---------------------------------------------------------------- the brand's Changes


def _changes(body: str) -> list[list[str]]:
    """The cells of each row of the Changes table, tags stripped."""
    table = body.split('id="setting-changes"', 1)[1].split("</table>", 1)[0]
    rows = re.findall(r'<tr data-id="\d+">(.*?)</tr>', table, flags=re.S)
    return [
        [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td>(.*?)</td>", row, re.S)]
        for row in rows
    ]


def test_the_brand_page_lists_its_settings_changes_newest_first(
    client_for: MakeClient, viewer: User, a: Side, b: Side, staff_client: Client
) -> None:
    Brand.objects.filter(pk=a.brand.pk).update(timezone="Asia/Tokyo")
    with (
        time_machine.travel(dt.datetime(2026, 3, 10, 20, 0, tzinfo=dt.UTC), tick=False),
        audit.acting_as(audit.command_actor("import_caps")),
    ):
        brand_update(brand_id=a.brand.pk, daily_budget=Decimal("150.00"))
    with time_machine.travel(dt.datetime(2026, 3, 10, 21, 0, tzinfo=dt.UTC), tick=False):
        staff_client.post(f"/campaigns/{a.campaign.pk}/pause/")
    brand_update(brand_id=b.brand.pk, daily_budget=Decimal("999.00"))

    response = client_for(viewer).get(a.brand.get_absolute_url())

    assert response.status_code == 200
    rows = [row[:5] for row in _changes(response.content.decode())]
    assert rows[1:] == [
        # when (in Tokyo: already March 11), who, through what, the object, the field
        ["2026-03-11 06:00 JST", "staff", "Dashboard", "Campaign Acme search", "enabled"],
        ["2026-03-11 05:00 JST", "command:import_caps", "Command", "Brand Acme", "daily_budget"],
    ]
    # The newest: the viewer's own membership, given by the fixture, today.
    assert rows[0][1:] == ["system", "System", "Membership viewer-of-a", "role"]
    cells = [row[5] for row in _changes(response.content.decode())]
    assert cells[1:] == ["yes → no", "100.00 → 150.00"]
    body = response.content.decode()
    assert "999.00" not in body  # B's change is B's


def test_the_changes_are_paginated_by_their_own_parameter(
    client_for: MakeClient, viewer: User, a: Side
) -> None:
    for step in range(1, 26):
        brand_update(brand_id=a.brand.pk, monthly_budget=Decimal(3000 + step))
    client = client_for(viewer)

    first = client.get(a.brand.get_absolute_url()).content.decode()
    second = client.get(f"{a.brand.get_absolute_url()}?changes_page=2").content.decode()

    # 25 changes of the caps, and the viewer's membership before them
    assert len(_changes(first)) == 20
    assert len(_changes(second)) == 6
    assert _changes(first)[0][5].startswith("3024.00 → 3025")  # the newest
    assert _changes(second)[4][5].startswith("3000.00 → 3001")  # the oldest cap change
    assert _changes(second)[5][5] == "(none) → viewer"
    assert "Page 2 of 2 · 26 changes" in second
    assert 'href="?changes_page=2#changes-heading"' in first
    assert client.get(f"{a.brand.get_absolute_url()}?changes_page=3").status_code == 404


def test_a_bad_changes_page_is_a_400_naming_the_field(
    client_for: MakeClient, viewer: User, a: Side
) -> None:
    response = client_for(viewer).get(f"{a.brand.get_absolute_url()}?changes_page=zero")

    assert response.status_code == 400
    assert "changes_page" in response.content.decode()
