"""The transaction behind spend_record and spend_record_batch.

spend.services validates and answers; this module records: it locks (see
spend.ledger for the order), appends to the ledger, applies the accounting
(spend.accounting) to the rollups, raises alerts and, when a cap moved,
holds or releases campaigns (spend.enforcement) -- all in one transaction,
or, for one event outside any transaction on PostgreSQL, in one statement
that commits by itself (spend.one_event).
"""

import datetime as dt
import logging
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, TypeVar

from django.conf import settings
from django.db import OperationalError, connection, transaction

from budgets.models import Period
from budgets.periods import local_date, month_start
from campaigns.models import Status
from campaigns.services import StateChange
from spend import ledger, one_event, sql
from spend.accounting import Charge, Movement, Opening, RollupKey, sorted_keys, tally
from spend.alerts import alerts_announce_on_commit
from spend.enforcement import budget_holds_reconcile
from spend.errors import EventIdRaceError, SpendConflict, UnknownCampaignsError
from spend.ledger import AlertRow, CampaignContext, LedgerRow, RollupDelta, StoredEvent
from spend.limits import (
    amounts_within_brands,
    campaigns_of_brands,
    dated_since_last_month,
    totals_stay_positive,
)
from spend.senders import Sender
from spend.validation import CleanEvent

logger = logging.getLogger("spend.services")

ZERO = Decimal("0")
# Deadlock detected, serialisation failure: the transaction is replayed whole.
RETRYABLE_SQLSTATES = frozenset({"40P01", "40001"})
ATTEMPTS = 3
# From this many events a batch's ledger rows go by COPY (PostgreSQL): below
# it, INSERT's single round trip costs less than COPY's two.
COPY_MIN_EVENTS = 50


def capped_keys(context: CampaignContext, day: dt.date) -> tuple[RollupKey, ...]:
    """The brand's (and budget's) rollup rows of `day` and of its month."""
    month = month_start(day)
    keys: tuple[RollupKey, ...] = (
        ("brand", context.brand_id, Period.DAY, day),
        ("brand", context.brand_id, Period.MONTH, month),
    )
    if context.budget_id is not None:
        keys += (
            ("budget", context.budget_id, Period.DAY, day),
            ("budget", context.budget_id, Period.MONTH, month),
        )
    return keys


class _SharedKeys:
    """Memos for placing many events: equal keys are computed, and stored, once."""

    __slots__ = ("_current", "_days", "_keys")

    def __init__(self) -> None:
        self._days: dict[tuple[dt.datetime, str], dt.date] = {}
        self._keys: dict[tuple[int, dt.date], tuple[dt.date, tuple[RollupKey, ...]]] = {}
        self._current: dict[tuple[int, dt.date], tuple[RollupKey, ...]] = {}

    def local_date(self, instant: dt.datetime, tz: str) -> dt.date:
        day = self._days.get((instant, tz))
        if day is None:
            day = self._days[(instant, tz)] = local_date(instant, tz)
        return day

    def keys(self, context: CampaignContext, day: dt.date) -> tuple[dt.date, tuple[RollupKey, ...]]:
        found = self._keys.get((context.campaign_id, day))
        if found is None:
            month = month_start(day)
            keys = (
                *capped_keys(context, day),
                ("campaign", context.campaign_id, Period.DAY, day),
                ("campaign", context.campaign_id, Period.MONTH, month),
            )
            found = self._keys[(context.campaign_id, day)] = (month, keys)
        return found

    def current_caps(self, context: CampaignContext, today: dt.date) -> tuple[RollupKey, ...]:
        found = self._current.get((context.campaign_id, today))
        if found is None:
            found = self._current[(context.campaign_id, today)] = capped_keys(context, today)
        return found


class Placed:
    """A valid event, its campaign's context, its brand-local day and rollup keys."""

    __slots__ = ("context", "current_caps", "event", "index", "keys", "local_date", "month")

    def __init__(
        self,
        index: int,
        event: CleanEvent,
        context: CampaignContext,
        *,
        today: dt.date,
        shared: "_SharedKeys | None" = None,
    ) -> None:
        self.index = index
        self.event = event
        self.context = context
        if shared is None:
            shared = _SharedKeys()
        self.local_date = day = shared.local_date(event.occurred_at, context.timezone)
        self.month, self.keys = shared.keys(context, day)
        # The caps that can hold the campaign now: its brand's (and budget's)
        # current local day and month, whatever day the event is for.
        self.current_caps = shared.current_caps(context, today)

    def charge(
        self,
        *,
        active: bool,
        held: bool,
        locked: Collection[RollupKey],
        watches: "dict[int, tuple[tuple[RollupKey, ...], bool]] | None" = None,
    ) -> Charge:
        """What the event charges; `watches` memoises the watched caps by campaign."""
        found = None if watches is None else watches.get(self.context.campaign_id)
        if found is None:
            watch = tuple(key for key in self.current_caps if key in locked)
            found = (watch, len(watch) == len(self.current_caps))
            if watches is not None:
                watches[self.context.campaign_id] = found
        watch, complete = found
        return Charge(
            self.keys,
            self.event.amount,
            active,
            watch,
            watch_complete=complete,
            budget_held=held,
        )

    def ledger_row(self, *, campaign_was_serving: bool) -> LedgerRow:
        event, ctx = self.event, self.context
        return LedgerRow(
            ctx.campaign_id,
            ctx.brand_id,
            ctx.budget_id,
            event.kind,
            event.amount,
            event.occurred_at,
            self.local_date,
            event.source,
            event.event_id,
            campaign_was_serving,
        )


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


def current_period(context: CampaignContext, now: dt.datetime) -> tuple[dt.date, dt.date]:
    today = local_date(now, context.timezone)
    return today, month_start(today)


def place(
    events: Sequence[CleanEvent], now: dt.datetime, *, sender: Sender, lock: bool = True
) -> list[Placed]:
    """Load the campaigns, locking their brands; raise for unknown ones.

    Raises CampaignsRefusedError for a campaign outside the sender's brands
    (an unknown one too, for a sender limited to some brands: the answer
    does not tell them apart), AmountRefusedError and DatedTooEarlyError.
    """
    wanted = {e.campaign_id for e in events}
    contexts = ledger.campaigns_load_locking_brands(wanted, lock=lock)
    if sender.brand_ids is not None:
        campaigns_of_brands(wanted, contexts, sender.brand_ids)
    unknown = [i for i, e in enumerate(events) if e.campaign_id not in contexts]
    if unknown:
        raise UnknownCampaignsError(unknown)
    amounts_within_brands([e.campaign_id for e in events], [e.amount for e in events], contexts)
    placed = place_in(events, contexts, now)
    dated = ((p.index, p.local_date, p.context.timezone) for p in placed)
    dated_since_last_month(dated, now, sender=sender)
    return placed


def place_in(
    events: Sequence[CleanEvent], contexts: dict[int, CampaignContext], now: dt.datetime
) -> list[Placed]:
    """The events placed in their campaigns' contexts (loaded and checked already)."""
    todays = {tz: local_date(now, tz) for tz in {c.timezone for c in contexts.values()}}
    shared = _SharedKeys()
    return [
        Placed(i, e, context, today=todays[context.timezone], shared=shared)
        for i, e in enumerate(events)
        for context in [contexts[e.campaign_id]]
    ]


def caps_of(placed: Sequence[Placed]) -> dict[RollupKey, Decimal | None]:
    caps: dict[RollupKey, Decimal | None] = {}
    seen: set[tuple[int, dt.date]] = set()  # the keys of a campaign's day, once
    for p in placed:
        if (p.context.campaign_id, p.local_date) in seen:
            continue
        seen.add((p.context.campaign_id, p.local_date))
        for key in p.keys:
            if key[0] != "campaign":
                caps[key] = cap_of(p.context, key)
    return caps


def cap_of(context: CampaignContext, key: RollupKey) -> Decimal | None:
    """The cap of a brand or budget rollup row of the campaign's (None: no cap at that level)."""
    daily = key[2] == Period.DAY
    if key[0] == "brand":
        return context.brand_daily_budget if daily else context.brand_monthly_budget
    return context.budget_daily_limit if daily else context.budget_monthly_limit


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
    now (spend.validation); its replay, clamped to a later now or no longer
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


def deltas_and_alerts(
    placed: Sequence[Placed], movements: dict[RollupKey, Movement]
) -> tuple[list[RollupDelta], list[AlertRow]]:
    brand_of_budget = {p.context.budget_id: p.context.brand_id for p in placed}
    return rollup_changes(movements, brand_of_budget)


def rollup_changes(
    movements: dict[RollupKey, Movement], brand_of_budget: Mapping[int | None, int]
) -> tuple[list[RollupDelta], list[AlertRow]]:
    """The rollup deltas and the alerts due, from the movements of a tally."""
    deltas, alerts = [], []
    for key, m in movements.items():
        if not m.events_count:  # watched only
            continue
        deltas.append(RollupDelta(key, m.amount, m.events_count, m.overspend, m.alerted_threshold))
        scope, owner, period, start = key
        alerts += [
            AlertRow(
                brand_id=owner if scope == "brand" else brand_of_budget[owner],
                budget_id=None if scope == "brand" else owner,
                scope=scope,
                period=period,
                period_start=start,
                threshold=threshold,
                cap=m.cap or ZERO,
                spend=spend,
            )
            for threshold, spend in m.alerts
        ]
    return deltas, alerts


def enforce(
    placed: Sequence[Placed], unsettled: set[RollupKey], now: dt.datetime
) -> list[StateChange]:
    """Hold or release the campaigns under every unsettled cap of the current day or month."""
    brand_of = {key: p.context.brand_id for p in placed for key in p.current_caps}
    return enforce_caps(brand_of, unsettled, now)


def enforce_caps(
    brand_of: Mapping[RollupKey, int], unsettled: set[RollupKey], now: dt.datetime
) -> list[StateChange]:
    """As enforce, given the brand of each cap of the current day or month."""
    brand_ids = {brand_of[key] for key in unsettled if key in brand_of}
    if not brand_ids:
        return []
    return budget_holds_reconcile(brand_ids=brand_ids, now=now, brand_locked=True)


# --- the generic path: any number of events, any database -----------------------------


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
    openings: dict[RollupKey, Opening] = ledger.rollups_lock(
        sorted_keys(k for k in caps if k[0] == "brand"),
        sorted_keys(k for k in caps if k[0] == "budget"),
    )
    # Read after the locks: whatever committed before us is visible now.
    if look_for_replays:
        outcome.replayed = replays(placed, events_stored(p.event for p in placed))
    fresh = [p for p in placed if p.index not in outcome.replayed]
    if not fresh:
        return outcome
    if any(p.event.amount < 0 for p in fresh):
        totals_stay_positive([(p.index, p.keys, p.event.amount) for p in fresh], openings)
    states = ledger.campaigns_state({p.context.campaign_id for p in fresh})
    watches: dict[int, tuple[tuple[RollupKey, ...], bool]] = {}
    result = tally(
        (
            p.charge(active=active, held=held, locked=caps, watches=watches)
            for p in fresh
            for active, held in [states[p.context.campaign_id]]
        ),
        openings=openings,
        caps=caps,
    )
    outcome.movements = result.movements
    outcome.serving = {p.index: was for p, was in zip(fresh, result.serving, strict=True)}
    rows = [p.ledger_row(campaign_was_serving=outcome.serving[p.index]) for p in fresh]
    # COPY returns no ids: one event (whose answer names its id) is inserted.
    if sql.postgres() and len(rows) >= COPY_MIN_EVENTS and len(rows) > 1:
        ledger.events_copy((*row, now) for row in rows)
    else:
        ids = ledger.events_insert(rows, recorded_at=now)
        if len(ids) != len(rows):
            raise EventIdRaceError
        if len(fresh) == 1:
            outcome.event_ids[fresh[0].index] = ids[0]
    deltas, alerts = deltas_and_alerts(placed, outcome.movements)
    alerts_announce_on_commit(ledger.rollups_add(deltas, alerts, raised_at=now))
    outcome.changes = enforce(placed, result.unsettled, now)
    return outcome


# --- the fast path: one event on PostgreSQL, one statement ---------------------------


def one_event_params(p: Placed, now: dt.datetime, *, alone: bool) -> dict[str, Any]:
    ctx, event = p.context, p.event
    today, month = current_period(ctx, now)
    return {
        "campaign": ctx.campaign_id,
        "brand": ctx.brand_id,
        "budget": ctx.budget_id,
        "kind": event.kind,
        "amount": event.amount,
        "occurred_at": event.occurred_at,
        "day": p.local_date,
        "month": p.month,
        "now": now,
        "source": event.source,
        "event_id": event.event_id,
        "brand_daily": ctx.brand_daily_budget,
        "brand_monthly": ctx.brand_monthly_budget,
        "budget_daily": ctx.budget_daily_limit,
        "budget_monthly": ctx.budget_monthly_limit,
        "day_current": p.local_date == today,
        "month_current": p.month == month,
        "expected": 2 if ctx.budget_id is None else 4,
        "timezone": ctx.timezone,
        "alone": alone,
    }


def one_statement(placed: list[Placed], now: dt.datetime, *, alone: bool) -> one_event.RecordedOne:
    """Run the one-event statement, creating the day's rollup rows first if missing."""
    params = one_event_params(placed[0], now, alone=alone)
    try:
        result = one_event.event_record_postgres(params)
    except one_event.CampaignGoneError:
        raise UnknownCampaignsError([0]) from None
    if result.complete:
        return result
    missing = [k for k in sorted_keys(caps_of(placed)) if (k[0], k[2]) not in result.openings]
    ledger.rollups_create_missing(
        [k for k in missing if k[0] == "brand"], [k for k in missing if k[0] == "budget"]
    )
    result = one_event.event_record_postgres(params)
    if not result.complete:
        raise RuntimeError("rollup rows missing after they were created")
    return result


def one_outcome(
    placed: list[Placed], result: one_event.RecordedOne, now: dt.datetime
) -> tuple[Outcome, set[RollupKey]]:
    """What the statement did, as the batch path would have: movements, flags, alerts."""
    p = placed[0]
    outcome = Outcome(placed=placed)
    if result.event_pk is None:
        outcome.replayed = replays(placed, events_stored([p.event]))
        return outcome, set()
    caps = caps_of(placed)
    openings = {key: result.openings[(key[0], key[2])] for key in caps}
    charge = p.charge(
        active=result.campaign_status == Status.ACTIVE, held=result.budget_held, locked=caps
    )
    counted = tally([charge], openings=openings, caps=caps)
    if counted.serving[0] != result.campaign_was_serving:  # pragma: no cover - a defect
        logger.error("Spend rules disagree on campaign %s serving", p.context.campaign_id)
    outcome.movements = counted.movements
    outcome.serving[0] = bool(result.campaign_was_serving)
    outcome.event_ids[0] = result.event_pk
    alerts_announce_on_commit(result.alert_ids)
    return outcome, counted.unsettled


def alone_outcome(placed: list[Placed], result: one_event.RecordedOne) -> Outcome:
    """What the statement did when it committed alone, read off its answer.

    Nothing to enforce: the statement refuses to commit alone when campaigns
    must be held or released. Its rules are spend.accounting's (the property
    tests compare both), so the totals need no second tally here.
    """
    p = placed[0]
    outcome = Outcome(placed=placed)
    if result.event_pk is None:
        outcome.replayed = replays(placed, events_stored([p.event]))
        return outcome
    outcome.serving[0] = bool(result.campaign_was_serving)
    outcome.event_ids[0] = result.event_pk
    ctx, amount = p.context, p.event.amount
    owners = {"brand": ctx.brand_id, "budget": ctx.budget_id}
    for (scope, period), opening in result.openings.items():
        owner = owners[scope]
        if owner is not None:
            start = p.local_date if period == Period.DAY else p.month
            outcome.totals[(scope, owner, period, start)] = opening.amount + amount
    alerts_announce_on_commit(result.alert_ids)
    return outcome


# The campaigns the one-statement path has stored events for, by database
# and campaign id: a spend stream names the same campaigns again and again, and reading
# one costs a round trip and about as much client time as the statement. A
# remembered context may be stale; it is never trusted: the statement
# compares each of its facts (the campaign's brand and budget, the brand's
# time zone and caps, the budget's limits) with the rows it locks and, when
# one differs, aborts itself before anything is written (SPR01). The event
# then takes the transaction, which reads the campaign afresh.
_CONTEXTS: dict[tuple[str, int], CampaignContext] = {}
CONTEXTS_MAX = 10_000


def _context_key(campaign_id: int) -> tuple[str, int]:
    return str(connection.settings_dict["NAME"]), campaign_id


def contexts_forget(campaign_id: int) -> None:
    _CONTEXTS.pop(_context_key(campaign_id), None)


def place_remembered(
    event: CleanEvent, now: dt.datetime, key: tuple[str, int], *, sender: Sender
) -> list[Placed]:
    """The event placed with its campaign's remembered context, or one read now (no lock).

    The sender's rules are checked as `place` checks them. A remembered
    brand is safe to check against: the statement compares it with the
    campaign's row and aborts when it moved (the event then takes the
    transaction, which reads it afresh).
    """
    context = _CONTEXTS.get(key)
    if context is None:
        return place([event], now, sender=sender, lock=False)
    campaign = {event.campaign_id: context}
    if sender.brand_ids is not None:
        campaigns_of_brands([event.campaign_id], campaign, sender.brand_ids)
    # The statement checks that the brand's monthly budget is still this one.
    amounts_within_brands([event.campaign_id], [event.amount], campaign)
    placed = Placed(0, event, context, today=local_date(now, context.timezone))
    dated_since_last_month([(0, placed.local_date, context.timezone)], now, sender=sender)
    return [placed]


def record_one_in_transaction(event: CleanEvent, *, now: dt.datetime, sender: Sender) -> Outcome:
    """One event in a transaction: lock the brand, one statement, enforcement if due."""
    with transaction.atomic():
        placed = place([event], now, sender=sender)
        outcome, unsettled = one_outcome(placed, one_statement(placed, now, alone=False), now)
        outcome.changes = enforce(placed, unsettled, now)
        return outcome


def record_one_alone(event: CleanEvent, *, now: dt.datetime, sender: Sender) -> Outcome:
    """One event outside any transaction: one statement that commits by itself.

    The statement refuses to finish (NeedsTransactionError, nothing written)
    when campaigns must be held or released with it, or the campaign's or
    brand's settings differ from the context used here (read now, or
    remembered); then the event takes the transaction.
    """
    key = _context_key(event.campaign_id)
    placed = place_remembered(event, now, key, sender=sender)
    try:
        result = one_statement(placed, now, alone=True)
    except (one_event.NeedsTransactionError, UnknownCampaignsError):
        _CONTEXTS.pop(key, None)
        raise
    # Remembered once an event was stored with it: the ledger's foreign keys
    # then keep the campaign, its brand and its budget from going away.
    if key not in _CONTEXTS:
        if len(_CONTEXTS) >= CONTEXTS_MAX:
            _CONTEXTS.clear()
        _CONTEXTS[key] = placed[0].context
    return alone_outcome(placed, result)


def record_one(event: CleanEvent, *, now: dt.datetime, sender: Sender) -> Outcome:
    # An adjustment takes the generic path: it is rare, and its campaign's
    # totals must be read under the locks to keep every total from going
    # below zero (spend.limits), which the one statement does not do.
    if not sql.postgres() or event.amount < 0:
        return retrying(lambda: record_many([event], now=now, sender=sender))
    if not connection.in_atomic_block:
        try:
            return retrying(lambda: record_one_alone(event, now=now, sender=sender))
        except one_event.NeedsTransactionError:
            logger.debug("Spend for campaign %s recorded in a transaction", event.campaign_id)
    return retrying(lambda: record_one_in_transaction(event, now=now, sender=sender))


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
