"""Budget periods in the brand's own time zone.

Everything is stored in UTC; these helpers turn an aware instant into the
brand-local day and month that key the spend rollups, and back into the UTC
instants where a local day or month starts. A day in a daylight-saving
transition is 23 or 25 hours long and is still one day with one full cap.
"""

import datetime as dt
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from django.core.exceptions import ValidationError


@lru_cache(maxsize=1)
def _valid_zone_names() -> frozenset[str]:
    return frozenset(available_timezones())


def is_valid_timezone(name: str) -> bool:
    if name not in _valid_zone_names():
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def validate_timezone(name: str) -> None:
    if not is_valid_timezone(name):
        raise ValidationError(
            "%(value)s is not a known IANA time zone (for example Europe/Paris or UTC).",
            code="invalid_timezone",
            params={"value": name},
        )


@lru_cache(maxsize=1024)
def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def local_date(instant: dt.datetime, tz_name: str) -> dt.date:
    """The brand-local calendar day an aware instant falls on."""
    if instant.tzinfo is None:
        raise ValueError("local_date() needs an aware datetime")
    return instant.astimezone(zone(tz_name)).date()


def month_start(day: dt.date) -> dt.date:
    """The first day of the month `day` is in: the key of monthly rollups."""
    return day.replace(day=1)


def next_month_start(day: dt.date) -> dt.date:
    first = month_start(day)
    return (first + dt.timedelta(days=32)).replace(day=1)


def day_start_utc(day: dt.date, tz_name: str) -> dt.datetime:
    """The UTC instant at which the brand-local `day` begins.

    Midnight can fall in a DST gap in a few zones (it did in America/Havana);
    then the day begins at the first valid instant after it.
    """
    tz = zone(tz_name)
    naive = dt.datetime.combine(day, dt.time.min)
    local = naive.replace(tzinfo=tz)
    roundtrip = local.astimezone(dt.UTC).astimezone(tz)
    if roundtrip.replace(tzinfo=None) != naive:
        # Nonexistent wall time: move forward to where the clock resumes.
        local = naive.replace(tzinfo=tz, fold=1)
    return local.astimezone(dt.UTC)


def day_bounds_utc(day: dt.date, tz_name: str) -> tuple[dt.datetime, dt.datetime]:
    """[start, end) of the brand-local day in UTC: 23, 24 or 25 hours long."""
    return day_start_utc(day, tz_name), day_start_utc(day + dt.timedelta(days=1), tz_name)


def month_bounds_utc(day: dt.date, tz_name: str) -> tuple[dt.datetime, dt.datetime]:
    """[start, end) of the brand-local month containing `day`, in UTC."""
    return day_start_utc(month_start(day), tz_name), day_start_utc(next_month_start(day), tz_name)
