"""The SQL of spend recording (ledger.sql beside it): locks, the ledger insert, the upserts.

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
the number of events (spend.recording.cursors has the cursors), and a batch's ledger rows
through COPY, its bulk load. One event takes a single statement instead
(spend.recording.single). SQLite (the embedded default of `make run`) takes the
database's write lock at BEGIN, so there plain reads are as good as locks
and portable statements do.

A batch on PostgreSQL may append its events before step 2 (spend.recording.copy_batch): it
reads the rows of step 2 without locks first, and checks after locking them
that what it wrote still holds.
"""

import datetime as dt
from collections.abc import Collection, Iterable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, NamedTuple

from django.db import IntegrityError, connection
from django.db.backends.utils import CursorDebugWrapper, CursorWrapper

from spend.errors import EventIdRaceError
from spend.recording import cursors
from spend.recording.rule import Opening, RollupKey

SQLITE_CHUNK = 500
SCOPES = ("brand", "budget", "campaign")

SQL = cursors.statements_beside(__file__, "ledger.sql")
_ROWS_LOCKED = SQL["rows_locked"].format(
    **{f"{scope}_rows": SQL["locked_rows"].format(scope=scope) for scope in SCOPES[:2]}
)
_ROLLUPS_AND_ALERTS = SQL["rollups_and_alerts"].format(
    **{f"{scope}_rows": SQL["rows_added"].format(scope=scope) for scope in SCOPES}
)


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


def campaigns_load_locking_brands(
    campaign_ids: Collection[int], *, lock: bool = True
) -> dict[int, CampaignContext]:
    """The campaigns with their caps; their brands locked FOR SHARE, by id (unless not `lock`)."""
    condition, params = cursors.in_clause(sorted(set(campaign_ids)))
    lock_clause = "FOR SHARE OF b" if cursors.postgres() and lock else ""
    rows = cursors.fetch(SQL["campaigns"].format(condition=condition, lock=lock_clause), params)
    return {
        row[0]: CampaignContext(
            campaign_id=row[0],
            brand_id=row[1],
            budget_id=row[2],
            timezone=row[3],
            brand_daily_budget=cursors.to_decimal(row[4]),
            brand_monthly_budget=cursors.to_decimal(row[5]),
            budget_daily_limit=cursors.to_optional_decimal(row[6]),
            budget_monthly_limit=cursors.to_optional_decimal(row[7]),
        )
        for row in rows
    }


# --- locking the capped rollup rows ----------------------------------------------


def _columns(keys: Sequence[RollupKey]) -> list[list[Any]]:
    return [[k.owner for k in keys], [k.period for k in keys], [k.start for k in keys]]


def _select_locked(
    brand_keys: Sequence[RollupKey], budget_keys: Sequence[RollupKey]
) -> dict[RollupKey, Opening]:
    rows = cursors.fetch(_ROWS_LOCKED, [*_columns(brand_keys), *_columns(budget_keys)])
    return {
        RollupKey(scope, owner, period, start): Opening(amount=amount, alerted_threshold=alerted)
        for scope, owner, period, start, amount, alerted in rows
    }


def _select_plain(keys: Sequence[RollupKey]) -> dict[RollupKey, Opening]:
    found: dict[RollupKey, Opening] = {}
    for scope in ("brand", "budget"):
        wanted = [k for k in keys if k.scope == scope]
        if not wanted:
            continue
        values = cursors.placeholders(len(wanted), 3)
        statement = SQL["plain_rows"].format(scope=scope, values=values)
        for owner, period, start, amount, alerted in cursors.fetch(
            statement, [value for k in wanted for value in k[1:]]
        ):
            found[RollupKey(scope, owner, period, cursors.to_date(start))] = Opening(
                cursors.to_decimal(amount), alerted
            )
    return found


def rollups_create_missing(
    brand_keys: Sequence[RollupKey], budget_keys: Sequence[RollupKey]
) -> None:
    """Create the rollup rows that do not exist yet, at zero (PostgreSQL)."""
    for scope, keys in (("brand", brand_keys), ("budget", budget_keys)):
        if keys:
            cursors.execute(SQL["missing_rows_created"].format(scope=scope), _columns(keys))


def rollups_lock(
    brand_keys: Sequence[RollupKey], budget_keys: Sequence[RollupKey]
) -> dict[RollupKey, Opening]:
    """Lock the capped rollup rows; their totals as they stand.

    The keys must come sorted (rule.sorted_keys).
    """
    if not cursors.postgres():
        return _select_plain([*brand_keys, *budget_keys])
    found = _select_locked(brand_keys, budget_keys)
    if len(found) == len(brand_keys) + len(budget_keys):
        return found
    rollups_create_missing(
        [k for k in brand_keys if k not in found], [k for k in budget_keys if k not in found]
    )
    # A new statement sees the rows that other recorders committed meanwhile.
    return _select_locked(brand_keys, budget_keys)


def rollups_and_states_read(
    brand_keys: Sequence[RollupKey], budget_keys: Sequence[RollupKey], campaign_ids: Collection[int]
) -> tuple[dict[RollupKey, Opening], dict[int, tuple[bool, bool]]]:
    """The capped rows' totals and the campaigns' (active, budget-held), without locks (PostgreSQL).

    A missing row is missing from the totals. What this returns may be stale
    by the time the rows are locked: the caller checks it again then.
    """
    params = [*_columns(brand_keys), *_columns(budget_keys), sorted(campaign_ids)]
    openings: dict[RollupKey, Opening] = {}
    states: dict[int, tuple[bool, bool]] = {}
    for scope, owner, period, start, amount, alerted, active, held in cursors.fetch(
        SQL["rows_and_states"], params
    ):
        if scope == "campaign":
            states[owner] = (active, held)
        else:
            openings[RollupKey(scope, owner, period, start)] = Opening(amount, alerted)
    return openings, states


# --- what the ledger holds already ---------------------------------------------------


@dataclass(frozen=True)
class StoredEvent:
    id: int
    campaign_id: int
    amount: Decimal
    kind: str
    occurred_at: dt.datetime
    recorded_at: dt.datetime


def events_stored(source: str, event_ids: Sequence[str]) -> dict[str, StoredEvent]:
    """The stored events of `source` with these client ids (read after the locks: current).

    Client ids are unique per source: another sender's event of the same id
    is another event.
    """
    if not event_ids:
        return {}
    condition, params = cursors.in_clause(event_ids)
    statement = SQL["events_stored"].format(condition=condition)
    params = [source, *params]
    return {
        event_id: StoredEvent(
            pk,
            campaign,
            cursors.to_decimal(amount),
            kind,
            cursors.to_datetime(occurred),
            cursors.to_datetime(recorded),
        )
        for event_id, pk, campaign, amount, kind, occurred, recorded in cursors.fetch(
            statement, params
        )
    }


def campaigns_state(campaign_ids: Collection[int]) -> dict[int, tuple[bool, bool]]:
    """Each campaign's (active, budget-held), read after the locks: current."""
    condition, params = cursors.in_clause(sorted(campaign_ids))
    statement = SQL["campaign_states"].format(condition=condition)
    return {pk: (bool(active), bool(held)) for pk, active, held in cursors.fetch(statement, params)}


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


def events_insert(rows: Sequence[LedgerRow], *, recorded_at: dt.datetime) -> list[int]:
    """Append the events; an event_id stored meanwhile is skipped. The new ids."""
    if cursors.postgres():
        columns = [list(column) for column in zip(*rows, strict=True)]
        return [row[0] for row in cursors.fetch(SQL["events_inserted"], [recorded_at, *columns])]
    adapt = connection.ops.adapt_datetimefield_value
    inserted: list[int] = []
    for offset in range(0, len(rows), SQLITE_CHUNK):
        chunk = rows[offset : offset + SQLITE_CHUNK]
        params: list[Any] = []
        for row in chunk:
            values: list[Any] = list(row)
            values[LEDGER_COLUMNS.index("occurred_at")] = adapt(row.occurred_at)
            params += [*values, adapt(recorded_at)]
        statement = SQL["sqlite_events_inserted"].format(
            values=cursors.placeholders(len(chunk), 11)
        )
        inserted += [row[0] for row in cursors.fetch(statement, params)]
    return inserted


_COPY_TYPES = ("int8", "int8", "int8", "varchar", "numeric", "timestamptz", "date", "varchar",
               "varchar", "bool", "timestamptz")  # fmt: skip
EVENT_ID_UNIQUE = "spend_source_event_id_unique"


def events_copy(rows: Iterable[Sequence[Any]]) -> None:
    """Append the rows with COPY (PostgreSQL): each a LedgerRow's values, then recorded_at.

    COPY has no ON CONFLICT: an event_id stored already fails the statement,
    and with it the transaction, which EventIdRaceError tells the caller to
    do again reading the stored ids first. Any other error is raised as is.
    """
    connection.validate_no_broken_transaction()
    with connection.cursor() as cursor, _logged(cursor, SQL["events_copied"]):
        try:
            with connection.wrap_database_errors, cursor.cursor.copy(SQL["events_copied"]) as copy:
                copy.set_types(_COPY_TYPES)
                for row in rows:
                    copy.write_row(row)
        except IntegrityError as error:
            if violated_constraint(error) == EVENT_ID_UNIQUE:
                raise EventIdRaceError from error
            raise


def violated_constraint(error: IntegrityError) -> str | None:
    """The name of the unique constraint an IntegrityError violated, if that was its cause."""
    cause = error.__cause__
    if getattr(cause, "sqlstate", None) != "23505":  # unique_violation
        return None
    name: str | None = getattr(getattr(cause, "diag", None), "constraint_name", None)
    return name


def _logged(cursor: CursorWrapper, statement: str) -> AbstractContextManager[None]:
    """COPY in the query log, where queries are logged (DEBUG, assertNumQueries)."""
    if isinstance(cursor, CursorDebugWrapper):
        return cursor.debug_sql(statement)
    return nullcontext()


# The ledger's foreign keys, both DEFERRABLE INITIALLY DEFERRED: the composite
# one of migration 0007 and the budget's, named by Django (a test holds these
# names to the database's).
LEDGER_FOREIGN_KEYS = (
    "spend_event_campaign_brand",
    "spend_spendevent_budget_id_e3ec96eb_fk_budgets_budget_id",
)
_KEYS_AT_ONCE_SQL = f"SET CONSTRAINTS {', '.join(LEDGER_FOREIGN_KEYS)} IMMEDIATE"
_KEYS_AT_COMMIT_SQL = f"SET CONSTRAINTS {', '.join(LEDGER_FOREIGN_KEYS)} DEFERRED"


def ledger_keys_checked_at_once(at_once: bool) -> None:
    """Check the ledger's foreign keys after each statement, or at COMMIT again (PostgreSQL).

    PostgreSQL checks them row by row, about 6 ms per 1,000 events. Set
    right after the events are appended, it runs the checks queued so far
    there, before the rollup locks are taken, rather than at COMMIT while
    they are held.
    """
    with connection.cursor() as cursor:
        cursor.execute(_KEYS_AT_ONCE_SQL if at_once else _KEYS_AT_COMMIT_SQL)


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
    if cursors.postgres():
        params: list[Any] = []
        for scope in SCOPES:
            params += _transposed([_delta_values(d) for d in deltas if d.key.scope == scope], 7)
        params.append(raised_at)
        params += _transposed([_alert_values(a) for a in alerts], 8)
        return [row[0] for row in cursors.fetch(_ROLLUPS_AND_ALERTS, params)]
    with connection.cursor() as cursor:
        for scope in SCOPES:
            rows = [_delta_values(d) for d in deltas if d.key.scope == scope]
            if rows:
                cursor.executemany(SQL["sqlite_rows_added"].format(scope=scope), rows)
        raised: list[int] = []
        stamp = connection.ops.adapt_datetimefield_value(raised_at)
        for alert in alerts:
            cursor.execute(SQL["sqlite_alert_raised"], [*_alert_values(alert), stamp])
            raised += [row[0] for row in cursor.fetchall()]
    return raised
