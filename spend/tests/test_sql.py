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


def test_the_django_backend_members_the_server_cursor_uses_are_there() -> None:
    # Fails on a Django whose database wrapper lost or changed one of them:
    # server_cursor is then to be adapted before spend is recorded with it.
    import inspect

    from django.db.backends.postgresql.base import DatabaseWrapper

    from spend.recording.cursors import DJANGO_BACKEND_INTERNALS

    missing = [name for name in DJANGO_BACKEND_INTERNALS if not hasattr(DatabaseWrapper, name)]
    assert missing == []
    assert list(inspect.signature(DatabaseWrapper.make_cursor).parameters) == ["self", "cursor"]
    for name in ("close_if_health_check_failed", "ensure_connection", "validate_thread_sharing"):
        assert callable(getattr(DatabaseWrapper, name))
    assert isinstance(DatabaseWrapper.queries_logged, property)
