"""Every dashboard page: login required, answers 200, and runs the same number
of queries whatever the number of rows behind it, for an agency admin and
for a member who manages several brands (and sees only those)."""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

import pytest
import time_machine
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from adserver.dashboard.tests.conftest import MakeClient, make_agency_admin, make_member
from budgets import audit
from budgets.models import Alert, AlertScope, Brand, Period
from budgets.services import brand_update
from budgets.tests.factories import AlertFactory, BrandFactory, BudgetFactory
from campaigns.models import Campaign, CampaignStatusChange
from campaigns.tests.factories import CampaignFactory, CampaignStatusChangeFactory, DaypartFactory
from credentials.services import feed_create
from spend.models import SpendEvent
from spend.tests.factories import (
    BrandSpendFactory,
    BudgetSpendFactory,
    CampaignSpendFactory,
    SpendEventFactory,
)

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 10, 15, 0, tzinfo=dt.UTC)
TODAY = dt.date(2026, 3, 10)


@dataclass
class World:
    brand: Brand
    campaign: Campaign

    def grow(self, rows: int) -> None:
        """More of everything: in the world, in the brand, and on the one campaign."""
        for _ in range(rows):
            other = BrandFactory.create(timezone="Asia/Tokyo")
            BrandSpendFactory.create(brand=other, period_start=TODAY, amount=Decimal("5"))
            budget = BudgetFactory.create(brand=self.brand)
            campaign = CampaignFactory.create(brand=self.brand, budget=budget)
            DaypartFactory.create(campaign=campaign)
            CampaignSpendFactory.create(campaign=campaign, period_start=TODAY, amount=3)
            BudgetSpendFactory.create(budget=budget, period_start=TODAY, amount=3)
            AlertFactory.create(
                brand=self.brand,
                budget=budget,
                scope=AlertScope.BUDGET,
                period_start=TODAY,
                raised_at=NOW,
            )
            AlertFactory.create(brand=other, period_start=TODAY, raised_at=NOW)
            CampaignStatusChangeFactory.create(campaign=campaign, changed_at=NOW)
            CampaignFactory.create(brand=other, enabled=False)
            paused = CampaignFactory.create(brand=self.brand, budget=budget, enabled=False)
            DaypartFactory.create(campaign=paused)
            # ... and on the campaign whose page is measured
            DaypartFactory.create(
                campaign=self.campaign, start_time=dt.time(22), end_time=dt.time(2)
            )
            SpendEventFactory.create(campaign=self.campaign, occurred_at=NOW)
            SpendEventFactory.create(campaign=campaign, occurred_at=NOW)
            CampaignStatusChangeFactory.create(campaign=self.campaign, changed_at=NOW)
            # ... a spend feed of the brand, with an event today
            feed, _key = feed_create(name=f"Feed {other.pk}", brand_ids=[self.brand.pk, other.pk])
            SpendEventFactory.create(campaign=self.campaign, occurred_at=NOW, source=feed.name)
            # ... and in the brand's settings trail (recorded as a service
            # records it; a real change would reconcile the new dayparts)
            audit.record_changes(
                brand=self.brand,
                object_type="campaign",
                object_id=campaign.pk,
                object_repr=campaign.name,
                changes={"budget": (None, budget.pk)},
            )

    def change_settings(self, times: int) -> None:
        for _ in range(times):
            self.brand = brand_update(
                brand_id=self.brand.pk, monthly_budget=self.brand.monthly_budget + 1
            )


@pytest.fixture
def world() -> World:
    brand = BrandFactory.create(timezone="America/New_York", name="Acme")
    budget = BudgetFactory.create(brand=brand, name="Always-on")
    campaign = CampaignFactory.create(brand=brand, budget=budget, name="Search")
    # Paused by a person: lists say when (or whether) each paused campaign serves again.
    CampaignFactory.create(brand=brand, budget=budget, name="Paused search", enabled=False)
    # At its daily cap, so that the "at cap" filter lists it.
    BrandSpendFactory.create(brand=brand, period_start=TODAY, amount=Decimal("100"))
    BrandSpendFactory.create(
        brand=brand, period=Period.MONTH, period_start=TODAY.replace(day=1), amount=Decimal("400")
    )
    world = World(brand=brand, campaign=campaign)
    world.change_settings(25)  # more than a page of the brand's settings trail
    world.grow(1)
    return world


def _spend_url(world: World) -> str:
    event = SpendEvent.objects.filter(campaign=world.campaign).first()
    assert event is not None
    return event.get_absolute_url()


def _alert_url(world: World) -> str:
    alert = Alert.objects.filter(brand=world.brand).first()
    assert alert is not None
    return alert.get_absolute_url()


def _history_url(world: World) -> str:
    change = CampaignStatusChange.objects.filter(campaign=world.campaign).first()
    assert change is not None
    return change.get_absolute_url()


# (page, url, queries): the comment names every query the page runs for a
# superuser. Every page starts with  * the session  * the user.
# A member runs two more: Django's  * the user's permissions  * the user's
# groups' permissions  (read once per request, by budgets.access, to learn
# that they are no agency admin); the brands they may see are a subquery of
# each query, not a query of their own. The campaign's page reads one more
# (MEMBER_EXTRA) to show the Pause button, and so do the brand's, the
# budget's and the alerts' pages for their buttons.
PAGES: list[tuple[str, Callable[[World], str], int]] = [
    # * zones (for today's figures and the caps)  * brands at 80% of a cap
    # or more (counted at their caps from the same rows)  * count brands
    # * campaigns by state  * daily budgets by currency  * today's rollups
    # by currency  * open alerts count  * open alerts  * latest status
    # changes  * shared budgets near a limit  * brands under and over pace
    ("overview", lambda w: "/", 2 + 11),
    # * zones  * count brands  * the page of brands  * their rollups
    # * their campaign counts  * their rollups of the month (pacing)
    # * their ledger spend of the last hour (pacing)  * their serving
    # windows today (pacing)
    ("brands", lambda w: "/brands/", 2 + 8),
    # the same, sorted by utilisation in SQL, and  * the brands at their cap
    ("brands by use", lambda w: "/brands/?sort=-daily&over=daily", 2 + 9),
    # the same as "brands": the pacing status and percent are computed in SQL
    ("brands by pacing", lambda w: "/brands/?pacing=under&sort=-pacing", 2 + 8),
    # * the matching campaigns' ids (brands matched in a subquery)  * count
    # * the page  * their rollups  * the paused ones' dayparts
    ("campaign search", lambda w: "/campaigns/?q=Sear", 2 + 5),
    # * the brand  * its rollups  * its budgets  * their rollups
    # * their campaign counts  * its campaigns  * their rollups  * its day
    # rollups for the charts  * its campaign counts  * alerts  * history
    # * count its settings changes  * the page of them  * its spend feeds with
    # today's events  * the paused campaigns' dayparts  * its rollups of the
    # month (pacing)  * its ledger spend of the last hour  * its serving
    # windows today (pacing, and the even line)  * today's spend by hour
    ("brand", lambda w: w.brand.get_absolute_url(), 2 + 19),
    # the same, on the second page of its settings changes
    ("brand changes page 2", lambda w: f"{w.brand.get_absolute_url()}?changes_page=2", 2 + 19),
    # * count budgets  * the page  * their rollups  * their campaign counts
    ("budgets", lambda w: "/budgets/", 2 + 4),
    # * the brand (filter)  then the same four
    ("budgets of a brand", lambda w: f"/budgets/?brand={w.brand.pk}", 2 + 5),
    # * the budget and brand  * its rollups  * its campaigns  * their rollups
    # * its day rollups  * its campaign counts  * its alerts  * the paused
    # campaigns' dayparts
    ("budget", lambda w: w.campaign.budget.get_absolute_url(), 2 + 8),  # type: ignore[union-attr]
    # * count campaigns  * the page  * their rollups (all serve: no dayparts read)
    ("campaigns", lambda w: "/campaigns/?status=active", 2 + 3),
    # the same, and  * the dayparts of the paused ones, for when they serve again
    ("paused campaigns", lambda w: "/campaigns/?status=paused", 2 + 4),
    # * the campaign, brand and budget  * its dayparts  * its day rollups
    # * its rollups  * the brand's rollups  * the budget's rollups
    # * its latest spend  * its latest status changes
    ("campaign", lambda w: w.campaign.get_absolute_url(), 2 + 8),
    # * the page of events (no count: keyset pagination)
    ("spend", lambda w: "/spend/", 2 + 1),
    # * the brand (filter)  * the page of events
    ("spend of a brand", lambda w: f"/spend/?brand={w.brand.pk}&date_from=2026-03-01", 2 + 2),
    # * the event with campaign, brand and budget
    ("spend event", _spend_url, 2 + 1),
    # * zones  * count alerts  * the page
    ("alerts", lambda w: "/alerts/?state=open&date_from=2026-03-10", 2 + 3),
    # * the alert with brand and budget  * its deliveries
    ("alert", _alert_url, 2 + 2),
    # * count changes  * the page
    ("history", lambda w: "/history/", 2 + 2),
    # * zones (a date range across brands)  * count  * the page
    ("history by date", lambda w: "/history/?date_from=2026-03-09&date_to=2026-03-10", 2 + 3),
    # * the change with campaign, brand and user
    ("status change", _history_url, 2 + 1),
]


# Beyond the two permission queries, for a member:  * the user's role on
# the brand (may they pause the campaign, edit the brand or the budget,
# acknowledge the alert?)  or  * their manager roles among the brands of
# the open alerts listed (which get a checkbox)
MEMBER_EXTRA = {
    "campaign": 1,
    "brand": 1,
    "brand changes page 2": 1,
    "budget": 1,
    "alerts": 1,
    "alert": 1,
}


def _queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, (url, response.content[:2000])
    # Every full page also reads the last reconcile tick for the stale banner:
    # one query, counted apart (test_liveness.py).
    return len([q for q in queries if "spend_reconciletick" not in q["sql"]])


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize(("name", "url", "expected"), PAGES, ids=[p[0] for p in PAGES])
def test_page_query_count_does_not_grow_with_rows(
    staff_client: Client, world: World, name: str, url: Callable[[World], str], expected: int
) -> None:
    few = _queries(staff_client, url(world))
    world.grow(6)
    many = _queries(staff_client, url(world))
    assert (few, many) == (expected, expected)


def _member(world: World) -> User:
    """A manager of the world's brand and of several others; blind to the rest."""
    others = [BrandFactory.create() for _ in range(4)]
    return make_member("account-manager", manages=[world.brand, *others])


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize(("name", "url", "expected"), PAGES, ids=[p[0] for p in PAGES])
def test_page_query_count_does_not_grow_for_a_member_of_several_brands(
    client_for: MakeClient,
    world: World,
    name: str,
    url: Callable[[World], str],
    expected: int,
) -> None:
    client = client_for(_member(world))
    member = expected + 2 + MEMBER_EXTRA.get(name, 0)
    few = _queries(client, url(world))
    world.grow(6)
    many = _queries(client, url(world))
    assert (few, many) == (member, member)


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize(("name", "url", "expected"), PAGES, ids=[p[0] for p in PAGES])
def test_page_query_count_for_an_agency_admin_by_permission(
    client_for: MakeClient,
    world: World,
    name: str,
    url: Callable[[World], str],
    expected: int,
) -> None:
    # Not a superuser: the two permission queries, and no membership read
    # (an agency admin manages every brand).
    client = client_for(make_agency_admin())
    few = _queries(client, url(world))
    world.grow(6)
    many = _queries(client, url(world))
    assert (few, many) == (expected + 2, expected + 2)


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize(("name", "url", "expected"), PAGES, ids=[p[0] for p in PAGES])
def test_page_requires_login(
    client: Client, world: World, name: str, url: Callable[[World], str], expected: int
) -> None:
    target = url(world)
    response = client.get(target)
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=")


def test_live_refresh_after_logout_sends_the_browser_to_login(client: Client, db: None) -> None:
    response = client.get("/brands/?q=a", headers={"HX-Request": "true"})
    assert response.status_code == 204
    assert response["HX-Redirect"] == "/login/?next=%2Fbrands%2F%3Fq%3Da"


@time_machine.travel(NOW, tick=False)
def test_live_refresh_gets_only_the_live_part(staff_client: Client, world: World) -> None:
    full = staff_client.get("/brands/").content.decode()
    live = staff_client.get("/brands/", headers={"HX-Request": "true"})
    body = live.content.decode()
    assert "<html" in full
    assert "<html" not in body
    assert body.lstrip().startswith('<div id="live"')
    assert "Acme" in body
    assert "HX-Request" in live["Vary"]


def test_login_page_answers_and_links_back(client: Client, db: None) -> None:
    response = client.get("/login/?next=/brands/")
    assert response.status_code == 200
    assert 'name="next" value="/brands/"' in response.content.decode()


@time_machine.travel(NOW, tick=False)
def test_past_the_last_page_is_not_found(staff_client: Client, world: World) -> None:
    assert staff_client.get("/campaigns/?page=2").status_code == 404


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize(
    "url", ["/brands/999999/", "/budgets/999999/", "/campaigns/999999/", "/spend/999999/"]
)
def test_unknown_record_is_not_found(staff_client: Client, world: World, url: str) -> None:
    assert staff_client.get(url).status_code == 404
