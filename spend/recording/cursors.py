"""Plumbing for spend recording's SQL: cursors, placeholders, values.

On PostgreSQL the statements run on server-binding cursors, so that each is
planned once per connection (DATABASE_PREPARED_STATEMENTS): a Cursor with
binary parameters for the statements that carry arrays, a RawCursor ($n
placeholders, no parsing of the text by psycopg) for the long statement of
one event. While queries are logged (DEBUG, assertNumQueries) Django's own
client-binding cursor runs the same SQL, so that the log has its text.
SQLite gets Django's cursor and portable SQL.
"""

import datetime as dt
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.backends.utils import CursorWrapper
from django.utils import timezone
from django.utils.dateparse import parse_datetime


def postgres() -> bool:
    return connection.vendor == "postgresql"


@contextmanager
def cursor_for(*, raw: bool = False) -> Iterator[tuple[CursorWrapper, bool]]:
    """A cursor, and whether it binds parameters on the server.

    On PostgreSQL the cursor binds on the server, so that each statement is
    planned once per connection (see DATABASE_PREPARED_STATEMENTS); `raw`
    gives a RawCursor, which takes $n placeholders and so skips psycopg's
    parsing of the text (worth it for a long statement of scalars). While
    queries are logged (DEBUG, assertNumQueries) Django's own cursor is used
    instead: only client-side binding gives the log the statement's text.
    Both run the same SQL; both are wrapped by Django (errors, query counts).
    """
    db = connections[DEFAULT_DB_ALIAS]  # one lookup of the thread's connection
    if db.vendor != "postgresql" or db.queries_logged:
        with db.cursor() as cursor:
            yield cursor, False
        return
    import psycopg

    kind = psycopg.RawCursor if raw else psycopg.Cursor
    with server_cursor(db, kind) as cursor:
        yield cursor, True


# The members of Django's database wrapper that server_cursor relies on
# beyond its documented API: test_sql checks that this Django has them.
DJANGO_BACKEND_INTERNALS = (
    "close_if_health_check_failed",
    "ensure_connection",
    "validate_thread_sharing",
    "make_cursor",
    "queries_logged",
)


def server_cursor(db: Any, kind: Any) -> CursorWrapper:
    """A cursor of class `kind` (a psycopg cursor) on Django's connection, wrapped by Django.

    The one place that reaches into Django's backend: what Django's own
    cursor() does (a pooled connection that the server dropped, a restart, is
    replaced here, once per request, instead of failing the request's first
    statement), with a cursor class of our choosing.
    """
    db.close_if_health_check_failed()
    db.ensure_connection()
    db.validate_thread_sharing()
    wrapped: CursorWrapper = db.make_cursor(kind(db.connection))
    return wrapped


@lru_cache(maxsize=64)
def _binary(sql: str) -> str:
    """Placeholders for binary parameters: cheaper to send than text (dates, times)."""
    return _PLACEHOLDER.sub(lambda m: f"%({m.group(1)})b" if m.group(1) else "%b", sql)


@lru_cache(maxsize=64)
def _native(sql: str) -> tuple[str, tuple[str, ...]]:
    """The statement with PostgreSQL's own placeholders ($1, $2...) and their names."""
    names: list[str] = []

    def number(match: re.Match[str]) -> str:
        if match.group(1) is None:
            raise ValueError("a raw statement takes named placeholders")
        if match.group(1) not in names:
            names.append(match.group(1))
        return f"${names.index(match.group(1)) + 1}"

    return _PLACEHOLDER.sub(number, sql), tuple(names)


_PLACEHOLDER = re.compile(r"%(?:\(([a-z_]+)\))?s")
Params = Sequence[Any] | dict[str, Any]


def _run(cursor: CursorWrapper, server: bool, sql: str, params: Params, *, raw: bool) -> None:
    if not server:
        cursor.execute(sql, params)
    elif raw:
        if not isinstance(params, dict):
            raise TypeError("a raw statement takes a dict of parameters")
        native, names = _native(sql)
        cursor.execute(native, [params[name] for name in names])
    else:
        cursor.execute(_binary(sql), params)


def fetch(sql: str, params: Params, *, raw: bool = False) -> list[tuple[Any, ...]]:
    """Run one statement that returns rows; its rows."""
    with cursor_for(raw=raw) as (cursor, server):
        _run(cursor, server, sql, params, raw=raw)
        rows: list[tuple[Any, ...]] = cursor.fetchall()
        return rows


def execute(sql: str, params: Params) -> None:
    with cursor_for() as (cursor, server):
        _run(cursor, server, sql, params, raw=False)


def to_decimal(value: Any) -> Decimal:
    """SQLite hands numbers back as int or float; PostgreSQL as Decimal."""
    if isinstance(value, Decimal):
        return value
    return Decimal(str(value)).quantize(Decimal("0.000001"))


def to_optional_decimal(value: Any) -> Decimal | None:
    return None if value is None else to_decimal(value)


def to_date(value: Any) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(value)


def to_datetime(value: Any) -> dt.datetime:
    """SQLite hands datetimes back naive, in UTC: as text, or parsed by its converters."""
    if isinstance(value, dt.datetime):
        return value if timezone.is_aware(value) else value.replace(tzinfo=dt.UTC)
    parsed = parse_datetime(str(value))
    if parsed is None:
        raise ValueError(f"not a datetime: {value!r}")
    return parsed if timezone.is_aware(parsed) else parsed.replace(tzinfo=dt.UTC)


def placeholders(rows: int, columns: int) -> str:
    row = "(" + ", ".join(["%s"] * columns) + ")"
    return ", ".join([row] * rows)


def in_clause(values: Sequence[Any]) -> tuple[str, list[Any]]:
    """`= ANY(array)` on PostgreSQL (one parameter), an IN list elsewhere."""
    if postgres():
        return "= ANY(%s)", [list(values)]
    return f"IN ({', '.join(['%s'] * len(values))})", list(values)


def sql_beside(module_file: str, name: str) -> str:
    """The text of the .sql file `name` beside the module: read once, when the module loads."""
    return Path(module_file).with_name(name).read_text(encoding="utf-8")


def statements_beside(module_file: str, name: str) -> dict[str, str]:
    """The statements of the .sql file `name` beside the module, by the name each follows.

    Each statement follows a line `-- name: <its name>`; other lines that
    are comments only are left out. Read once, when the module loads.
    """
    statements: dict[str, list[str]] = {}
    lines: list[str] = []
    for line in sql_beside(module_file, name).splitlines():
        if line.startswith("-- name:"):
            lines = statements[line.removeprefix("-- name:").strip()] = []
        elif not line.lstrip().startswith("--"):
            lines.append(line)
    return {key: "\n".join(text).strip() for key, text in statements.items()}
