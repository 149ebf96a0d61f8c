"""The overview lists brands and shared budgets at 80% of a cap or more,
highest first, in each brand's own today and month, for the brands the
person may see."""

import datetime as dt
import re
from decimal import Decimal

import pytest
import time_machine
from django.test import Client

from adserver.dashboard.tests.conftest import MakeClient, make_member
from budgets.models import Period
from budgets.tests.factories import BrandFactory, BudgetFactory
from spend.tests.factories import BrandSpendFactory, BudgetSpendFactory

pytestmark = pytest.mark.django_db

# 20:00 UTC on March 10: already March 11 in Tokyo.
NOW = dt.datetime(2026, 3, 10, 20, 0, tzinfo=dt.UTC)
TODAY = dt.date(2026, 3, 10)


ROW = re.compile(
    r'<tr data-brand="\d+"(?: data-budget="\d+")? data-period="(\w+)">\s*<td><a [^>]*>([^<]+)</a>'
)


def _rows(body: str) -> list[tuple[str, str]]:
    """(period, name) of each row of the overview's "Near the cap", in order."""
    table = body.split('id="near-caps"', 1)[1].split("</table>", 1)[0]
    return [(match.group(1), match.group(2)) for match in ROW.finditer(table)]


def _world() -> dict[str, object]:
    daily = {"daily_budget": Decimal("100"), "monthly_budget": Decimal("10000")}
    under = BrandFactory.create(name="Under", **daily)
    BrandSpendFactory.create(brand=under, period_start=TODAY, amount=Decimal("79.99"))
    at_80 = BrandFactory.create(name="At eighty", **daily)
    BrandSpendFactory.create(brand=at_80, period_start=TODAY, amount=Decimal("80"))
    over = BrandFactory.create(name="Over", **daily)
    BrandSpendFactory.create(
        brand=over, period=Period.MONTH, period_start=TODAY.replace(day=1), amount=Decimal("12000")
    )
    # Tokyo's today is March 11: its March 10 is yesterday and does not count.
    tokyo = BrandFactory.create(name="Tokyo", timezone="Asia/Tokyo", **daily)
    BrandSpendFactory.create(brand=tokyo, period_start=TODAY, amount=Decimal("99"))
    pool = BudgetFactory.create(brand=under, name="Pool", daily_limit=Decimal("50"))
    BudgetSpendFactory.create(budget=pool, period_start=TODAY, amount=Decimal("45"))
    return {"under": under, "at_80": at_80, "over": over, "pool": pool}


@time_machine.travel(NOW, tick=False)
def test_near_the_cap_lists_brands_and_budgets_from_80_percent_highest_first(
    staff_client: Client,
) -> None:
    _world()

    body = staff_client.get("/").content.decode()

    assert _rows(body) == [("month", "Over"), ("day", "Pool"), ("day", "At eighty")]
    assert "120%" in body


@time_machine.travel(NOW, tick=False)
def test_near_the_cap_holds_only_the_brands_a_member_may_see(client_for: MakeClient) -> None:
    world = _world()
    member = make_member("viewer-of-under", views=[world["under"]])  # type: ignore[list-item]

    body = client_for(member).get("/").content.decode()

    assert _rows(body) == [("day", "Pool")]


@time_machine.travel(NOW, tick=False)
def test_nothing_near_a_cap_says_so(staff_client: Client) -> None:
    BrandFactory.create()

    body = staff_client.get("/").content.decode()

    assert _rows(body) == []
    assert "under 80% of its caps" in body


def _figure(body: str, name: str) -> int:
    found = re.search(rf'id="figure-{name}"[^>]*><span class="value">(\d+)<', body)
    assert found is not None, name
    return int(found.group(1))


@time_machine.travel(NOW, tick=False)
def test_the_overviews_brands_at_their_caps_are_the_apis_count(
    client_for: MakeClient,
) -> None:
    # Counted from the near-cap rows on the overview, by one query in the API.
    world = _world()
    at_daily = BrandFactory.create(name="Spent today", daily_budget=Decimal("10"))
    BrandSpendFactory.create(brand=at_daily, period_start=TODAY, amount=Decimal("10"))
    member = make_member("counts-viewer", views=[world["over"], at_daily])  # type: ignore[list-item]
    client = client_for(member)

    body = client.get("/").content.decode()
    api = client.get("/api/status/").json()

    assert (_figure(body, "over-daily"), _figure(body, "over-monthly")) == (1, 1)
    assert (api["over_daily_budget"], api["over_monthly_budget"]) == (1, 1)


@time_machine.travel(NOW, tick=False)
def test_the_list_stops_at_ten_but_the_counts_cover_every_brand_at_its_cap(
    staff_client: Client,
) -> None:
    # Twelve brands at their daily cap and three at 90%: ten rows are shown,
    # the fullest first, and the figures still count all twelve.
    for number in range(12):
        brand = BrandFactory.create(name=f"Full {number:02}", daily_budget=Decimal("100"))
        BrandSpendFactory.create(brand=brand, period_start=TODAY, amount=Decimal(100 + number))
    for number in range(3):
        brand = BrandFactory.create(name=f"Close {number}", daily_budget=Decimal("100"))
        BrandSpendFactory.create(brand=brand, period_start=TODAY, amount=Decimal("90"))

    body = staff_client.get("/").content.decode()
    api = staff_client.get("/api/status/").json()

    assert _rows(body) == [("day", f"Full {number:02}") for number in range(11, 1, -1)]
    assert _figure(body, "over-daily") == api["over_daily_budget"] == 12
    assert _figure(body, "over-monthly") == api["over_monthly_budget"] == 0
