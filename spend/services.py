"""Recording spend: ledger, rollups, alerts and enforcement in one transaction.

`spend_record` (one event) and `spend_record_batch` (up to
settings.SPEND_BATCH_MAX_EVENTS) validate everything first and store nothing
on bad input. Then, atomically:

1. the campaigns' brands are locked FOR SHARE, then the capped rollup rows
   the events touch (spend.ledger explains the lock order): the totals read
   there are the exact ones the events are added to;
2. the events are appended to the ledger; an `event_id` seen before is not
   counted again (the same payload returns the original, a different payload
   raises SpendConflict);
3. the rollups of brand, budget and campaign, keyed by the brand-local day
   and month of `occurred_at`, receive atomic upserts (amount, event count,
   overspend), and the alerts that became due are inserted once;
4. when a total of the brand's current day or month crossed a cap, the one
   enforcement rule (spend.enforcement.budget_holds_reconcile) holds or
   releases every campaign under that cap, history rows included.

Spend for a campaign that is already paused is recorded all the same: it is
money spent upstream. It counts in the totals and as overspend
(spend.accounting defines both).
"""

import datetime as dt
import logging
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, TypeVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import OperationalError, connection, transaction
from django.utils import timezone

from budgets.models import Period
from budgets.periods import local_date, month_start
from campaigns.models import Campaign, Status
from campaigns.services import StateChange
from spend import ledger
from spend.accounting import Charge, Movement, Opening, RollupKey, sorted_keys, tally
from spend.alerts import alerts_announce_on_commit
from spend.enforcement import budget_holds_reconcile
from spend.ledger import AlertRow, CampaignContext, LedgerRow, RollupDelta, StoredEvent
from spend.models import BrandSpend, SpendEvent, SpendKind
from spend.validation import CleanEvent, Errors, clean_event

logger = logging.getLogger(__name__)

ZERO = Decimal("0")
# Deadlock detected, serialisation failure: the transaction is replayed whole.
RETRYABLE_SQLSTATES = frozenset({"40P01", "40001"})
ATTEMPTS = 3


@dataclass(frozen=True)
class SpendInput:
    campaign_id: int
    amount: Decimal
    occurred_at: dt.datetime | None = None
    event_id: str | None = None
    source: str = "api"
    kind: str = SpendKind.SPEND


@dataclass(frozen=True)
class SpendRecorded:
    """The stored event and where its brand stands now (current local day and month)."""

    event: SpendEvent
    created: bool
    campaign_status: str
    pause_reason: str | None
    brand_daily_spend: Decimal
    brand_monthly_spend: Decimal
    brand_daily_remaining: Decimal
    brand_monthly_remaining: Decimal

    @property
    def overspend(self) -> bool:
        """The campaign was not serving when this spend arrived."""
        return not self.event.campaign_was_serving


@dataclass(frozen=True)
class BatchRecorded:
    created: int
    duplicates: int


class SpendInvalid(ValidationError):  # noqa: N818 - the name is the API contract
    """Bad input for one event; `message_dict` names the fields. Nothing was stored."""


class SpendBatchInvalid(Exception):  # noqa: N818 - the name is the API contract
    """Bad input in a batch; nothing was stored.

    `errors` maps the index of each bad event to its fields and messages. It
    is empty when the batch as a whole is refused (too many events); `str()`
    of the exception says why.
    """

    def __init__(self, errors: dict[int, Errors], message: str = "") -> None:
        self.errors = errors
        super().__init__(message or f"{len(errors)} invalid event(s); nothing was stored.")


class SpendConflict(Exception):  # noqa: N818 - the name is the API contract
    """An event_id recorded before with a different payload. Nothing was stored."""

    def __init__(self, *, event_id: str, fields: Sequence[str], index: int | None = None) -> None:
        self.event_id = event_id
        self.fields = list(fields)
        self.index = index
        super().__init__(
            f"Event id {event_id!r} was recorded before with a different "
            f"{', '.join(self.fields)}; it is not recorded again."
        )


class _UnknownCampaignsError(Exception):
    def __init__(self, indexes: list[int]) -> None:
        self.indexes = indexes


class _EventIdRaceError(Exception):
    """An event_id was stored by another transaction between our read and our insert."""


# --- shared steps ------------------------------------------------------------------


def _capped_keys(context: CampaignContext, day: dt.date) -> tuple[RollupKey, ...]:
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


class _Placed:
    """A valid event, its campaign's context, its brand-local day and rollup keys."""

    __slots__ = ("context", "current_caps", "event", "index", "keys", "local_date", "month")

    def __init__(
        self,
        index: int,
        event: CleanEvent,
        context: CampaignContext,
        *,
        today: dt.date,
    ) -> None:
        self.index = index
        self.event = event
        self.context = context
        self.local_date = day = local_date(event.occurred_at, context.timezone)
        self.month = month_start(day)
        self.keys = (
            *_capped_keys(context, day),
            ("campaign", context.campaign_id, Period.DAY, day),
            ("campaign", context.campaign_id, Period.MONTH, self.month),
        )
        # The caps that can hold the campaign now: its brand's (and budget's)
        # current local day and month, whatever day the event is for.
        self.current_caps = _capped_keys(context, today)

    def charge(self, *, active: bool, held: bool, locked: Collection[RollupKey]) -> Charge:
        watch = tuple(key for key in self.current_caps if key in locked)
        return Charge(
            self.keys,
            self.event.amount,
            active,
            watch,
            watch_complete=len(watch) == len(self.current_caps),
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
class _Outcome:
    placed: list[_Placed]
    event_ids: dict[int, int] = field(default_factory=dict)  # index -> new SpendEvent id
    serving: dict[int, bool] = field(default_factory=dict)  # index -> campaign_was_serving
    replayed: dict[int, StoredEvent] = field(default_factory=dict)
    movements: dict[RollupKey, Movement] = field(default_factory=dict)
    changes: list[StateChange] = field(default_factory=list)


def _current_period(context: CampaignContext, now: dt.datetime) -> tuple[dt.date, dt.date]:
    today = local_date(now, context.timezone)
    return today, month_start(today)


def _place(events: Sequence[CleanEvent], now: dt.datetime) -> list[_Placed]:
    """Load the campaigns, locking their brands; raise for unknown ones."""
    contexts = ledger.campaigns_load_locking_brands({e.campaign_id for e in events})
    unknown = [i for i, e in enumerate(events) if e.campaign_id not in contexts]
    if unknown:
        raise _UnknownCampaignsError(unknown)
    todays = {tz: local_date(now, tz) for tz in {c.timezone for c in contexts.values()}}
    return [
        _Placed(i, e, context, today=todays[context.timezone])
        for i, e in enumerate(events)
        for context in [contexts[e.campaign_id]]
    ]


def _caps(placed: Sequence[_Placed]) -> dict[RollupKey, Decimal | None]:
    caps: dict[RollupKey, Decimal | None] = {}
    for p in placed:
        ctx = p.context
        for key in p.keys:
            scope, daily = key[0], key[2] == Period.DAY
            if scope == "brand":
                caps[key] = ctx.brand_daily_budget if daily else ctx.brand_monthly_budget
            elif scope == "budget":
                caps[key] = ctx.budget_daily_limit if daily else ctx.budget_monthly_limit
    return caps


def _differences(stored: StoredEvent, event: CleanEvent) -> list[str]:
    fields = []
    if stored.campaign_id != event.campaign_id:
        fields.append("campaign")
    if stored.amount != event.amount:
        fields.append("amount")
    if stored.kind != event.kind:
        fields.append("kind")
    if event.occurred_at_given and stored.occurred_at != event.occurred_at:
        fields.append("occurred_at")
    return fields


def _replays(placed: Sequence[_Placed], stored: dict[str, StoredEvent]) -> dict[int, StoredEvent]:
    """The stored originals of events replayed; SpendConflict if a payload differs."""
    originals: dict[int, StoredEvent] = {}
    for p in placed:
        original = stored.get(p.event.event_id or "")
        if original is None:
            continue
        fields = _differences(original, p.event)
        if fields:
            raise SpendConflict(event_id=str(p.event.event_id), fields=fields, index=p.index)
        originals[p.index] = original
    return originals


def _deltas_and_alerts(
    placed: Sequence[_Placed], movements: dict[RollupKey, Movement]
) -> tuple[list[RollupDelta], list[AlertRow]]:
    brand_of_budget = {p.context.budget_id: p.context.brand_id for p in placed}
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


def _enforce(
    placed: Sequence[_Placed], unsettled: set[RollupKey], now: dt.datetime
) -> list[StateChange]:
    """Hold or release the campaigns under every unsettled cap of the current day or month."""
    brand_of = {key: p.context.brand_id for p in placed for key in p.current_caps}
    brand_ids = {brand_of[key] for key in unsettled if key in brand_of}
    if not brand_ids:
        return []
    return budget_holds_reconcile(brand_ids=brand_ids, now=now, brand_locked=True)


# --- the generic path: any number of events, any database -----------------------------


def _record_many(events: Sequence[CleanEvent], *, now: dt.datetime) -> _Outcome:
    """One transaction for the events (their event ids distinct)."""
    with transaction.atomic():
        placed = _place(events, now)
        outcome = _Outcome(placed=placed)
        caps = _caps(placed)
        openings: dict[RollupKey, Opening] = ledger.rollups_lock(
            sorted_keys(k for k in caps if k[0] == "brand"),
            sorted_keys(k for k in caps if k[0] == "budget"),
        )
        # Read after the locks: whatever committed before us is visible now.
        outcome.replayed = _replays(
            placed, ledger.events_stored([e.event_id for e in events if e.event_id is not None])
        )
        fresh = [p for p in placed if p.index not in outcome.replayed]
        if not fresh:
            return outcome
        states = ledger.campaigns_state({p.context.campaign_id for p in fresh})
        result = tally(
            (
                p.charge(active=active, held=held, locked=caps)
                for p in fresh
                for active, held in [states[p.context.campaign_id]]
            ),
            openings=openings,
            caps=caps,
        )
        outcome.movements = result.movements
        outcome.serving = {p.index: was for p, was in zip(fresh, result.serving, strict=True)}
        rows = [p.ledger_row(campaign_was_serving=outcome.serving[p.index]) for p in fresh]
        ids = ledger.events_insert(rows, recorded_at=now)
        if len(ids) != len(rows):
            raise _EventIdRaceError
        if len(fresh) == 1:
            outcome.event_ids[fresh[0].index] = ids[0]
        deltas, alerts = _deltas_and_alerts(placed, outcome.movements)
        alerts_announce_on_commit(ledger.rollups_add(deltas, alerts, raised_at=now))
        outcome.changes = _enforce(placed, result.unsettled, now)
        return outcome


# --- the fast path: one event on PostgreSQL, one statement ---------------------------


def _one_event_params(p: _Placed, now: dt.datetime) -> dict[str, Any]:
    ctx, event = p.context, p.event
    today, month = _current_period(ctx, now)
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
        "caps": [
            ctx.brand_daily_budget,
            ctx.brand_monthly_budget,
            ctx.budget_daily_limit,
            ctx.budget_monthly_limit,
        ],
        "current": [p.local_date == today, p.month == month],
        "expected": 2 if ctx.budget_id is None else 4,
    }


def _record_one_postgres(event: CleanEvent, *, now: dt.datetime) -> _Outcome:
    with transaction.atomic():
        placed = _place([event], now)
        p = placed[0]
        outcome = _Outcome(placed=placed)
        params = _one_event_params(p, now)
        result = ledger.event_record_postgres(params)
        if not result.complete:
            missing = [k for k in sorted_keys(_caps(placed)) if (k[0], k[2]) not in result.openings]
            ledger.rollups_create_missing(
                [k for k in missing if k[0] == "brand"], [k for k in missing if k[0] == "budget"]
            )
            result = ledger.event_record_postgres(params)
            if not result.complete:
                raise RuntimeError("rollup rows missing after they were created")
        if result.event_pk is None:
            outcome.replayed = _replays(placed, ledger.events_stored([str(event.event_id)]))
            return outcome
        caps = _caps(placed)
        openings = {key: result.openings[(key[0], key[2])] for key in caps}
        charge = p.charge(
            active=result.campaign_status == Status.ACTIVE, held=result.budget_held, locked=caps
        )
        outcome_tally = tally([charge], openings=openings, caps=caps)
        if outcome_tally.serving[0] != result.campaign_was_serving:  # pragma: no cover - a defect
            logger.error("Spend rules disagree on campaign %s serving", p.context.campaign_id)
        outcome.movements = outcome_tally.movements
        outcome.serving[0] = bool(result.campaign_was_serving)
        outcome.event_ids[0] = result.event_pk
        alerts_announce_on_commit(result.alert_ids)
        outcome.changes = _enforce(placed, outcome_tally.unsettled, now)
        return outcome


def _record_one(event: CleanEvent, *, now: dt.datetime) -> _Outcome:
    if ledger.postgres():
        return _record_one_postgres(event, now=now)
    return _record_many([event], now=now)


T = TypeVar("T")


def _retrying(work: Callable[[], T]) -> T:
    """Run the transaction again when it lost a race it cannot win by waiting.

    A deadlock victim (only replayed when no outer transaction is open: its
    work would be lost), or an event_id stored by another transaction between
    our read and our insert (the next attempt sees it as a replay).
    """
    attempt = 1
    while True:
        try:
            return work()
        except _EventIdRaceError:
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


# --- one event ---------------------------------------------------------------------


def _brand_now(p: _Placed, outcome: _Outcome, now: dt.datetime) -> tuple[Decimal, Decimal]:
    """The brand's spend for its current local day and month."""
    today, month = _current_period(p.context, now)
    brand_id = p.context.brand_id
    day_key: RollupKey = ("brand", brand_id, Period.DAY, today)
    month_key: RollupKey = ("brand", brand_id, Period.MONTH, month)
    if day_key in outcome.movements and month_key in outcome.movements:
        return outcome.movements[day_key].closing, outcome.movements[month_key].closing
    # * the brand's current day and month rollups (a replay, or a late event)
    found = {
        period: amount
        for period, start, amount in BrandSpend.objects.filter(
            brand_id=brand_id, period_start__in=[today, month]
        ).values_list("period", "period_start", "amount")
        if start == (today if period == Period.DAY else month)
    }
    return found.get(Period.DAY, ZERO), found.get(Period.MONTH, ZERO)


def _campaign_state(p: _Placed, outcome: _Outcome) -> tuple[str, str | None]:
    for change in outcome.changes:
        if change.campaign_id == p.context.campaign_id:
            return change.new_status, change.new_reason
    if outcome.serving.get(p.index):
        return Status.ACTIVE.value, None
    # * the campaign's state (it was not serving, or this was a replay)
    status, reason = Campaign.objects.values_list("status", "pause_reason").get(
        pk=p.context.campaign_id
    )
    return status, reason


def _event_from(p: _Placed, outcome: _Outcome, now: dt.datetime) -> SpendEvent:
    if p.index in outcome.replayed:
        # * the original event of a replay
        return SpendEvent.objects.get(pk=outcome.replayed[p.index].id)
    row = p.ledger_row(campaign_was_serving=outcome.serving[p.index])
    event = SpendEvent(id=outcome.event_ids[p.index], recorded_at=now, **row._asdict())
    event._state.adding = False
    event._state.db = connection.alias
    return event


def spend_record(
    *,
    campaign_id: int,
    amount: Decimal,
    occurred_at: dt.datetime | None = None,
    event_id: str | None = None,
    source: str = "api",
    kind: str = SpendKind.SPEND,
) -> SpendRecorded:
    """Record one spend event. Raises SpendInvalid or SpendConflict; then stores nothing.

    Queries: the transaction (lock the brand; one statement that locks the
    capped rollups, appends the event, upserts the rollups and raises alerts;
    enforcement only when a cap was crossed), then at most three reads for
    the answer when the campaign is not serving or the event was a replay.
    """
    now = timezone.now()
    clean, errors = clean_event(
        campaign_id=campaign_id,
        amount=amount,
        occurred_at=occurred_at,
        event_id=event_id,
        source=source,
        kind=kind,
        now=now,
    )
    if clean is None:
        raise SpendInvalid(errors)
    try:
        outcome = _retrying(lambda: _record_one(clean, now=now))
    except _UnknownCampaignsError:
        raise SpendInvalid({"campaign": [f"No campaign with id {campaign_id}."]}) from None
    placed = outcome.placed[0]
    status, reason = _campaign_state(placed, outcome)
    daily, monthly = _brand_now(placed, outcome, now)
    return SpendRecorded(
        event=_event_from(placed, outcome, now),
        created=placed.index not in outcome.replayed,
        campaign_status=status,
        pause_reason=reason,
        brand_daily_spend=daily,
        brand_monthly_spend=monthly,
        brand_daily_remaining=max(placed.context.brand_daily_budget - daily, ZERO),
        brand_monthly_remaining=max(placed.context.brand_monthly_budget - monthly, ZERO),
    )


# --- a batch -----------------------------------------------------------------------


def _same_payload(first: CleanEvent, again: CleanEvent) -> bool:
    return (first.campaign_id, first.amount, first.kind, first.occurred_at) == (
        again.campaign_id,
        again.amount,
        again.kind,
        again.occurred_at,
    )


def _clean_batch(
    events: Sequence[SpendInput], now: dt.datetime
) -> tuple[list[CleanEvent], list[int], int]:
    """Valid events with in-batch replays removed, where each came from, how many went."""
    errors: dict[int, Errors] = {}
    unique: list[CleanEvent] = []
    origins: list[int] = []
    first_seen: dict[str, tuple[int, CleanEvent]] = {}
    replays = 0
    items: Sequence[object] = events  # callers may pass anything; check each
    for index, item in enumerate(items):
        if not isinstance(item, SpendInput):
            errors[index] = {"event": ["Each event must be a SpendInput."]}
            continue
        clean, event_errors = clean_event(
            campaign_id=item.campaign_id,
            amount=item.amount,
            occurred_at=item.occurred_at,
            event_id=item.event_id,
            source=item.source,
            kind=item.kind,
            now=now,
        )
        if clean is None:
            errors[index] = event_errors
            continue
        if clean.event_id is not None and clean.event_id in first_seen:
            first_index, first = first_seen[clean.event_id]
            if not _same_payload(first, clean):
                errors[index] = {
                    "event_id": [
                        f"Repeats the event_id of event {first_index} with another payload."
                    ]
                }
            replays += 1
            continue
        if clean.event_id is not None:
            first_seen[clean.event_id] = (index, clean)
        unique.append(clean)
        origins.append(index)
    if errors:
        raise SpendBatchInvalid(errors)
    return unique, origins, replays


def spend_record_batch(events: Sequence[SpendInput]) -> BatchRecorded:
    """Record up to settings.SPEND_BATCH_MAX_EVENTS events: all of them, or none.

    Raises SpendBatchInvalid (errors by event index) or SpendConflict (its
    `index` is the event's in `events`). A constant number of queries
    whatever the batch size: lock brands, lock capped rollups, read replays,
    read campaign states, insert events, upsert rollups and alerts (plus
    enforcement when a cap was crossed).
    """
    limit = settings.SPEND_BATCH_MAX_EVENTS
    if len(events) > limit:
        raise SpendBatchInvalid(
            {}, f"A batch holds at most {limit:,} events; this one has {len(events):,}."
        )
    now = timezone.now()
    unique, origins, replays_in_batch = _clean_batch(events, now)
    if not unique:
        return BatchRecorded(created=0, duplicates=replays_in_batch)
    try:
        outcome = _retrying(lambda: _record_many(unique, now=now))
    except _UnknownCampaignsError as error:
        raise SpendBatchInvalid(
            {
                origins[i]: {"campaign": [f"No campaign with id {unique[i].campaign_id}."]}
                for i in error.indexes
            }
        ) from None
    except SpendConflict as conflict:
        if conflict.index is not None:
            conflict.index = origins[conflict.index]
        raise
    return BatchRecorded(
        created=len(unique) - len(outcome.replayed),
        duplicates=replays_in_batch + len(outcome.replayed),
    )
