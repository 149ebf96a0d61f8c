"""A batch on PostgreSQL: its events reach the ledger before the caps are locked.

record_many (spend.recording.batch) takes every lock first and writes after, so a
brand's capped rollup rows stay locked while the ledger takes the batch --
COPY, six indexes and the foreign-key checks, about 15 ms per 1,000 events
here -- and every other recorder of the brand waits that long. A batch
whose events cannot bring a capped row to its cap or to an alert level
needs no lock to know each campaign's `campaign_was_serving`:

1. the brands `FOR SHARE` and the campaigns, as record_many;
2. the capped rows' totals and the campaigns' states, read without locks;
   the events summed per campaign and brand-local day
   (accounting.tally_groups) give every event's flag;
3. the events COPYed into the ledger with those flags, their foreign keys
   checked by the statement after it rather than at COMMIT;
4. the capped rows locked (the order of spend.recording.ledger), adjustments
   checked against them (spend.recording.limits: no total below zero; a refusal
   rolls the COPY back) and the states read again: whatever committed
   meanwhile is visible now. When anything moved,
   the tally is done again on what the locks returned; should a flag that
   was written no longer hold, the transaction is rolled back and the batch
   goes through record_many;
5. the deltas upserted and the alerts raised from the tally under the
   locks, enforcement when a cap needs it: as record_many.

So the rollup rows are locked from step 4 to COMMIT only, and what is
stored is what record_many would store given the totals the locks
returned. A batch that may meet a cap or an alert level (the sums of step
2 cannot tell) continues as record_many does after step 1: locks first,
then each event in order. One that holds replays of stored events, and a
small one, go through record_many.
"""

import datetime as dt
import logging
from collections.abc import Iterator, Sequence
from decimal import Decimal

from django.db import connection, transaction

from budgets.periods import local_date
from spend.errors import DatedTooEarlyError
from spend.recording import batch, cursors, ledger
from spend.recording.batch import record_many, record_placed, rollups_counted
from spend.recording.ledger import CampaignContext
from spend.recording.limits import dated_since_last_month, totals_stay_positive
from spend.recording.placing import (
    cap_of,
    capped_keys,
    contexts_checked,
    place_in,
    rollup_keys,
)
from spend.recording.rule import (
    Caps,
    ChargeGroup,
    Opening,
    Openings,
    RollupKey,
    Tally,
    locking_order,
    tally_groups,
)
from spend.recording.validation import CleanEvents
from spend.senders import Sender

logger = logging.getLogger("spend.services")

ZERO = Decimal("0")
States = dict[int, tuple[bool, bool]]  # campaign id -> (active, budget-held)


class ServingMovedError(Exception):
    """A campaign's serving, as written to the ledger, changed before the caps were locked."""


def record_batch(
    events: CleanEvents, *, now: dt.datetime, sender: Sender, look_for_replays: bool
) -> int:
    """Record the events (their event ids distinct) in one transaction; how many were replays.

    Replays of stored events are found as record_many finds them: without
    `look_for_replays`, an event id stored already raises EventIdRaceError
    (nothing stored); the caller does it again with it.
    """
    if look_for_replays or not cursors.postgres() or len(events) < batch.COPY_MIN_EVENTS:
        outcome = record_many(
            events.events(), now=now, sender=sender, look_for_replays=look_for_replays
        )
        return len(outcome.replayed)
    try:
        record_written_first(events, now=now, sender=sender)
    except ServingMovedError:
        logger.info("A campaign's serving moved while a batch was written; recorded again")
        record_many(events.events(), now=now, sender=sender, look_for_replays=False)
    return 0


class CampaignDay:
    """The events of one campaign for one brand-local day: their rows and their sums."""

    __slots__ = (
        "amounts",
        "context",
        "current",
        "day",
        "keys",
        "positive",
        "serving",
        "total",
        "watch",
    )

    def __init__(self, context: CampaignContext, day: dt.date) -> None:
        self.context = context
        self.day = day
        self.amounts: list[Decimal] = []
        self.keys: tuple[RollupKey, ...] = ()
        self.current: tuple[RollupKey, ...] = ()  # its caps of the brand's current period
        self.watch: tuple[RollupKey, ...] = ()  # of those, the ones the batch locks
        self.total = self.positive = ZERO
        self.serving = True

    def charges(self, states: States) -> ChargeGroup:
        active, held = states[self.context.campaign_id]
        return ChargeGroup(
            self.keys,
            self.amounts,
            self.total,
            self.positive,
            active,
            self.watch,
            len(self.watch) == len(self.current),
            held,
        )


def campaign_days(
    events: CleanEvents, contexts: dict[int, CampaignContext]
) -> tuple[list[CampaignDay], list[CampaignDay]]:
    """The campaign-days of the events, in order of appearance, and the one of each event."""
    local_days: dict[tuple[dt.datetime, str], dt.date] = {}
    days: dict[tuple[int, dt.date], CampaignDay] = {}
    of_event: list[CampaignDay] = []
    for campaign_id, instant, amount in zip(
        events.campaign_ids, events.instants, events.amounts, strict=True
    ):
        context = contexts[campaign_id]
        where = (instant, context.timezone)
        day = local_days.get(where)
        if day is None:
            day = local_days[where] = local_date(instant, context.timezone)
        found = days.get((campaign_id, day))
        if found is None:
            found = days[(campaign_id, day)] = CampaignDay(context, day)
        found.amounts.append(amount)
        of_event.append(found)
    return list(days.values()), of_event


def capped_rows(days: Sequence[CampaignDay], now: dt.datetime) -> dict[RollupKey, Decimal | None]:
    """Fill in each campaign-day's rows and sums; the capped rows with their caps."""
    caps: dict[RollupKey, Decimal | None] = {}
    for d in days:
        d.keys = rollup_keys(d.context, d.day)
        caps.update((key, cap_of(d.context, key)) for key in capped_keys(d.context, d.day))
        d.total = sum(d.amounts, ZERO)
        d.positive = sum((a for a in d.amounts if a > 0), ZERO)
    todays = {tz: local_date(now, tz) for tz in {d.context.timezone for d in days}}
    for d in days:
        d.current = capped_keys(d.context, todays[d.context.timezone])
        d.watch = tuple(key for key in d.current if key in caps)
    return caps


def ledger_rows(
    events: CleanEvents, of_event: Sequence[CampaignDay], now: dt.datetime
) -> Iterator[tuple[object, ...]]:
    """The events' ledger rows: LEDGER_COLUMNS, then recorded_at."""
    for d, kind, amount, instant, source, event_id in zip(
        of_event, events.kinds, events.amounts, events.instants, events.sources,
        events.event_ids, strict=True,
    ):  # fmt: skip
        ctx = d.context
        yield (ctx.campaign_id, ctx.brand_id, ctx.budget_id, kind, amount, instant, d.day,
               source, event_id, d.serving, now)  # fmt: skip


def dated_recently(
    days: Sequence[CampaignDay],
    of_event: Sequence[CampaignDay],
    now: dt.datetime,
    *,
    sender: Sender,
) -> None:
    """limits.dated_since_last_month, checked per campaign-day; when one is refused,
    checked again per event to name each refused event (and raise)."""
    try:
        dated_since_last_month(((0, d.day, d.context.timezone) for d in days), now, sender=sender)
    except DatedTooEarlyError:
        by_event = ((i, d.day, d.context.timezone) for i, d in enumerate(of_event))
        dated_since_last_month(by_event, now, sender=sender)


def tally_of(
    days: Sequence[CampaignDay],
    states: States,
    openings: Openings,
    caps: Caps,
) -> Tally | None:
    return tally_groups([d.charges(states) for d in days], openings=openings, caps=caps)


def record_written_first(events: CleanEvents, *, now: dt.datetime, sender: Sender) -> None:
    """Steps 1-5 above, or record_many's steps if the events may meet a cap or an alert.

    Queries: lock the brands, read the totals and states, check the ledger's
    keys at once, COPY, lock the capped rows, read the states, upsert the
    rollups and raise alerts (plus enforcement when due, and the keys
    deferred again inside an outer transaction). Raises ServingMovedError
    when a flag written no longer holds under the locks.
    """
    outer = connection.in_atomic_block
    with transaction.atomic():
        contexts = contexts_checked(events.campaign_ids, events.amounts, sender=sender)
        days, of_event = campaign_days(events, contexts)
        dated_recently(days, of_event, now, sender=sender)
        caps = capped_rows(days, now)
        campaign_ids = {d.context.campaign_id for d in days}
        lock_order = locking_order(caps)
        openings, states = ledger.rollups_and_states_read(*lock_order, campaign_ids)
        tallied = tally_of(days, states, openings, caps)
        if tallied is None:  # the order of the events matters: the locks first
            placed = place_in(events.events(), contexts, now)
            record_placed(placed, now=now, look_for_replays=False)
            return
        for d, serving in zip(days, tallied.serving, strict=True):
            d.serving = serving
        _copy(events, of_event, now, outer=outer)
        locked = ledger.rollups_lock(*lock_order)
        if min(events.amounts) < 0:  # adjustments: no total below zero (spend.recording.limits)
            counted = zip(of_event, events.amounts, strict=True)
            totals_stay_positive([(i, d.keys, a) for i, (d, a) in enumerate(counted)], locked)
        states_now = ledger.campaigns_state(campaign_ids)
        if states_now != states or any(openings.get(k) != locked.get(k) for k in caps):
            tallied = tally_again(days, tallied, states_now, locked, caps)
        rollups_counted(
            tallied,
            brand_of_budget={d.context.budget_id: d.context.brand_id for d in days},
            brand_of_cap={key: d.context.brand_id for d in days for key in d.current},
            now=now,
        )


def _copy(
    events: CleanEvents, of_event: Sequence[CampaignDay], now: dt.datetime, *, outer: bool
) -> None:
    """The events into the ledger by COPY, their foreign keys checked right after it.

    Checked by the SET CONSTRAINTS that follows the COPY (it runs the checks
    queued so far), not by the COPY itself with the keys made immediate
    first: PostgreSQL 15 runs a statement's immediate checks while the COPY
    still holds its buffer of up to 1,000 tuple slots, each an entry of the
    same tuple descriptor in the resource owner's hash, and every check's
    own slots are entered into that hash too. Depending on where the
    campaigns table's descriptor happens to lie in memory, that cost either
    nothing or about 1 ms per 1,000 events, some 5% of a batch (measured in
    docs/benchmarks.md).
    """
    ledger.events_copy(ledger_rows(events, of_event, now))
    ledger.ledger_keys_checked_at_once(True)
    if outer:  # leave the outer transaction's checks as they were
        ledger.ledger_keys_checked_at_once(False)


def tally_again(
    days: Sequence[CampaignDay],
    written: Tally,
    states: States,
    locked: dict[RollupKey, Opening],
    caps: dict[RollupKey, Decimal | None],
) -> Tally:
    """The tally on what the locks returned; ServingMovedError if a flag written changed."""
    tallied = tally_of(days, states, locked, caps)
    if tallied is None or tallied.serving != written.serving:
        raise ServingMovedError
    return tallied
