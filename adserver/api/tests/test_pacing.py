"""`pacing` on brands and budgets, and GET /api/brands/?pacing=."""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from rest_framework.test import APIClient

from adserver.api.tests.conftest import member_of, token_client
from budgets.models import Brand, Period
from budgets.tests.factories import BrandFactory, BudgetFactory
from campaigns.tests.factories import CampaignFactory
from spend.tests.factories import BrandSpendFactory, BudgetSpendFactory, SpendEventFactory

pytestmark = pytest.mark.django_db

# Noon on 10 January 2027 in UTC: 9.5 of January's 31 days gone.
NOW = dt.datetime(2027, 1, 10, 12, 0, tzinfo=dt.UTC)


def _month(brand: Brand, per_day: str, today: str) -> None:
    for day in range(1, 10):
        BrandSpendFactory.create(
            brand=brand, period_start=dt.date(2027, 1, day), amount=Decimal(per_day)
        )
    BrandSpendFactory.create(brand=brand, period_start=dt.date(2027, 1, 10), amount=Decimal(today))
    BrandSpendFactory.create(
        brand=brand,
        period=Period.MONTH,
        period_start=dt.date(2027, 1, 1),
        amount=Decimal(per_day) * 9 + Decimal(today),
    )


def _brand(name: str, per_day: str, today: str) -> Brand:
    brand = BrandFactory.create(
        name=name, daily_budget=Decimal("200"), monthly_budget=Decimal("3100")
    )
    _month(brand, per_day, today)
    return brand


@time_machine.travel(NOW, tick=False)
def test_a_brand_shows_its_pacing(api: APIClient) -> None:
    brand = _brand("Steady", "100", "50")
    campaign = CampaignFactory.create(brand=brand)
    # 30 in the last hour; an event of 11:00 sharp is inside it, one of 10:59 is not.
    for at, amount in [(dt.time(10, 59), "99"), (dt.time(11, 0), "10"), (dt.time(11, 45), "20")]:
        SpendEventFactory.create(
            campaign=campaign,
            amount=Decimal(amount),
            occurred_at=dt.datetime.combine(NOW.date(), at, tzinfo=dt.UTC),
        )

    body = api.get(f"/api/brands/{brand.pk}/").json()

    assert body["pacing"] == {
        "month_expected_to_date": "950.00",
        "month_pacing_percent": "100.00",
        "month_projected": "3100.00",
        "month_cap_reached_on": "2027-01-31",
        "recommended_daily_budget": "100.00",
        "status": "on_pace",
        "day_cap_reached_at": "2027-01-10T17:00:00+00:00",
    }


@time_machine.travel(NOW, tick=False)
def test_times_are_brand_local_with_their_offset(api: APIClient) -> None:
    # 13:00 in Paris; the month's rollups are keyed by Paris dates.
    brand = BrandFactory.create(
        timezone="Europe/Paris", daily_budget=Decimal("200"), monthly_budget=Decimal("3100")
    )
    _month(brand, "100", "50")
    campaign = CampaignFactory.create(brand=brand)
    SpendEventFactory.create(campaign=campaign, amount=Decimal("25"), occurred_at=NOW)

    pacing = api.get(f"/api/brands/{brand.pk}/").json()["pacing"]

    # 150 left at 25 an hour: six hours from 13:00 CET.
    assert pacing["day_cap_reached_at"] == "2027-01-10T19:00:00+01:00"


@time_machine.travel(NOW, tick=False)
def test_a_budget_without_a_monthly_limit_has_no_pacing(api: APIClient) -> None:
    without = BudgetFactory.create(monthly_limit=None)
    with_limit = BudgetFactory.create(monthly_limit=Decimal("620"), daily_limit=None)
    BudgetSpendFactory.create(
        budget=with_limit, period_start=dt.date(2027, 1, 9), amount=Decimal("20")
    )
    BudgetSpendFactory.create(
        budget=with_limit,
        period=Period.MONTH,
        period_start=dt.date(2027, 1, 1),
        amount=Decimal("20"),
    )

    assert api.get(f"/api/budgets/{without.pk}/").json()["pacing"] is None
    pacing = api.get(f"/api/budgets/{with_limit.pk}/").json()["pacing"]
    # Expected 620 x 9.5 / 31 = 190; 20 spent is 10.5%; 20 a day over 7 days is 2.86.
    assert pacing["month_expected_to_date"] == "190.00"
    assert pacing["month_pacing_percent"] == "10.53"
    assert pacing["status"] == "under"
    assert pacing["month_projected"] == "81.43"  # 20 + 20 / 7 x 21.5
    assert pacing["day_cap_reached_at"] is None  # no daily limit


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize(
    ("status", "names"),
    [("under", ["Slow"]), ("on_pace", ["Idle start", "Steady"]), ("over", ["Fast"])],
)
def test_brands_filter_by_pacing(api: APIClient, status: str, names: list[str]) -> None:
    _brand("Slow", "80", "40")  # 80%
    _brand("Steady", "100", "50")  # 100%
    _brand("Fast", "150", "75")  # 150%
    # In Kiritimati it is 02:00 on the 11th: 1000 of an expected 975.81 is on pace.
    BrandFactory.create(name="Idle start", timezone="Pacific/Kiritimati")
    BrandSpendFactory.create(
        brand=Brand.objects.get(name="Idle start"),
        period=Period.MONTH,
        period_start=dt.date(2027, 1, 1),
        amount=Decimal("1000"),
    )

    response = api.get("/api/brands/", {"pacing": status})

    assert response.status_code == 200
    found = [b["name"] for b in response.json()["results"]]
    assert found == names
    assert all(b["pacing"]["status"] == status for b in response.json()["results"])


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize("value", ["late", "UNDER", ""])
def test_a_bad_pacing_filter_is_a_400_naming_it(api: APIClient, value: str) -> None:
    response = api.get("/api/brands/", {"pacing": value})
    assert response.status_code == 400
    assert list(response.json()) == ["pacing"]


@time_machine.travel(NOW, tick=False)
def test_the_filter_lists_only_visible_brands() -> None:
    mine = _brand("Mine", "80", "40")
    _brand("Theirs", "80", "40")
    client = token_client(member_of(mine, "viewer", "viewer"))

    response = client.get("/api/brands/", {"pacing": "under"})

    assert [b["name"] for b in response.json()["results"]] == ["Mine"]
