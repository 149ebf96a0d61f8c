"""The generic path: any number of events, any database, one transaction.

spend.services validates and answers; this records: the events placed
(spend.recording.placing, their brands locked), the capped rollup rows
locked (spend.recording.ledger has the order), replays found, the rule
applied (spend.recording.rule), the ledger appended (by COPY from
COPY_MIN_EVENTS events), the rollups added to, alerts raised and, when a cap
moved, campaigns held or released (spend.enforcement). One event on
PostgreSQL takes spend.recording.single instead, a large batch
spend.recording.copy_batch; both answer with this module's Outcome.
"""

import datetime as dt
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TypeVar

from django.conf import settings
from django.db import OperationalError, connection, transaction

from campaigns.services import StateChange
from spend.enforcement import budget_holds_reconcile
from spend.errors import EventIdRaceError, SpendConflict
from spend.recording import cursors, ledger
from spend.recording.alerts import alerts_announce_on_commit
from spend.recording.ledger import AlertRow, RollupDelta, StoredEvent
from spend.recording.limits import totals_stay_positive
from spend.recording.placing import Placed, caps_of, place
from spend.recording.rule import (
    BRAND,
    Caps,
    Movement,
    Opening,
    Openings,
    RollupKey,
    Tally,
    locking_order,
    tally,
)
from spend.recording.validation import CleanEvent
from spend.senders import Sender

logger = logging.getLogger("spend.services")

ZERO = Decimal("0")
# Deadlock detected, serialisation failure: the transaction is replayed whole.
RETRYABLE_SQLSTATES = frozenset({"40P01", "40001"})
ATTEMPTS = 3
# From this many events a batch's ledger rows go by COPY (PostgreSQL): below
# it, INSERT's single round trip costs less than COPY's two.
COPY_MIN_EVENTS = 50


@dataclass
class Outcome:
    placed: list[Placed]
    event_ids: dict[int, int] = field(default_factory=dict)  # index -> new SpendEvent id
    serving: dict[int, bool] = field(default_factory=dict)  # index -> campaign_was_serving
    replayed: dict[int, StoredEvent] = field(default_factory=dict)
    movements: dict[RollupKey, Movement] = field(default_factory=dict)
    changes: list[StateChange] = field(default_factory=list)
    # Closing totals of capped rows, where the statement gave them (no movements).
    totals: dict[RollupKey, Decimal] = field(default_factory=dict)

    def closing(self, key: RollupKey) -> Decimal | None:
        """The row's total after this transaction, if it touched the row."""
        if key in self.totals:
            return self.totals[key]
        movement = self.movements.get(key)
        return None if movement is None else movement.closing


def differences(stored: StoredEvent, event: CleanEvent) -> list[str]:
    fields = []
    if stored.campaign_id != event.campaign_id:
        fields.append("campaign")
    if stored.amount != event.amount:
        fields.append("amount")
    if stored.kind != event.kind:
        fields.append("kind")
    if event.occurred_at_given and not same_time(stored, event.occurred_at):
        fields.append("occurred_at")
    return fields


def same_time(stored: StoredEvent, occurred_at: dt.datetime) -> bool:
    """Whether a replay's `occurred_at` (after validation) is the stored event's.

    An event dated ahead of the server's clock was booked at the server's
    now (spend.recording.validation); its replay, clamped to a later now or no longer
    ahead, is dated at or after that instant and within the allowed skew.
    """
    if stored.occurred_at == occurred_at:
        return True
    skew = dt.timedelta(seconds=settings.SPEND_MAX_CLOCK_SKEW_SECONDS)
    booked_at_now = stored.occurred_at == stored.recorded_at
    return booked_at_now and stored.occurred_at < occurred_at <= stored.occurred_at + skew


Stored = dict[tuple[str, str], StoredEvent]  # (source, event_id) -> the stored event


def events_stored(events: Iterable[CleanEvent]) -> Stored:
    """The stored events that the events' ids name, within each event's source.

    One query per source: the events of one call come from one sender.
    """
    wanted: dict[str, list[str]] = {}
    for event in events:
        if event.event_id is not None:
            wanted.setdefault(event.source, []).append(event.event_id)
    return {
        (source, event_id): stored
        for source, event_ids in wanted.items()
        for event_id, stored in ledger.events_stored(source, event_ids).items()
    }


def replays(placed: Sequence[Placed], stored: Stored) -> dict[int, StoredEvent]:
    """The stored originals of events replayed; SpendConflict if a payload differs."""
    originals: dict[int, StoredEvent] = {}
    for p in placed:
        if p.event.event_id is None:
            continue
        original = stored.get((p.event.source, p.event.event_id))
        if original is None:
            continue
        fields = differences(original, p.event)
        if fields:
            raise SpendConflict(event_id=str(p.event.event_id), fields=fields, index=p.index)
        originals[p.index] = original
    return originals


def rollup_changes(
    movements: dict[RollupKey, Movement], brand_of_budget: Mapping[int | None, int]
) -> tuple[list[RollupDelta], list[AlertRow]]:
    """The rollup deltas and the alerts due, from the movements of a tally."""
    deltas, alerts = [], []
    for key, m in movements.items():
        if not m.events_count:  # watched only
            continue
        deltas.append(RollupDelta(key, m.amount, m.events_count, m.overspend, m.alerted_threshold))
        scope, owner = key.scope, key.owner
        alerts += [
            AlertRow(
                brand_id=owner if scope == BRAND else brand_of_budget[owner],
                budget_id=None if scope == BRAND else owner,
                scope=scope,
                period=key.period,
                period_start=key.start,
                threshold=threshold,
                cap=m.cap or ZERO,
                spend=spend,
            )
            for threshold, spend in m.alerts
        ]
    return deltas, alerts


def brand_of_caps(placed: Sequence[Placed]) -> dict[RollupKey, int]:
    """The brand of each cap of the current day or month that can hold the events' campaigns."""
    return {key: p.context.brand_id for p in placed for key in p.current_caps}


def enforce(
    brand_of_cap: Mapping[RollupKey, int], unsettled: set[RollupKey], now: dt.datetime
) -> list[StateChange]:
    """Hold or release the campaigns under every unsettled cap of the current day or month."""
    brand_ids = {brand_of_cap[key] for key in unsettled if key in brand_of_cap}
    if not brand_ids:
        return []
    return budget_holds_reconcile(brand_ids=brand_ids, now=now, brand_locked=True)


def rollups_counted(
    tallied: Tally,
    *,
    brand_of_budget: Mapping[int | None, int],
    brand_of_cap: Mapping[RollupKey, int],
    now: dt.datetime,
) -> list[StateChange]:
    """Upsert the rollups, raise the alerts due, enforce the caps that need it."""
    deltas, alerts = rollup_changes(tallied.movements, brand_of_budget)
    alerts_announce_on_commit(ledger.rollups_add(deltas, alerts, raised_at=now))
    return enforce(brand_of_cap, tallied.unsettled, now)


def record_many(
    events: Sequence[CleanEvent],
    *,
    now: dt.datetime,
    sender: Sender,
    look_for_replays: bool = True,
) -> Outcome:
    """One transaction for the events (their event ids distinct).

    Without `look_for_replays` the stored event ids are not read first: if an
    insert then finds one (ON CONFLICT), the transaction is rolled back with
    EventIdRaceError and the caller does it again, reading them first. A
    batch of new events is spared a lookup per event.
    """
    with transaction.atomic():
        placed = place(events, now, sender=sender)
        return record_placed(placed, now=now, look_for_replays=look_for_replays)


def record_placed(
    placed: Sequence[Placed], *, now: dt.datetime, look_for_replays: bool = True
) -> Outcome:
    """record_many once the events are placed (their brands locked), in its transaction."""
    outcome = Outcome(placed=list(placed))
    caps = caps_of(placed)
    openings: dict[RollupKey, Opening] = ledger.rollups_lock(*locking_order(caps))
    # Read after the locks: whatever committed before us is visible now.
    if look_for_replays:
        outcome.replayed = replays(placed, events_stored(p.event for p in placed))
    fresh = [p for p in placed if p.index not in outcome.replayed]
    if not fresh:
        return outcome
    if any(p.event.amount < 0 for p in fresh):
        totals_stay_positive([(p.index, p.keys, p.event.amount) for p in fresh], openings)
    result = _tally_fresh(fresh, openings, caps)
    outcome.movements = result.movements
    outcome.serving = {p.index: was for p, was in zip(fresh, result.serving, strict=True)}
    _ledger_append(fresh, outcome, now)
    outcome.changes = rollups_counted(
        result,
        brand_of_budget={p.context.budget_id: p.context.brand_id for p in placed},
        brand_of_cap=brand_of_caps(placed),
        now=now,
    )
    return outcome


def _tally_fresh(fresh: Sequence[Placed], openings: Openings, caps: Caps) -> Tally:
    """The rule applied to the new events in order, on their campaigns' states read now."""
    states = ledger.campaigns_state({p.context.campaign_id for p in fresh})
    watches: dict[int, tuple[tuple[RollupKey, ...], bool]] = {}
    return tally(
        (
            p.charge(active=active, held=held, locked=caps, watches=watches)
            for p in fresh
            for active, held in [states[p.context.campaign_id]]
        ),
        openings=openings,
        caps=caps,
    )


def _ledger_append(fresh: Sequence[Placed], outcome: Outcome, now: dt.datetime) -> None:
    """The new events into the ledger, with their flags; a lone event's id into the outcome."""
    rows = [p.ledger_row(campaign_was_serving=outcome.serving[p.index]) for p in fresh]
    # COPY returns no ids: one event (whose answer names its id) is inserted.
    if cursors.postgres() and len(rows) >= COPY_MIN_EVENTS and len(rows) > 1:
        ledger.events_copy((*row, now) for row in rows)
        return
    ids = ledger.events_insert(rows, recorded_at=now)
    if len(ids) != len(rows):
        raise EventIdRaceError
    if len(fresh) == 1:
        outcome.event_ids[fresh[0].index] = ids[0]


T = TypeVar("T")


def retrying(work: Callable[[], T]) -> T:
    """Run the transaction again when it lost a race it cannot win by waiting.

    A deadlock victim (only replayed when no outer transaction is open: its
    work would be lost), or an event_id found stored at insert time (the next
    attempt reads the stored ids first and sees it as a replay).
    """
    attempt = 1
    while True:
        try:
            return work()
        except EventIdRaceError:
            if attempt == ATTEMPTS:
                raise
        except OperationalError as error:
            sqlstate = getattr(error.__cause__, "sqlstate", None)
            if (
                sqlstate not in RETRYABLE_SQLSTATES
                or connection.in_atomic_block
                or attempt == ATTEMPTS
            ):
                raise
        logger.info("Spend recording retried (attempt %s)", attempt)
        attempt += 1
