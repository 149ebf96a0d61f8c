"""Schedule rules: flight dates and dayparts in each brand's wall-clock time.

Tables of weekday x window x time zone x instant, DST transitions included.
The clock is set with time_machine and the reconcile reads it.
"""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from budgets.tests.factories import BrandFactory
from campaigns.models import Campaign, CampaignStatusChange, days_to_mask
from campaigns.schedule import daypart_wall_clock, schedule_holds_reconcile
from campaigns.tests.factories import CampaignFactory, DaypartFactory

pytestmark = pytest.mark.django_db

OUTSIDE = "outside_daypart"
SERVES = None


def _time(text: str) -> dt.time:
    return dt.time.fromisoformat(text)


def _campaign_with(tz: str, windows: list[str], **fields: object) -> Campaign:
    """A campaign of a new brand in `tz` with dayparts written "fri 22:00-02:00"."""
    campaign = CampaignFactory.create(brand=BrandFactory.create(timezone=tz), **fields)
    for window in windows:
        days, hours = window.split(" ")
        start, end = hours.split("-")
        DaypartFactory.create(
            campaign=campaign,
            days=days_to_mask(days.split(",")),
            start_time=_time(start),
            end_time=_time(end),
        )
    return campaign


def _hold_after_tick_at(instant: dt.datetime, campaign: Campaign) -> str | None:
    with time_machine.travel(instant, tick=False):
        schedule_holds_reconcile()
    campaign.refresh_from_db()
    return campaign.schedule_hold


# 2026-03-09 is a Monday; 03-13 a Friday, 03-14 Saturday, 03-15 Sunday.
OFFICE = ["mon,tue,wed,thu,fri 09:00-17:00"]
FRIDAY_NIGHT = ["fri 22:00-02:00"]
TWO_WINDOWS = ["mon 09:00-12:00", "mon 14:00-17:00"]
WEEKLY_CASES: list[tuple[str, list[str], str, str | None]] = [
    ("office hours, just before", OFFICE, "2026-03-09 08:59", OUTSIDE),
    ("office hours, at the start", OFFICE, "2026-03-09 09:00", SERVES),
    ("office hours, last minute", OFFICE, "2026-03-09 16:59", SERVES),
    ("office hours, at the end", OFFICE, "2026-03-09 17:00", OUTSIDE),
    ("office hours, on a saturday", OFFICE, "2026-03-14 10:00", OUTSIDE),
    ("overnight, before it opens", FRIDAY_NIGHT, "2026-03-13 21:59", OUTSIDE),
    ("overnight, at the start", FRIDAY_NIGHT, "2026-03-13 22:00", SERVES),
    ("overnight, saturday 01:00", FRIDAY_NIGHT, "2026-03-14 01:00", SERVES),
    ("overnight, saturday 02:00", FRIDAY_NIGHT, "2026-03-14 02:00", OUTSIDE),
    ("overnight, saturday 23:00", FRIDAY_NIGHT, "2026-03-14 23:00", OUTSIDE),
    ("overnight, thursday 23:00", FRIDAY_NIGHT, "2026-03-12 23:00", OUTSIDE),
    ("overnight from sunday, monday 01:00", ["sun 22:00-02:00"], "2026-03-09 01:00", SERVES),
    ("24 hours from wednesday 10:00, thu 09:59", ["wed 10:00-10:00"], "2026-03-12 09:59", SERVES),
    ("24 hours from wednesday 10:00, thu 10:00", ["wed 10:00-10:00"], "2026-03-12 10:00", OUTSIDE),
    ("two windows, between them", TWO_WINDOWS, "2026-03-09 13:00", OUTSIDE),
    ("two windows, in the second", TWO_WINDOWS, "2026-03-09 15:00", SERVES),
    ("all day every day", ["mon,tue,wed,thu,fri,sat,sun 00:00-00:00"], "2026-03-15 23:59", SERVES),
    ("no dayparts at all", [], "2026-03-15 03:00", SERVES),
]
ZONES = ["UTC", "Asia/Kolkata", "Pacific/Chatham", "America/New_York"]


@pytest.mark.parametrize("tz", ZONES)
@pytest.mark.parametrize(
    ("windows", "local", "expected"),
    [pytest.param(w, local, expected, id=name) for name, w, local, expected in WEEKLY_CASES],
)
def test_dayparts_follow_the_brands_wall_clock(
    tz: str, windows: list[str], local: str, expected: str | None
) -> None:
    campaign = _campaign_with(tz, windows)
    instant = dt.datetime.fromisoformat(local).replace(tzinfo=ZoneInfo(tz))
    assert _hold_after_tick_at(instant, campaign) == expected


def _ny_utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


# America/New_York 2026: clocks jump 02:00 EST -> 03:00 EDT on Sunday 8 March at
# 07:00 UTC, and fall back 02:00 EDT -> 01:00 EST on Sunday 1 November at 06:00
# UTC, so 01:00-02:00 is shown twice. Instants are UTC, comments local.
DST_CASES: list[tuple[str, str, str, str | None]] = [
    # A boundary in the gap takes effect at the first valid instant after it.
    ("gap: a 02:30 start opens at 03:00 EDT", "sun 02:30-05:00", "2026-03-08 07:00", SERVES),
    ("gap: a 02:30 start is shut at 01:59 EST", "sun 02:30-05:00", "2026-03-08 06:59", OUTSIDE),
    ("gap: a 02:30 end serves at 01:59 EST", "sun 01:00-02:30", "2026-03-08 06:59", SERVES),
    ("gap: a 02:30 end has closed at 03:00 EDT", "sun 01:00-02:30", "2026-03-08 07:00", OUTSIDE),
    ("gap: a window inside the gap never opens", "sun 02:10-02:40", "2026-03-08 07:00", OUTSIDE),
    ("gap: overnight from saturday, 01:30 EST", "sat 23:00-02:30", "2026-03-08 06:30", SERVES),
    ("gap: overnight from saturday, 03:00 EDT", "sat 23:00-02:30", "2026-03-08 07:00", OUTSIDE),
    # The repeated hour counts once: the second pass changes nothing.
    ("fold: 00:00-01:30 at 01:15 EDT", "sun 00:00-01:30", "2026-11-01 05:15", SERVES),
    ("fold: 00:00-01:30 at 01:45 EDT", "sun 00:00-01:30", "2026-11-01 05:45", OUTSIDE),
    ("fold: 00:00-01:30 not reopened at 01:15 EST", "sun 00:00-01:30", "2026-11-01 06:15", OUTSIDE),
    ("fold: 01:30-03:00 at 01:45 EDT", "sun 01:30-03:00", "2026-11-01 05:45", SERVES),
    ("fold: 01:30-03:00 still open at 01:15 EST", "sun 01:30-03:00", "2026-11-01 06:15", SERVES),
    ("fold: 01:30-03:00 closed at 03:00 EST", "sun 01:30-03:00", "2026-11-01 08:00", OUTSIDE),
    ("fold: 01:15-01:45 at 01:20 EDT", "sun 01:15-01:45", "2026-11-01 05:20", SERVES),
    ("fold: 01:15-01:45 not at 01:20 EST", "sun 01:15-01:45", "2026-11-01 06:20", OUTSIDE),
    ("fold: 02:00-04:00 shut at 01:30 EST", "sun 02:00-04:00", "2026-11-01 06:30", OUTSIDE),
    ("fold: 02:00-04:00 opens at 02:00 EST", "sun 02:00-04:00", "2026-11-01 07:00", SERVES),
]


@pytest.mark.parametrize(
    ("window", "utc", "expected"),
    [pytest.param(w, utc, expected, id=name) for name, w, utc, expected in DST_CASES],
)
def test_daylight_saving_transitions_in_new_york(
    window: str, utc: str, expected: str | None
) -> None:
    campaign = _campaign_with("America/New_York", [window])
    assert _hold_after_tick_at(_ny_utc(utc), campaign) == expected


def test_second_pass_of_the_repeated_hour_is_evaluated_at_the_end_of_the_first() -> None:
    def wall(utc: str) -> str:
        return daypart_wall_clock(_ny_utc(utc), "America/New_York").isoformat()

    assert wall("2026-11-01 05:59:59") == "2026-11-01T01:59:59"  # first pass
    assert wall("2026-11-01 06:00") == "2026-11-01T01:59:59.999999"  # second pass
    assert wall("2026-11-01 06:59:59") == "2026-11-01T01:59:59.999999"
    assert wall("2026-11-01 07:00") == "2026-11-01T02:00:00"


def test_a_half_hour_fall_back_is_handled_like_an_hour() -> None:
    # Lord Howe goes from +11:00 to +10:30 at 02:00 local on 5 April 2026.
    second_pass = dt.datetime(2026, 4, 4, 15, 15, tzinfo=dt.UTC)  # 01:45 for the second time
    wall = daypart_wall_clock(second_pass, "Australia/Lord_Howe")
    assert wall.isoformat() == "2026-04-05T01:59:59.999999"


KOLKATA_FROM_11 = ("Asia/Kolkata", {"starts_on": dt.date(2026, 3, 11)})
CHATHAM_TO_10 = ("Pacific/Chatham", {"ends_on": dt.date(2026, 3, 10)})
NEW_YORK_10_ONLY = (
    "America/New_York",
    {"starts_on": dt.date(2026, 3, 10), "ends_on": dt.date(2026, 3, 10)},
)
FLIGHT_CASES: list[tuple[str, tuple[str, dict[str, dt.date]], str, str | None]] = [
    # Kolkata is +05:30: 11 March starts at 18:30 UTC on the 10th.
    ("kolkata, before the first day", KOLKATA_FROM_11, "2026-03-10 18:29", "not_started"),
    ("kolkata, first day", KOLKATA_FROM_11, "2026-03-10 18:30", SERVES),
    # Chatham is +13:45 in March: 11 March starts at 10:15 UTC on the 10th.
    ("chatham, last day", CHATHAM_TO_10, "2026-03-10 10:14", SERVES),
    ("chatham, after the last day", CHATHAM_TO_10, "2026-03-10 10:15", "ended"),
    # New York is -04:00 after 8 March: 11 March starts at 04:00 UTC.
    ("new york, one-day flight", NEW_YORK_10_ONLY, "2026-03-11 03:59", SERVES),
    ("new york, the day after it", NEW_YORK_10_ONLY, "2026-03-11 04:00", "ended"),
]


@pytest.mark.parametrize(
    ("brand", "utc", "expected"),
    [pytest.param(brand, utc, expected, id=name) for name, brand, utc, expected in FLIGHT_CASES],
)
def test_flight_dates_are_brand_local_days(
    brand: tuple[str, dict[str, dt.date]], utc: str, expected: str | None
) -> None:
    tz, flight = brand
    campaign = _campaign_with(tz, [], **flight)
    assert _hold_after_tick_at(_ny_utc(utc), campaign) == expected


def test_flight_dates_take_precedence_over_dayparts() -> None:
    not_started = _campaign_with("UTC", ["mon 09:00-10:00"], starts_on=dt.date(2026, 4, 1))
    ended = _campaign_with("UTC", ["mon 09:00-10:00"], ends_on=dt.date(2026, 3, 1))
    monday_noon = _ny_utc("2026-03-09 12:00")
    assert _hold_after_tick_at(monday_noon, not_started) == "not_started"
    assert _hold_after_tick_at(monday_noon, ended) == "ended"


def test_the_reconcile_never_lifts_a_manual_pause() -> None:
    campaign = _campaign_with("UTC", ["mon 09:00-10:00"], enabled=False)
    assert _hold_after_tick_at(_ny_utc("2026-03-09 12:00"), campaign) == OUTSIDE
    assert _hold_after_tick_at(_ny_utc("2026-03-09 09:30"), campaign) == SERVES
    campaign.refresh_from_db()
    assert campaign.enabled is False
    assert (campaign.status, campaign.pause_reason) == ("paused", "manual")
    # The schedule hold moved under the manual pause; the derived state did not.
    assert not CampaignStatusChange.objects.exists()


def test_a_daypart_boundary_writes_one_history_row_and_a_repeat_tick_none() -> None:
    campaign = _campaign_with("Asia/Kolkata", ["mon 09:00-17:00"])
    ist = ZoneInfo("Asia/Kolkata")
    assert _hold_after_tick_at(dt.datetime(2026, 3, 9, 8, 0, tzinfo=ist), campaign) == OUTSIDE
    assert _hold_after_tick_at(dt.datetime(2026, 3, 9, 9, 0, tzinfo=ist), campaign) == SERVES
    assert _hold_after_tick_at(dt.datetime(2026, 3, 9, 9, 1, tzinfo=ist), campaign) == SERVES
    history = list(
        CampaignStatusChange.objects.order_by("id").values_list("old_reason", "new_reason")
    )
    assert history == [(None, OUTSIDE), (OUTSIDE, None)]


def test_the_reconcile_is_limited_to_the_brands_it_is_given() -> None:
    mine = _campaign_with("UTC", ["mon 09:00-10:00"])
    other = _campaign_with("UTC", ["mon 09:00-10:00"])
    with time_machine.travel(_ny_utc("2026-03-09 12:00"), tick=False):
        changes = schedule_holds_reconcile(brand_ids=[mine.brand_id])
    assert [change.campaign_id for change in changes] == [mine.pk]
    other.refresh_from_db()
    assert other.schedule_hold is None


def test_a_tick_with_nothing_to_change_runs_two_queries() -> None:
    _campaign_with("UTC", ["mon 09:00-10:00"])
    _campaign_with("Asia/Kolkata", [])
    with (
        time_machine.travel(_ny_utc("2026-03-09 09:30"), tick=False),
        CaptureQueriesContext(connection) as queries,
    ):
        assert schedule_holds_reconcile() == []
    statements = [q["sql"] for q in queries.captured_queries if "SAVEPOINT" not in q["sql"]]
    # * the distinct time zones of the brands
    # * the campaigns whose schedule hold differs from what the clock says
    assert len(statements) == 2, statements
