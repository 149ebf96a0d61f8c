"""Standard delivery: the even-delivery allowance, and the reconcile's pacing hold.

Allowance = daily budget x (serving time passed today / serving time today)
+ tolerance (5% of the daily budget). Every figure below is computed by hand.
"""

import datetime as dt
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from budgets.models import Brand, Delivery
from budgets.services import brand_update
from budgets.tests.factories import BrandFactory
from campaigns.models import ALL_DAYS_MASK, Campaign, CampaignStatusChange, days_to_mask
from campaigns.next_serving import PACING_TEXT, next_serving
from campaigns.services import campaign_pause
from campaigns.serving_time import ServingDay, serving_day
from campaigns.tests.factories import CampaignFactory, DaypartFactory
from spend.delivery import brand_allowances
from spend.reconcile import ReconcileResult, reconcile
from spend.services import spend_record
from spend.tests.factories import BrandSpendFactory

PARIS = "Europe/Paris"
HAVANA = "America/Havana"
KOLKATA = "Asia/Kolkata"
SPRING_FORWARD = dt.date(2026, 3, 29)  # Paris: 02:00 -> 03:00, a 23-hour day
FALL_BACK = dt.date(2026, 10, 25)  # Paris: 03:00 -> 02:00, a 25-hour day


def _at(day: dt.date, hour: int, minute: int = 0, *, tz: str = "UTC", fold: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=ZoneInfo(tz)).replace(fold=fold)


def _standard(tz: str = "UTC", daily: str = "100") -> Brand:
    return BrandFactory.create(timezone=tz, daily_budget=Decimal(daily), delivery=Delivery.STANDARD)


def _window(brand: Brand, start: int, end: int, days: int = ALL_DAYS_MASK) -> Campaign:
    campaign = CampaignFactory.create(brand=brand)
    DaypartFactory.create(
        campaign=campaign, days=days, start_time=dt.time(start), end_time=dt.time(end)
    )
    return campaign


def _allowance(brand: Brand, now: dt.datetime) -> tuple[int, int, Decimal]:
    figures = brand_allowances(brand_ids=[brand.pk], now=now)[brand.pk]
    return figures.serving_seconds, figures.passed_seconds, figures.allowance


# ---------------------------------------------------------------- the local day's clock


@pytest.mark.parametrize(
    ("now", "tz", "expected", "length"),
    [
        # 12:00 in Paris on the 23-hour day: 11 real hours since midnight.
        (_at(SPRING_FORWARD, 12, tz=PARIS), PARIS, (39600, 7200, 10800, -3600), 82800),
        # 12:00 on the 25-hour day: 13 real hours; the clock goes back at 03:00.
        (_at(FALL_BACK, 12, tz=PARIS), PARIS, (46800, 10800, 10800, 3600), 90000),
        # Havana springs forward at midnight: the day begins at 01:00, 7 hours before 08:00.
        (_at(dt.date(2026, 3, 8), 8, tz=HAVANA), HAVANA, (25200, 0, 3600, -3600), 82800),
        (_at(dt.date(2026, 3, 10), 17, 30, tz=KOLKATA), KOLKATA, (63000, 86400, 86400, 0), 86400),
    ],
)  # fmt: skip
def test_the_local_day_knows_its_clock_change(
    now: dt.datetime, tz: str, expected: tuple[int, int, int, int], length: int
) -> None:
    day = serving_day(now, tz)
    assert (day.elapsed, day.gap_start, day.gap_end, day.shift) == expected
    assert day.length == length


def test_wall_clock_seconds_map_to_real_seconds_across_the_gap() -> None:
    day = ServingDay(PARIS, SPRING_FORWARD, 0, gap_start=7200, gap_end=10800, shift=-3600)
    assert [day.real_seconds(h * 3600) for h in (1, 2, 3, 4)] == [3600, 7200, 7200, 10800]


# ---------------------------------------------------------------- the allowance


@pytest.mark.django_db
def test_without_dayparts_the_whole_day_is_serving_time() -> None:
    brand = _standard()
    CampaignFactory.create(brand=brand)
    # 06:00: a quarter of the day -> 100 x 1/4 + 5
    assert _allowance(brand, _at(dt.date(2026, 3, 10), 6)) == (86400, 21600, Decimal("30"))


@pytest.mark.django_db
def test_one_campaign_without_dayparts_makes_the_whole_day_serving_time() -> None:
    brand = _standard()
    _window(brand, 9, 17)
    CampaignFactory.create(brand=brand)
    assert _allowance(brand, _at(dt.date(2026, 3, 10), 12)) == (86400, 43200, Decimal("55"))


@pytest.mark.django_db
def test_the_union_of_overlapping_windows_counts_once() -> None:
    brand = _standard(PARIS)
    _window(brand, 9, 17)
    _window(brand, 16, 20)  # together 09:00-20:00, 11 hours
    _window(brand, 10, 12)  # inside the first
    # 13:00 in Paris: 4 of 11 hours -> 100 x 4/11 + 5 = 41.363636...
    now = _at(dt.date(2026, 3, 10), 13, tz=PARIS)
    assert _allowance(brand, now) == (39600, 14400, Decimal("41.363636"))
    # Before the first window nothing has passed; after the last, all of it.
    assert _allowance(brand, _at(dt.date(2026, 3, 10), 8, tz=PARIS))[1:] == (0, Decimal("5"))
    assert _allowance(brand, _at(dt.date(2026, 3, 10), 21, tz=PARIS))[1:] == (
        39600,
        Decimal("105"),
    )


@pytest.mark.django_db
def test_an_overnight_daypart_serves_both_ends_of_the_day() -> None:
    brand = _standard()
    _window(brand, 22, 2)  # every day: 00:00-02:00 (from yesterday) and 22:00-24:00
    # 01:00: one of four hours -> 100 x 1/4 + 5
    assert _allowance(brand, _at(dt.date(2026, 3, 10), 1)) == (14400, 3600, Decimal("30"))
    # 12:00: the morning part is over, the evening one not begun -> 100 x 2/4 + 5
    assert _allowance(brand, _at(dt.date(2026, 3, 10), 12)) == (14400, 7200, Decimal("55"))


@pytest.mark.django_db
def test_yesterdays_overnight_window_counts_only_if_it_started_yesterday() -> None:
    brand = _standard()
    tuesday = dt.date(2026, 3, 10)
    _window(brand, 22, 2, days=days_to_mask(["mon"]))  # Mon 22:00 - Tue 02:00
    _window(brand, 9, 11, days=days_to_mask(["tue"]))
    # Tuesday 10:00: 00:00-02:00 and 09:00-11:00 -> 3 of 4 hours -> 75 + 5
    assert _allowance(brand, _at(tuesday, 10)) == (14400, 10800, Decimal("80"))
    # Wednesday: only what opens on Wednesday, and nothing does.
    assert brand.pk not in brand_allowances(now=_at(tuesday + dt.timedelta(days=1), 10))


@pytest.mark.django_db
def test_on_the_spring_forward_day_the_skipped_hour_is_not_serving_time() -> None:
    brand = _standard(PARIS)
    _window(brand, 1, 4)  # 01:00-02:00 and 03:00-04:00: two real hours
    # 03:30: one and a half of two -> 100 x 3/4 + 5
    assert _allowance(brand, _at(SPRING_FORWARD, 3, 30, tz=PARIS)) == (
        7200,
        5400,
        Decimal("80"),
    )
    whole_day = _standard(PARIS)
    CampaignFactory.create(brand=whole_day)
    # 12:00: 11 of 23 real hours -> 100 x 11/23 + 5 = 52.826087
    assert _allowance(whole_day, _at(SPRING_FORWARD, 12, tz=PARIS)) == (
        82800,
        39600,
        Decimal("52.826087"),
    )


@pytest.mark.django_db
def test_on_the_fall_back_day_the_repeated_hour_is_served_once_per_pass() -> None:
    brand = _standard(PARIS)
    _window(brand, 1, 4)  # 01:00 to 04:00 on a clock that shows 02:00-03:00 twice: 4 hours
    # 02:30 in the second pass: 01:00-03:00 (first pass) and half an hour since -> 2.5 of 4
    now = _at(FALL_BACK, 2, 30, tz=PARIS, fold=1)
    assert _allowance(brand, now) == (14400, 9000, Decimal("67.5"))
    closes_in_repeat = _standard(PARIS)
    campaign = CampaignFactory.create(brand=closes_in_repeat)
    # 01:00-02:30 closes in the first pass (the schedule does not open it again): 1.5 hours
    DaypartFactory.create(campaign=campaign, start_time=dt.time(1), end_time=dt.time(2, 30))
    assert _allowance(closes_in_repeat, now) == (5400, 5400, Decimal("105"))


@pytest.mark.django_db
def test_what_will_not_serve_today_is_not_serving_time() -> None:
    brand = _standard()
    day = dt.date(2026, 3, 10)
    _window(brand, 9, 17)
    paused = CampaignFactory.create(brand=brand)  # no daypart, but paused by a person
    campaign_pause(campaign_id=paused.pk)
    CampaignFactory.create(brand=brand, starts_on=day + dt.timedelta(days=1))
    CampaignFactory.create(brand=brand, ends_on=day - dt.timedelta(days=1))
    assert _allowance(brand, _at(day, 13)) == (28800, 14400, Decimal("55"))


@pytest.mark.django_db
def test_accelerated_brands_and_brands_without_serving_time_have_no_allowance() -> None:
    accelerated = BrandFactory.create()
    CampaignFactory.create(brand=accelerated)
    idle = _standard()
    CampaignFactory.create(brand=idle, enabled=False)
    assert brand_allowances(now=_at(dt.date(2026, 3, 10), 12)) == {}


# ---------------------------------------------------------------- the hold


def _tick(now: dt.datetime) -> ReconcileResult:
    with time_machine.travel(now, tick=False):
        return reconcile()


def _spend(campaign: Campaign, amount: str, now: dt.datetime) -> None:
    with time_machine.travel(now, tick=False):
        spend_record(campaign_id=campaign.pk, amount=Decimal(amount))


def _state(campaign: Campaign) -> tuple[str, str | None]:
    campaign.refresh_from_db()
    return campaign.status, campaign.pause_reason


@pytest.mark.django_db
def test_spend_ahead_of_the_allowance_holds_until_it_has_caught_up() -> None:
    day = dt.date(2026, 3, 10)
    brand = _standard()
    campaign = CampaignFactory.create(brand=brand)
    other = CampaignFactory.create(brand=brand)
    _spend(campaign, "40", _at(day, 5, 59))

    # 06:00: allowance 100 x 6/24 + 5 = 30 < 40
    held = _tick(_at(day, 6))
    assert _state(campaign) == _state(other) == ("paused", "brand_daily_pacing")
    assert held.summary() == {"schedule_changes": 0, "budget_changes": 0, "pacing_changes": 2}
    assert _tick(_at(day, 6)) == ReconcileResult()  # level-triggered: nothing left to do
    # 09:30: the allowance (44.58) is past the spend, but not yet the even line (39.58)
    assert _tick(_at(day, 9, 30)) == ReconcileResult()
    assert _state(campaign) == ("paused", "brand_daily_pacing")

    released = _tick(_at(day, 9, 36))  # the even line: 100 x 9.6/24 = 40
    assert _state(campaign) == _state(other) == ("active", None)
    assert released.summary()["pacing_changes"] == 2
    assert _tick(_at(day, 9, 36)) == ReconcileResult()
    history = CampaignStatusChange.objects.filter(campaign=campaign).order_by("id")
    assert [(h.new_status, h.new_reason, h.note) for h in history] == [
        ("paused", "brand_daily_pacing", "pacing reconcile"),
        ("active", None, "pacing reconcile"),
    ]


@pytest.mark.django_db
def test_spend_within_the_tolerance_is_not_held_until_it_goes_past_it() -> None:
    day = dt.date(2026, 3, 10)
    brand = _standard()
    campaign = CampaignFactory.create(brand=brand)
    _spend(campaign, "28", _at(day, 5))
    # 06:00: above the even line (25), within the allowance (30): it serves on.
    assert _tick(_at(day, 6)) == ReconcileResult()
    figures = brand_allowances(brand_ids=[brand.pk], now=_at(day, 6))[brand.pk]
    assert (figures.even_line, figures.allowance, figures.held, figures.holds) == (
        Decimal("25"),
        Decimal("30"),
        False,
        False,
    )
    _spend(campaign, "3", _at(day, 6))  # 31 > 30
    _tick(_at(day, 6, 1))
    assert _state(campaign) == ("paused", "brand_daily_pacing")
    assert brand_allowances(brand_ids=[brand.pk], now=_at(day, 6, 1))[brand.pk].held


@pytest.mark.django_db
def test_an_accelerated_brand_is_never_held_for_pacing() -> None:
    day = dt.date(2026, 3, 10)
    campaign = CampaignFactory.create(brand=BrandFactory.create())
    _spend(campaign, "99", _at(day, 0, 10))
    assert _tick(_at(day, 0, 11)) == ReconcileResult()
    assert _state(campaign) == ("active", None)


@pytest.mark.django_db
def test_the_hard_cap_stops_spend_at_once_and_outranks_pacing() -> None:
    day = dt.date(2026, 3, 10)
    brand = _standard()
    campaign = CampaignFactory.create(brand=brand)
    _spend(campaign, "40", _at(day, 5))
    _tick(_at(day, 6))
    assert _state(campaign) == ("paused", "brand_daily_pacing")
    # Spend that still arrives is recorded; reaching the cap holds at once, in
    # the same transaction, whatever the delivery.
    _spend(campaign, "60", _at(day, 6, 30))
    campaign.refresh_from_db()
    assert (campaign.budget_hold, campaign.pacing_hold) == (
        "brand_daily_budget",
        "brand_daily_pacing",
    )
    assert campaign.pause_reason == "brand_daily_budget"
    # The new day releases both.
    _tick(_at(day + dt.timedelta(days=1), 0, 1))
    assert _state(campaign) == ("active", None)


@pytest.mark.django_db
def test_a_person_and_the_schedule_outrank_pacing() -> None:
    day = dt.date(2026, 3, 10)
    brand = _standard()
    paused = CampaignFactory.create(brand=brand)
    campaign_pause(campaign_id=paused.pk)
    scheduled = _window(brand, 9, 17)
    CampaignFactory.create(brand=brand)
    _spend(scheduled, "40", _at(day, 5))
    _tick(_at(day, 6))
    paused.refresh_from_db()
    scheduled.refresh_from_db()
    assert (paused.pacing_hold, paused.pause_reason) == ("brand_daily_pacing", "manual")
    assert (scheduled.pacing_hold, scheduled.pause_reason) == (
        "brand_daily_pacing",
        "outside_daypart",
    )
    assert (
        not CampaignStatusChange.objects.filter(campaign=paused)
        .exclude(new_reason="manual")
        .exists()
    )


@pytest.mark.django_db
def test_switching_to_accelerated_releases_at_once() -> None:
    day = dt.date(2026, 3, 10)
    brand = _standard()
    campaign = CampaignFactory.create(brand=brand)
    _spend(campaign, "40", _at(day, 5))
    _tick(_at(day, 6))
    assert _state(campaign) == ("paused", "brand_daily_pacing")
    with time_machine.travel(_at(day, 6, 1), tick=False):
        brand_update(brand_id=brand.pk, delivery=Delivery.ACCELERATED)
    assert _state(campaign) == ("active", None)


@pytest.mark.django_db
def test_the_next_serving_time_of_a_paced_campaign_depends_on_spend() -> None:
    day = dt.date(2026, 3, 10)
    brand = _standard()
    campaign = CampaignFactory.create(brand=brand)
    _spend(campaign, "40", _at(day, 5))
    _tick(_at(day, 6))
    campaign.refresh_from_db()
    again = next_serving(campaign, [], now=_at(day, 6), tz_name="UTC")
    assert again is not None
    assert (again.at, again.text, again.needs_person) == (None, PACING_TEXT, False)


def _ahead_brands(count: int, day: dt.date) -> None:
    for _ in range(count):
        brand = _standard(PARIS)
        BrandSpendFactory.create(brand=brand, period_start=day, amount=Decimal("90"))
        _window(brand, 9, 17)
        _window(brand, 22, 2)
        CampaignFactory.create(brand=brand, starts_on=day)


def _statements_of_one_tick(instant: dt.datetime) -> list[str]:
    with time_machine.travel(instant, tick=False), CaptureQueriesContext(connection) as queries:
        reconcile()
    return [q["sql"] for q in queries.captured_queries if "SAVEPOINT" not in q["sql"]]


@pytest.mark.django_db
@pytest.mark.parametrize("brands", [3, 30])
def test_a_tick_holding_brands_runs_the_same_queries_for_3_and_30(brands: int) -> None:
    day = dt.date(2026, 3, 10)
    _ahead_brands(brands, day)
    noon = _at(day, 12, tz=PARIS)
    holding = _statements_of_one_tick(noon)
    # * zones, then schedule differences; * zones, then budget differences (none)
    # * zones, then pacing differences; * lock the brands that have any
    # * zones, then one statement each for the schedule and the pacing
    #   differences: select again under the lock, lock, update, history
    assert len(holding) == 6 + 1 + 4, holding
    assert Campaign.objects.filter(pacing_hold="brand_daily_pacing").count() == 3 * brands
    # * zones, then each part's differences: none
    assert len(_statements_of_one_tick(noon)) == 6


@pytest.mark.django_db
def test_the_campaign_page_names_the_pacing_hold_and_when_it_lifts(staff_client: Client) -> None:
    day = dt.date(2026, 3, 10)
    brand = _standard()
    campaign = CampaignFactory.create(brand=brand)
    _spend(campaign, "40", _at(day, 5))
    _tick(_at(day, 6))
    with time_machine.travel(_at(day, 6, 1), tick=False):
        html = staff_client.get(campaign.get_absolute_url()).content.decode()
    assert 'data-fact="pacing">Ahead of the brand&#x27;s even delivery' in html
    assert f"Serves again {PACING_TEXT}".replace("'", "&#x27;") in html
    assert "Paused · even delivery" in html


@pytest.mark.parametrize("value", ["abc", "-0.01", "1.5", "NaN"])
def test_a_tolerance_that_is_not_a_share_stops_the_server_from_starting(value: str) -> None:
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        env={**os.environ, "BRAND_DELIVERY_TOLERANCE": value},
        capture_output=True,
        text=True,
        check=False,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert result.returncode != 0
    assert "BRAND_DELIVERY_TOLERANCE must be a share between 0 and 1." in result.stderr
