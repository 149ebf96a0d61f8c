"""The SQL of spend recording: locks, the ledger insert, the rollup upserts.

Only `spend.services` calls these, inside its transaction. Lock order, the
same for every recorder so that none can deadlock another:

1. the brands, `FOR SHARE`, by id (a tick's `FOR UPDATE` waits for them);
2. the capped rollup rows -- brand rows, then budget rows, each sorted by
   (owner, period, start) -- `FOR NO KEY UPDATE`. They serialise the
   recorders of one brand-period, and what they return is the exact total
   the transaction's deltas are added to. A missing row is created at zero
   first, so that the first events of a day serialise like all others;
3. the ledger insert and the upserts, which add deltas to rows already locked
   (a campaign's rows are only ever written under its brand's row locks).

PostgreSQL receives rows as arrays through `unnest`, one statement whatever
the number of events, on a server-binding cursor so that each statement is
planned once per connection. One event takes a single statement
(`event_record_postgres`) that locks, appends and upserts. SQLite (the
embedded default of `make run`) takes the database's write lock at BEGIN,
so there plain reads are as good as locks and portable statements do.
"""

import datetime as dt
import re
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Any, NamedTuple

from django.db import connection
from django.db.backends.utils import CursorWrapper
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from spend.accounting import Opening, RollupKey

SQLITE_CHUNK = 500


def postgres() -> bool:
    return connection.vendor == "postgresql"


def _server_binding() -> bool:
    return postgres() and not connection.queries_logged


@contextmanager
def _cursor() -> Iterator[CursorWrapper]:
    """On PostgreSQL, a cursor that binds parameters on the server, so that each
    statement is planned once per connection (see DATABASE_PREPARED_STATEMENTS).

    While queries are logged (DEBUG, assertNumQueries) Django's own cursor is
    used instead: only client-side binding gives the log the statement's text.
    Both run the same SQL.
    """
    if not _server_binding():
        with connection.cursor() as cursor:
            yield cursor
        return
    import psycopg

    connection.ensure_connection()
    connection.validate_thread_sharing()
    with connection.make_cursor(psycopg.Cursor(connection.connection)) as cursor:  # type: ignore[arg-type]  # Django wraps a DB-API cursor
        yield cursor


@lru_cache(maxsize=64)
def _binary(sql: str) -> str:
    """Placeholders for binary parameters: cheaper to send than text (dates, times)."""
    return _PLACEHOLDER.sub(r"%\1b", sql)


_PLACEHOLDER = re.compile(r"%(\([a-z_]+\))?s")


def _fetch(sql: str, params: Sequence[Any] | dict[str, Any]) -> list[tuple[Any, ...]]:
    """Run one statement on _cursor() and return its rows."""
    with _cursor() as cursor:
        cursor.execute(_binary(sql) if _server_binding() else sql, params)
        return cursor.fetchall() if cursor.description else []


def _decimal(value: Any) -> Decimal:
    """SQLite hands numbers back as int or float; PostgreSQL as Decimal."""
    if isinstance(value, Decimal):
        return value
    return Decimal(str(value)).quantize(Decimal("0.000001"))


def _optional_decimal(value: Any) -> Decimal | None:
    return None if value is None else _decimal(value)


def _date(value: Any) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(value)


def _datetime(value: Any) -> dt.datetime:
    """SQLite hands datetimes back as naive UTC text."""
    if isinstance(value, dt.datetime):
        return value
    parsed = parse_datetime(str(value))
    if parsed is None:
        raise ValueError(f"not a datetime: {value!r}")
    return parsed if timezone.is_aware(parsed) else parsed.replace(tzinfo=dt.UTC)


def _placeholders(rows: int, columns: int) -> str:
    row = "(" + ", ".join(["%s"] * columns) + ")"
    return ", ".join([row] * rows)


def _in(values: Sequence[Any]) -> tuple[str, list[Any]]:
    """`= ANY(array)` on PostgreSQL (one parameter), an IN list elsewhere."""
    if postgres():
        return "= ANY(%s)", [list(values)]
    return f"IN ({', '.join(['%s'] * len(values))})", list(values)


# --- campaigns and their brands -------------------------------------------------


@dataclass(frozen=True)
class CampaignContext:
    campaign_id: int
    brand_id: int
    budget_id: int | None
    timezone: str
    brand_daily_budget: Decimal
    brand_monthly_budget: Decimal
    budget_daily_limit: Decimal | None
    budget_monthly_limit: Decimal | None


_CAMPAIGNS_SQL = """
SELECT c.id, c.brand_id, c.budget_id, b.timezone, b.daily_budget, b.monthly_budget,
       g.daily_limit, g.monthly_limit
FROM campaigns_campaign c
JOIN budgets_brand b ON b.id = c.brand_id
LEFT JOIN budgets_budget g ON g.id = c.budget_id
WHERE c.id {condition}
ORDER BY c.brand_id, c.id
{lock}
"""


def campaigns_load_locking_brands(campaign_ids: Collection[int]) -> dict[int, CampaignContext]:
    """The campaigns with their caps; their brands locked FOR SHARE, by id."""
    condition, params = _in(sorted(set(campaign_ids)))
    lock = "FOR SHARE OF b" if postgres() else ""
    rows = _fetch(_CAMPAIGNS_SQL.format(condition=condition, lock=lock), params)
    return {
        row[0]: CampaignContext(
            campaign_id=row[0],
            brand_id=row[1],
            budget_id=row[2],
            timezone=row[3],
            brand_daily_budget=_decimal(row[4]),
            brand_monthly_budget=_decimal(row[5]),
            budget_daily_limit=_optional_decimal(row[6]),
            budget_monthly_limit=_optional_decimal(row[7]),
        )
        for row in rows
    }


# --- locking the capped rollup rows ----------------------------------------------

_LOCK_SQL = """
WITH brand_rows AS (
    SELECT 'brand'::text AS scope, r.brand_id AS owner_id, r.period, r.period_start,
           r.amount, r.alerted_threshold
    FROM unnest(%s::bigint[], %s::varchar[], %s::date[]) AS k(owner_id, period, period_start)
    JOIN spend_brandspend r ON r.brand_id = k.owner_id AND r.period = k.period
         AND r.period_start = k.period_start
    ORDER BY r.brand_id, r.period, r.period_start
    FOR NO KEY UPDATE OF r
), budget_rows AS (
    SELECT 'budget'::text AS scope, r.budget_id AS owner_id, r.period, r.period_start,
           r.amount, r.alerted_threshold
    FROM unnest(%s::bigint[], %s::varchar[], %s::date[]) AS k(owner_id, period, period_start)
    JOIN spend_budgetspend r ON r.budget_id = k.owner_id AND r.period = k.period
         AND r.period_start = k.period_start
    ORDER BY r.budget_id, r.period, r.period_start
    FOR NO KEY UPDATE OF r
)
SELECT * FROM brand_rows UNION ALL SELECT * FROM budget_rows
"""

_CREATE_MISSING_SQL = """
INSERT INTO spend_{scope}spend ({scope}_id, period, period_start, amount, events_count)
SELECT owner_id, period, period_start, 0, 0
FROM unnest(%s::bigint[], %s::varchar[], %s::date[]) AS k(owner_id, period, period_start)
ORDER BY owner_id, period, period_start
ON CONFLICT ({scope}_id, period, period_start) DO NOTHING
"""


def _columns(keys: Sequence[RollupKey]) -> list[list[Any]]:
    return [[k[1] for k in keys], [k[2] for k in keys], [k[3] for k in keys]]


def _select_locked(
    brand_keys: Sequence[RollupKey], budget_keys: Sequence[RollupKey]
) -> dict[RollupKey, Opening]:
    rows = _fetch(_LOCK_SQL, [*_columns(brand_keys), *_columns(budget_keys)])
    return {
        (scope, owner, period, start): Opening(amount=amount, alerted_threshold=alerted)
        for scope, owner, period, start, amount, alerted in rows
    }


def _select_plain(keys: Sequence[RollupKey]) -> dict[RollupKey, Opening]:
    found: dict[RollupKey, Opening] = {}
    for scope in ("brand", "budget"):
        wanted = [k for k in keys if k[0] == scope]
        if not wanted:
            continue
        sql = (
            f"SELECT {scope}_id, period, period_start, amount, alerted_threshold "  # noqa: S608
            f"FROM spend_{scope}spend WHERE ({scope}_id, period, period_start) "
            f"IN (VALUES {_placeholders(len(wanted), 3)})"
        )
        for owner, period, start, amount, alerted in _fetch(
            sql, [value for k in wanted for value in k[1:]]
        ):
            found[(scope, owner, period, _date(start))] = Opening(_decimal(amount), alerted)
    return found


def rollups_create_missing(
    brand_keys: Sequence[RollupKey], budget_keys: Sequence[RollupKey]
) -> None:
    """Create the rollup rows that do not exist yet, at zero (PostgreSQL)."""
    for scope, keys in (("brand", brand_keys), ("budget", budget_keys)):
        if keys:
            _fetch(_CREATE_MISSING_SQL.format(scope=scope), _columns(keys))


def rollups_lock(
    brand_keys: Sequence[RollupKey], budget_keys: Sequence[RollupKey]
) -> dict[RollupKey, Opening]:
    """Lock the capped rollup rows; their totals as they stand.

    The keys must come sorted (accounting.sorted_keys).
    """
    if not postgres():
        return _select_plain([*brand_keys, *budget_keys])
    found = _select_locked(brand_keys, budget_keys)
    if len(found) == len(brand_keys) + len(budget_keys):
        return found
    rollups_create_missing(
        [k for k in brand_keys if k not in found], [k for k in budget_keys if k not in found]
    )
    # A new statement sees the rows that other recorders committed meanwhile.
    return _select_locked(brand_keys, budget_keys)


# --- what the ledger holds already ---------------------------------------------------


@dataclass(frozen=True)
class StoredEvent:
    id: int
    campaign_id: int
    amount: Decimal
    kind: str
    occurred_at: dt.datetime


def events_stored(event_ids: Sequence[str]) -> dict[str, StoredEvent]:
    """The stored events with these client ids (read after the locks: current)."""
    if not event_ids:
        return {}
    condition, params = _in(event_ids)
    sql = (
        "SELECT event_id, id, campaign_id, amount, kind, occurred_at "  # noqa: S608
        f"FROM spend_spendevent WHERE event_id {condition}"
    )
    return {
        event_id: StoredEvent(pk, campaign, _decimal(amount), kind, _datetime(occurred))
        for event_id, pk, campaign, amount, kind, occurred in _fetch(sql, params)
    }


def campaigns_state(campaign_ids: Collection[int]) -> dict[int, tuple[bool, bool]]:
    """Each campaign's (active, budget-held), read after the locks: current."""
    condition, params = _in(sorted(campaign_ids))
    sql = (
        "SELECT id, status = 'active', budget_hold IS NOT NULL "  # noqa: S608
        f"FROM campaigns_campaign WHERE id {condition}"
    )
    return {pk: (bool(active), bool(held)) for pk, active, held in _fetch(sql, params)}


# --- the ledger ------------------------------------------------------------------


class LedgerRow(NamedTuple):
    campaign_id: int
    brand_id: int
    budget_id: int | None
    kind: str
    amount: Decimal
    occurred_at: dt.datetime
    local_date: dt.date
    source: str
    event_id: str | None
    campaign_was_serving: bool


LEDGER_COLUMNS = LedgerRow._fields

_INSERT_EVENTS_SQL = """
INSERT INTO spend_spendevent (
    campaign_id, brand_id, budget_id, kind, amount, occurred_at, local_date,
    source, event_id, campaign_was_serving, recorded_at)
SELECT u.*, %s::timestamptz
FROM unnest(%s::bigint[], %s::bigint[], %s::bigint[], %s::varchar[], %s::numeric[],
            %s::timestamptz[], %s::date[], %s::varchar[], %s::varchar[], %s::boolean[]) AS u
ON CONFLICT (event_id) DO NOTHING
RETURNING id
"""

_SQLITE_INSERT_EVENTS_SQL = """
INSERT INTO spend_spendevent (
    campaign_id, brand_id, budget_id, kind, amount, occurred_at, local_date,
    source, event_id, campaign_was_serving, recorded_at)
VALUES {values}
ON CONFLICT (event_id) DO NOTHING
RETURNING id
"""


def events_insert(rows: Sequence[LedgerRow], *, recorded_at: dt.datetime) -> list[int]:
    """Append the events; an event_id stored meanwhile is skipped. The new ids."""
    if postgres():
        columns = [list(column) for column in zip(*rows, strict=True)]
        return [row[0] for row in _fetch(_INSERT_EVENTS_SQL, [recorded_at, *columns])]
    adapt = connection.ops.adapt_datetimefield_value
    inserted: list[int] = []
    for offset in range(0, len(rows), SQLITE_CHUNK):
        chunk = rows[offset : offset + SQLITE_CHUNK]
        params: list[Any] = []
        for row in chunk:
            values: list[Any] = list(row)
            values[LEDGER_COLUMNS.index("occurred_at")] = adapt(row.occurred_at)
            params += [*values, adapt(recorded_at)]
        sql = _SQLITE_INSERT_EVENTS_SQL.format(values=_placeholders(len(chunk), 11))
        inserted += [row[0] for row in _fetch(sql, params)]
    return inserted


# --- rollups and alerts ----------------------------------------------------------


@dataclass(frozen=True)
class RollupDelta:
    key: RollupKey
    amount: Decimal
    events_count: int
    overspend: Decimal
    alerted_threshold: int


@dataclass(frozen=True)
class AlertRow:
    brand_id: int
    budget_id: int | None
    scope: str
    period: str
    period_start: dt.date
    threshold: int
    cap: Decimal
    spend: Decimal


_UPSERT_CTE = """
{scope}_rows AS (
    INSERT INTO spend_{scope}spend (
        {scope}_id, period, period_start, amount, events_count, overspend, alerted_threshold)
    SELECT * FROM unnest(%s::bigint[], %s::varchar[], %s::date[], %s::numeric[],
                         %s::integer[], %s::numeric[], %s::smallint[])
    ON CONFLICT ({scope}_id, period, period_start) DO UPDATE SET
        amount = spend_{scope}spend.amount + EXCLUDED.amount,
        events_count = spend_{scope}spend.events_count + EXCLUDED.events_count,
        overspend = spend_{scope}spend.overspend + EXCLUDED.overspend,
        alerted_threshold = GREATEST(
            spend_{scope}spend.alerted_threshold, EXCLUDED.alerted_threshold)
    RETURNING 1
)"""

_RAISE_CTE = """
raised AS (
    INSERT INTO budgets_alert (
        brand_id, budget_id, scope, period, period_start, threshold, cap, spend, raised_at)
    SELECT *, %s::timestamptz
    FROM unnest(%s::bigint[], %s::bigint[], %s::varchar[], %s::varchar[], %s::date[],
                %s::smallint[], %s::numeric[], %s::numeric[])
    ON CONFLICT DO NOTHING
    RETURNING id
)
SELECT id FROM raised
"""
_UPSERT_CTES = [_UPSERT_CTE.format(scope=scope) for scope in ("brand", "budget", "campaign")]
_ROLLUPS_AND_ALERTS_SQL = "WITH " + ",".join([*_UPSERT_CTES, _RAISE_CTE])

_SQLITE_UPSERT_SQL = """
INSERT INTO spend_{scope}spend (
    {scope}_id, period, period_start, amount, events_count, overspend, alerted_threshold)
VALUES (%s, %s, %s, %s, %s, %s, %s)
ON CONFLICT ({scope}_id, period, period_start) DO UPDATE SET
    amount = spend_{scope}spend.amount + excluded.amount,
    events_count = spend_{scope}spend.events_count + excluded.events_count,
    overspend = spend_{scope}spend.overspend + excluded.overspend,
    alerted_threshold = MAX(spend_{scope}spend.alerted_threshold, excluded.alerted_threshold)
"""

_SQLITE_ALERT_SQL = """
INSERT INTO budgets_alert (
    brand_id, budget_id, scope, period, period_start, threshold, cap, spend, raised_at)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)
ON CONFLICT DO NOTHING
RETURNING id
"""

ALERT_FIELDS = ("brand_id", "budget_id", "scope", "period", "period_start", "threshold")


def _delta_values(delta: RollupDelta) -> list[Any]:
    _, owner, period, start = delta.key
    return [
        owner,
        period,
        start,
        delta.amount,
        delta.events_count,
        delta.overspend,
        delta.alerted_threshold,
    ]


def _alert_values(alert: AlertRow) -> list[Any]:
    return [*(getattr(alert, name) for name in ALERT_FIELDS), alert.cap, alert.spend]


def _transposed(rows: list[list[Any]], width: int) -> list[list[Any]]:
    return [list(column) for column in zip(*rows, strict=True)] if rows else [[]] * width


def rollups_add(
    deltas: Sequence[RollupDelta], alerts: Sequence[AlertRow], *, raised_at: dt.datetime
) -> list[int]:
    """Add the deltas to the rollups (atomic upserts); insert the alerts not raised yet.

    Returns the ids of the alerts that were new. Each rollup key must appear
    at most once (aggregate first).
    """
    if postgres():
        params: list[Any] = []
        for scope in ("brand", "budget", "campaign"):
            params += _transposed([_delta_values(d) for d in deltas if d.key[0] == scope], 7)
        params.append(raised_at)
        params += _transposed([_alert_values(a) for a in alerts], 8)
        return [row[0] for row in _fetch(_ROLLUPS_AND_ALERTS_SQL, params)]
    with _cursor() as cursor:
        for scope in ("brand", "budget", "campaign"):
            rows = [_delta_values(d) for d in deltas if d.key[0] == scope]
            if rows:
                cursor.executemany(_SQLITE_UPSERT_SQL.format(scope=scope), rows)
        raised: list[int] = []
        stamp = connection.ops.adapt_datetimefield_value(raised_at)
        for alert in alerts:
            cursor.execute(_SQLITE_ALERT_SQL, [*_alert_values(alert), stamp])
            raised += [row[0] for row in cursor.fetchall()]
    return raised


# --- one event, one statement (PostgreSQL) ---------------------------------------

# The same rules as spend.accounting, for one event, in the statement that
# takes the locks: the opening totals are those of the rows just locked (a
# locking read returns the newest committed version), so whether the
# campaign was serving is judged on them, not on a snapshot taken before the
# lock was granted. Nothing is written unless every capped row was there to
# lock (`complete`); the caller then creates the missing rows and runs it again.
_RECORD_ONE_SQL = """
WITH p AS (
    SELECT %(campaign)s::bigint AS campaign, %(brand)s::bigint AS brand,
        %(budget)s::bigint AS budget, %(amount)s::numeric AS amount,
        %(day)s::date AS day, %(month)s::date AS month, %(now)s::timestamptz AS now
), k AS (
    SELECT 'day' AS period, p.day AS start FROM p UNION ALL SELECT 'month', p.month FROM p
), lb AS (
    SELECT 'brand' AS scope, k.period, k.start, r.amount, r.alerted_threshold AS alerted
    FROM k, p, spend_brandspend r
    WHERE r.brand_id = p.brand AND r.period = k.period AND r.period_start = k.start
    ORDER BY k.period FOR NO KEY UPDATE OF r
), lg AS (
    SELECT 'budget', k.period, k.start, r.amount, r.alerted_threshold
    FROM k, p, spend_budgetspend r
    WHERE r.budget_id = p.budget AND r.period = k.period AND r.period_start = k.start
    ORDER BY k.period FOR NO KEY UPDATE OF r
), o AS (
    SELECT l.*,
        (%(caps)s::numeric[])[CASE l.period WHEN 'day' THEN 1 ELSE 2 END
            + CASE l.scope WHEN 'brand' THEN 0 ELSE 2 END] AS cap,
        (%(current)s::boolean[])[CASE l.period WHEN 'day' THEN 1 ELSE 2 END] AS is_current
    FROM (SELECT * FROM lb UNION ALL SELECT * FROM lg) l, p
), s AS (
    SELECT c.status, c.budget_hold, c.status = 'active'
        AND NOT EXISTS (SELECT FROM o WHERE o.is_current AND o.amount >= o.cap) AS serving,
        (SELECT count(*) FROM o) = %(expected)s::int AS complete
    FROM campaigns_campaign c, p WHERE c.id = p.campaign
), ins AS (
    INSERT INTO spend_spendevent (campaign_id, brand_id, budget_id, kind, amount, occurred_at,
        local_date, recorded_at, source, event_id, campaign_was_serving)
    SELECT p.campaign, p.brand, p.budget, %(kind)s::varchar, p.amount,
        %(occurred_at)s::timestamptz, p.day, p.now, %(source)s::varchar, %(event_id)s::varchar,
        s.serving
    FROM p, s WHERE s.complete
    ON CONFLICT (event_id) DO NOTHING
    RETURNING id, campaign_was_serving AS serving
), x AS (
    SELECT o.*, o.amount + p.amount AS closing,
        CASE WHEN p.amount > 0 AND o.amount >= o.cap THEN p.amount ELSE 0 END AS over,
        (SELECT max(t) FROM unnest('{50,80,100}'::int[]) t
         WHERE t > o.alerted AND o.amount + p.amount >= o.cap * t / 100) AS reached
    FROM o, p, ins
), b AS (
    INSERT INTO spend_brandspend AS r (brand_id, period, period_start, amount, events_count,
        overspend, alerted_threshold)
    SELECT p.brand, x.period, x.start, p.amount, 1, x.over, GREATEST(x.alerted, x.reached)
    FROM x, p WHERE x.scope = 'brand'
    ON CONFLICT (brand_id, period, period_start) DO UPDATE SET
        amount = r.amount + EXCLUDED.amount, events_count = r.events_count + 1,
        overspend = r.overspend + EXCLUDED.overspend,
        alerted_threshold = EXCLUDED.alerted_threshold
), g AS (
    INSERT INTO spend_budgetspend AS r (budget_id, period, period_start, amount, events_count,
        overspend, alerted_threshold)
    SELECT p.budget, x.period, x.start, p.amount, 1, x.over, GREATEST(x.alerted, x.reached)
    FROM x, p WHERE x.scope = 'budget'
    ON CONFLICT (budget_id, period, period_start) DO UPDATE SET
        amount = r.amount + EXCLUDED.amount, events_count = r.events_count + 1,
        overspend = r.overspend + EXCLUDED.overspend,
        alerted_threshold = EXCLUDED.alerted_threshold
), c AS (
    INSERT INTO spend_campaignspend AS r (campaign_id, period, period_start, amount,
        events_count, overspend)
    SELECT p.campaign, k.period, k.start, p.amount, 1,
        CASE WHEN NOT ins.serving AND p.amount > 0 THEN p.amount ELSE 0 END
    FROM ins, p, LATERAL (VALUES ('day', p.day), ('month', p.month)) k(period, start)
    ON CONFLICT (campaign_id, period, period_start) DO UPDATE SET
        amount = r.amount + EXCLUDED.amount, events_count = r.events_count + 1,
        overspend = r.overspend + EXCLUDED.overspend
), a AS (
    INSERT INTO budgets_alert (brand_id, budget_id, scope, period, period_start, threshold,
        cap, spend, raised_at)
    SELECT p.brand, CASE x.scope WHEN 'budget' THEN p.budget END, x.scope, x.period,
        x.start, t, x.cap, x.closing, p.now
    FROM x, p, unnest('{50,80,100}'::int[]) t
    WHERE t > x.alerted AND x.closing >= x.cap * t / 100
    ON CONFLICT DO NOTHING
    RETURNING id
)
SELECT s.complete, ins.id, ins.serving, s.status,
    s.budget_hold IS NOT NULL,
    ARRAY(SELECT concat_ws(' ', scope, period, amount, alerted) FROM o),
    ARRAY(SELECT id FROM a ORDER BY id)
FROM s LEFT JOIN ins ON true
"""
# psycopg caches the parsing of statements up to 4 kB: keep this one under it.
_RECORD_ONE_SQL = " ".join(_RECORD_ONE_SQL.split())
assert len(_RECORD_ONE_SQL) < 4096, len(_RECORD_ONE_SQL)  # noqa: S101


@dataclass(frozen=True)
class RecordedOne:
    complete: bool
    event_pk: int | None
    campaign_was_serving: bool | None
    campaign_status: str
    budget_held: bool
    openings: dict[tuple[str, str], Opening]  # (scope, period) -> locked totals
    alert_ids: list[int]


def event_record_postgres(params: dict[str, Any]) -> RecordedOne:
    """Lock, append, upsert and raise alerts for one event, in one statement."""
    (row,) = _fetch(_RECORD_ONE_SQL, params)
    complete, pk, was_serving, status, held, openings, alerts = row
    return RecordedOne(
        complete=complete,
        event_pk=pk,
        campaign_was_serving=was_serving,
        campaign_status=status,
        budget_held=held,
        openings={
            (scope, period): Opening(Decimal(amount), int(level))
            for scope, period, amount, level in (opening.split(" ") for opening in openings)
        },
        alert_ids=list(alerts),
    )
