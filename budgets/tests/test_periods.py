"""Brand-local days and months, including daylight-saving transitions."""

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from budgets.periods import (
    day_bounds_utc,
    is_valid_timezone,
    local_date,
    month_bounds_utc,
    month_start,
    next_month_start,
)

UTC = dt.UTC


def test_spend_a_minute_apart_around_local_midnight_lands_on_two_days() -> None:
    # 23:59 and 00:01 in New York (EST, UTC-5) on 2026-01-15 / 2026-01-16.
    before = dt.datetime(2026, 1, 16, 4, 59, tzinfo=UTC)
    after = dt.datetime(2026, 1, 16, 5, 1, tzinfo=UTC)
    assert local_date(before, "America/New_York") == dt.date(2026, 1, 15)
    assert local_date(after, "America/New_York") == dt.date(2026, 1, 16)


def test_half_hour_offset_zone_has_its_own_midnight() -> None:
    # Kolkata is UTC+05:30: 18:29 UTC is 23:59 local, 18:31 UTC is 00:01.
    assert local_date(dt.datetime(2026, 3, 31, 18, 29, tzinfo=UTC), "Asia/Kolkata") == dt.date(
        2026, 3, 31
    )
    assert local_date(dt.datetime(2026, 3, 31, 18, 31, tzinfo=UTC), "Asia/Kolkata") == dt.date(
        2026, 4, 1
    )


def test_dst_days_are_23_and_25_hours_long() -> None:
    spring = day_bounds_utc(dt.date(2026, 3, 8), "America/New_York")
    autumn = day_bounds_utc(dt.date(2026, 11, 1), "America/New_York")
    plain = day_bounds_utc(dt.date(2026, 6, 1), "America/New_York")
    assert spring[1] - spring[0] == dt.timedelta(hours=23)
    assert autumn[1] - autumn[0] == dt.timedelta(hours=25)
    assert plain[1] - plain[0] == dt.timedelta(hours=24)


def test_month_bounds_follow_local_midnight() -> None:
    start, end = month_bounds_utc(dt.date(2026, 2, 14), "Asia/Kolkata")
    assert start == dt.datetime(2026, 1, 31, 18, 30, tzinfo=UTC)
    assert end == dt.datetime(2026, 2, 28, 18, 30, tzinfo=UTC)


def test_local_date_refuses_naive_datetimes() -> None:
    with pytest.raises(ValueError, match="aware"):
        local_date(dt.datetime(2026, 1, 1, 12, 0), "UTC")  # noqa: DTZ001


@pytest.mark.parametrize(
    ("name", "valid"),
    [
        ("UTC", True),
        ("Asia/Kolkata", True),
        ("Pacific/Chatham", True),
        ("Mars/Base", False),
        ("", False),
    ],
)
def test_timezone_validation(name: str, valid: bool) -> None:
    assert is_valid_timezone(name) is valid


ZONES = st.sampled_from(
    [
        "UTC",
        "America/New_York",
        "Asia/Kolkata",
        "Pacific/Chatham",
        "Europe/London",
        "Australia/Lord_Howe",
    ]
)
# Hypothesis takes naive bounds and attaches the zone itself.
INSTANTS = st.datetimes(
    min_value=dt.datetime(2000, 1, 1),  # noqa: DTZ001
    max_value=dt.datetime(2100, 1, 1),  # noqa: DTZ001
    timezones=st.just(UTC),
)


@given(instant=INSTANTS, tz=ZONES)
def test_every_instant_falls_inside_its_local_day_and_month(instant: dt.datetime, tz: str) -> None:
    day = local_date(instant, tz)
    start, end = day_bounds_utc(day, tz)
    assert start <= instant < end
    month_lo, month_hi = month_bounds_utc(day, tz)
    assert month_lo <= start
    assert end <= month_hi
    assert month_start(day) <= day < next_month_start(day)


@given(instant=INSTANTS, tz=ZONES)
def test_consecutive_local_days_tile_time_without_gaps(instant: dt.datetime, tz: str) -> None:
    day = local_date(instant, tz)
    _, end = day_bounds_utc(day, tz)
    next_start, _ = day_bounds_utc(day + dt.timedelta(days=1), tz)
    assert end == next_start
    assert dt.timedelta(hours=22) <= end - day_bounds_utc(day, tz)[0] <= dt.timedelta(hours=26)
