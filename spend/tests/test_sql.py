"""Raw-SQL value conversion shared by the recording paths."""

import datetime as dt

from spend.recording.cursors import to_datetime


def test_naive_datetimes_from_sqlite_are_read_as_utc() -> None:
    naive = dt.datetime(2026, 11, 21, 2, 21, 2, 929499)  # noqa: DTZ001 - as SQLite returns it
    assert to_datetime(naive) == dt.datetime(2026, 11, 21, 2, 21, 2, 929499, tzinfo=dt.UTC)
    assert to_datetime("2026-11-21 02:21:02.929499") == to_datetime(naive)


def test_aware_datetimes_are_kept() -> None:
    aware = dt.datetime(2026, 11, 21, 8, 0, tzinfo=dt.timezone(dt.timedelta(hours=5, minutes=30)))
    assert to_datetime(aware) is aware
