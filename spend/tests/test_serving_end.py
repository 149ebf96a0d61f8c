"""day_cap_reached_at is bounded by the end of today's serving time, not only the day's.

Every brand has a daily cap of 100. The rate is the last hour's spend (one
ledger event inside it); the time is now + (100 - today's spend) / rate.
Every figure below is computed by hand.
"""

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from budgets.models import Brand, Budget
from budgets.tests.factories import BrandFactory, BudgetFactory
from campaigns.models import ALL_DAYS_MASK, Campaign, days_to_mask
from campaigns.serving_time import serving_ends_at, serving_windows_today
from campaigns.tests.factories import CampaignFactory, DaypartFactory
from spend.pacing import brand_pacing, budget_pacing
from spend.tests.factories import BrandSpendFactory, BudgetSpendFactory, SpendEventFactory

pytestmark = pytest.mark.django_db

PARIS = "Europe/Paris"
WEDNESDAY = dt.date(2027, 1, 13)
SPRING_FORWARD = dt.date(2026, 3, 29)  # Paris: 02:00 -> 03:00, a 23-hour day
FALL_BACK = dt.date(2026, 10, 25)  # Paris: 03:00 -> 02:00, a 25-hour day


def _at(day: dt.date, hour: int, minute: int = 0, *, tz: str = "UTC") -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=ZoneInfo(tz))


def _campaign(
    brand: Brand, start: int, end: int, *, days: int = ALL_DAYS_MASK, budget: Budget | None = None
) -> Campaign:
    campaign = CampaignFactory.create(brand=brand, budget=budget)
    DaypartFactory.create(
        campaign=campaign, days=days, start_time=dt.time(start), end_time=dt.time(end)
    )
    return campaign


def _spent(campaign: Campaign, now: dt.datetime, today: str, last_hour: str) -> None:
    """Today's day rollup, and one ledger event half an hour ago."""
    day = now.astimezone(ZoneInfo(campaign.brand.timezone)).date()
    with time_machine.travel(now, tick=False):
        BrandSpendFactory.create(brand=campaign.brand, period_start=day, amount=Decimal(today))
        if campaign.budget is not None:
            BudgetSpendFactory.create(
                budget=campaign.budget, period_start=day, amount=Decimal(today)
            )
        SpendEventFactory.create(
            campaign=campaign, amount=Decimal(last_hour), occurred_at=now - dt.timedelta(minutes=30)
        )


def _reached_at(brand: Brand, now: dt.datetime) -> dt.datetime | None:
    with time_machine.travel(now, tick=False):
        pacing = brand_pacing([brand], now=now)[brand.pk]
    assert pacing is not None
    return pacing.day_cap_reached_at


@pytest.mark.parametrize(
    ("today", "closes", "expected"),
    [
        # 40 left at 10 an hour: 16:00, after the window's close at 14:00.
        ("60", 14, None),
        # The same with the window open until 17:00: 16:00.
        ("60", 17, _at(WEDNESDAY, 16)),
        # 10 left at 10 an hour: 13:00, inside the window closing at 14:00.
        ("90", 14, _at(WEDNESDAY, 13)),
        # Exactly at the close is not before it.
        ("80", 14, None),
    ],
)
def test_the_cap_is_reached_only_before_the_last_window_closes(
    today: str, closes: int, expected: dt.datetime | None
) -> None:
    brand = BrandFactory.create()
    now = _at(WEDNESDAY, 12)
    _spent(_campaign(brand, 9, closes), now, today, last_hour="10")

    assert _reached_at(brand, now) == expected


def test_the_last_of_several_windows_bounds_it_through_the_gaps() -> None:
    brand = BrandFactory.create()
    now = _at(WEDNESDAY, 12)
    campaign = _campaign(brand, 9, 11)
    _campaign(brand, 15, 17)
    _spent(campaign, now, "60", last_hour="10")

    # 16:00 is inside the second window: the gap 11:00-15:00 does not stop the rate.
    assert _reached_at(brand, now) == _at(WEDNESDAY, 16)


def test_an_overnight_window_runs_to_the_end_of_its_day_and_into_the_next() -> None:
    brand = BrandFactory.create()
    # Tuesday 22:00 to 03:00, Tuesdays only: on Tuesday it closes at midnight,
    # on Wednesday its spill closes at 03:00.
    tuesday_only = days_to_mask(["tue"])
    campaign = _campaign(brand, 22, 3, days=tuesday_only)
    tuesday = WEDNESDAY - dt.timedelta(days=1)

    ends = serving_ends_at({brand.pk: "UTC"}, _at(tuesday, 23))
    assert ends == {brand.pk: _at(WEDNESDAY, 0)}
    assert serving_ends_at({brand.pk: "UTC"}, _at(WEDNESDAY, 1)) == {brand.pk: _at(WEDNESDAY, 3)}

    # Wednesday 01:00: 10 left at 10 an hour is 02:00, inside the spill; 40 left is 05:00.
    now = _at(WEDNESDAY, 1)
    _spent(campaign, now, "90", last_hour="10")
    assert _reached_at(brand, now) == _at(WEDNESDAY, 2)


def test_with_no_window_today_the_cap_is_never_reached_today() -> None:
    brand = BrandFactory.create()
    saturday_only = days_to_mask(["sat"])
    _spent(_campaign(brand, 0, 23, days=saturday_only), _at(WEDNESDAY, 12), "90", last_hour="50")
    without_campaigns = BrandFactory.create()
    now = _at(WEDNESDAY, 12)

    # No time left to serve: the serving end is the day's first instant.
    assert serving_ends_at({brand.pk: "UTC", without_campaigns.pk: "UTC"}, now) == {
        brand.pk: _at(WEDNESDAY, 0),
        without_campaigns.pk: _at(WEDNESDAY, 0),
    }
    # 10 left at 50 an hour would be 12:12.
    assert _reached_at(brand, now) is None


def test_a_campaign_without_dayparts_serves_to_the_end_of_the_day() -> None:
    brand = BrandFactory.create()
    _campaign(brand, 9, 14)
    campaign = CampaignFactory.create(brand=brand)  # no daypart: the whole day
    now = _at(WEDNESDAY, 12)
    _spent(campaign, now, "60", last_hour="10")

    assert _reached_at(brand, now) == _at(WEDNESDAY, 16)


def test_on_the_spring_forward_day_the_window_closes_in_real_time() -> None:
    brand = BrandFactory.create(timezone=PARIS)
    # 01:00-04:00 on the wall clock: 00:00-02:00 UTC, the hour 02:00-03:00 skipped.
    campaign = _campaign(brand, 1, 4)
    now = _at(SPRING_FORWARD, 1, 30)  # 03:30 CEST

    assert serving_windows_today({brand.pk: PARIS}, now) == {
        brand.pk: [(_at(SPRING_FORWARD, 0), _at(SPRING_FORWARD, 2))]
    }
    # 5 left at 20 an hour: 15 minutes, 03:45 CEST, before the close at 04:00 CEST.
    _spent(campaign, now, "95", last_hour="20")
    reached = _reached_at(brand, now)
    assert reached == _at(SPRING_FORWARD, 1, 45)
    assert reached is not None
    assert reached.utcoffset() == dt.timedelta(hours=2)


def test_on_the_spring_forward_day_the_close_itself_is_too_late() -> None:
    brand = BrandFactory.create(timezone=PARIS)
    campaign = _campaign(brand, 1, 4)
    now = _at(SPRING_FORWARD, 1, 30)
    # 10 left at 20 an hour: 30 minutes, 04:00 CEST, the close.
    _spent(campaign, now, "90", last_hour="20")

    assert _reached_at(brand, now) is None


def test_on_the_fall_back_day_a_window_to_midnight_closes_after_25_hours() -> None:
    brand = BrandFactory.create(timezone=PARIS)
    _campaign(brand, 20, 0)
    _campaign(brand, 1, 3)  # open when the first pass ends: through the second too
    now = _at(FALL_BACK, 12)

    assert serving_windows_today({brand.pk: PARIS}, now) == {
        # 01:00 CEST is 23:00 UTC the day before; 03:00 CET is 02:00 UTC (three real hours).
        brand.pk: [
            (_at(FALL_BACK, 1, tz=PARIS), _at(FALL_BACK, 2)),
            (_at(FALL_BACK, 20, tz=PARIS), _at(FALL_BACK, 23)),
        ]
    }


def test_a_shared_budget_serves_in_its_own_campaigns_windows() -> None:
    brand = BrandFactory.create()
    budget = BudgetFactory.create(
        brand=brand, daily_limit=Decimal("100"), monthly_limit=Decimal("3000")
    )
    in_budget = _campaign(brand, 9, 14, budget=budget)
    CampaignFactory.create(brand=brand)  # the brand serves all day, outside the budget
    now = _at(WEDNESDAY, 12)
    # 40 left at 10 an hour: 16:00, after the budget's only window closes at 14:00.
    _spent(in_budget, now, "60", last_hour="10")

    with time_machine.travel(now, tick=False):
        budget_figures = budget_pacing([budget], now=now)[budget.pk]
    assert budget_figures is not None
    assert budget_figures.day_cap_reached_at is None
    assert _reached_at(brand, now) == _at(WEDNESDAY, 16)


@pytest.mark.parametrize("count", [2, 20])
def test_the_serving_windows_of_any_number_of_brands_are_one_query(count: int) -> None:
    zones = ["UTC", PARIS, "Asia/Kolkata", "America/Los_Angeles"]
    brands = [BrandFactory.create(timezone=zones[n % len(zones)]) for n in range(count)]
    for n, brand in enumerate(brands):
        _campaign(brand, 9 + n % 3, 17)
        _campaign(brand, 22, 2)
    now = _at(WEDNESDAY, 12)

    with CaptureQueriesContext(connection) as queries:
        found = serving_windows_today({b.pk: b.timezone for b in brands}, now)

    assert len(queries) == 1
    # Every brand: the spill 00:00-02:00, its day window, 22:00-24:00 (local).
    assert {pk: len(windows) for pk, windows in found.items()} == dict.fromkeys(
        (b.pk for b in brands), 3
    )
