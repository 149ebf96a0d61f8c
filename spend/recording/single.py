"""One event on PostgreSQL: one statement (single.sql) locks, appends, upserts, raises alerts.

The statement holds the rule of spend.recording.rule for one event, on the
opening totals of the rows it has just locked (a locking read returns the
newest committed version), so whether the campaign was serving is judged on
them, not on a snapshot taken before the lock was granted. Nothing is
written unless every capped row was there to lock (`complete`); the caller
then creates the missing rows and runs it again. The alert levels are
ALERT_THRESHOLDS, passed in as a parameter.

Outside any transaction the statement runs alone (`alone`) and commits by
itself, in one round trip. It may only do so when nothing else has to
happen in its transaction: when campaigns must be held or released (a cap
crossed, a hold that no longer matches the totals), or when the brand's
time zone or caps changed since the caller read them, it aborts itself
through spend_needs_transaction() (SQLSTATE SPR01) and the event is
recorded again inside a transaction. The context used may be remembered
from an earlier event of the campaign (CONTEXTS below): every fact of it --
the campaign's brand and budget, the brand's time zone and caps, the
budget's limits -- is compared with the rows locked.

Inside a transaction (the caller's, or the one a crossed cap needs) the same
statement runs after the brand is locked, and enforcement follows. That
variant stays rather than leaving the event to spend.recording.batch. It
runs not only when a cap is crossed but for every event recorded inside a
caller's open transaction (simulate_spend's dry run, any code inside
atomic()), where the batch path would cost three or four more round trips
per event: its separate lock of the capped rows, replay look-up, state read,
insert and upsert, against one statement (test_services holds that event to
its four queries). A crossed cap's event pays enforcement's queries on top
either way.
"""

import datetime as dt
import logging
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import DatabaseError, connection, transaction

from budgets.models import ALERT_THRESHOLDS, Period
from budgets.periods import local_date, month_start
from campaigns.models import Status
from spend.errors import UnknownCampaignsError
from spend.recording import cursors, ledger
from spend.recording.alerts import alerts_announce_on_commit
from spend.recording.batch import (
    Outcome,
    brand_of_caps,
    enforce,
    events_stored,
    record_many,
    replays,
    retrying,
)
from spend.recording.ledger import CampaignContext
from spend.recording.limits import (
    amounts_within_brands,
    campaigns_of_brands,
    dated_since_last_month,
)
from spend.recording.placing import Placed, caps_of, place
from spend.recording.rule import BRAND, BUDGET, Opening, RollupKey, sorted_keys, tally
from spend.recording.validation import CleanEvent
from spend.senders import Sender

logger = logging.getLogger("spend.services")

_CAPPED_ROLLUP = cursors.sql_beside(__file__, "capped_rollup.sql")
RECORD_ONE_SQL = cursors.sql_beside(__file__, "single.sql").format(
    brand_rollups=_CAPPED_ROLLUP.format(scope=BRAND),
    budget_rollups=_CAPPED_ROLLUP.format(scope=BUDGET),
)
# As the array's text, cast to int[] in the SQL: psycopg dumps a list afresh on
# every execution (about fifty Python calls, 8% of spend_record's instructions
# under callgrind), a string at once.
THRESHOLDS = "{" + ",".join(str(int(t)) for t in ALERT_THRESHOLDS) + "}"
NEEDS_TRANSACTION = "SPR01"  # raised by spend_needs_transaction() (migration 0004)


class NeedsTransactionError(Exception):
    """The one-statement path could not finish alone; nothing was written."""


class CampaignGoneError(Exception):
    """The campaign was deleted after it was read; nothing was written."""


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
    try:
        rows = cursors.fetch(RECORD_ONE_SQL, params, raw=True)
    except DatabaseError as error:
        if getattr(error.__cause__, "sqlstate", None) == NEEDS_TRANSACTION:
            raise NeedsTransactionError from error
        raise
    if not rows:  # the statement's rows all hang on the campaign's
        raise CampaignGoneError
    (row,) = rows
    complete, pk, was_serving, status, held, openings, alerts, _ = row
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


def one_event_params(p: Placed, now: dt.datetime, *, alone: bool) -> dict[str, Any]:
    ctx, event = p.context, p.event
    today = local_date(now, ctx.timezone)
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
        "month_current": p.month == month_start(today),
        "expected": 2 if ctx.budget_id is None else 4,
        "timezone": ctx.timezone,
        "alone": alone,
        "thresholds": THRESHOLDS,
    }


def one_statement(placed: list[Placed], now: dt.datetime, *, alone: bool) -> RecordedOne:
    """Run the one-event statement, creating the day's rollup rows first if missing."""
    params = one_event_params(placed[0], now, alone=alone)
    try:
        result = event_record_postgres(params)
    except CampaignGoneError:
        raise UnknownCampaignsError([0]) from None
    if result.complete:
        return result
    missing = [
        k for k in sorted_keys(caps_of(placed)) if (k.scope, k.period) not in result.openings
    ]
    ledger.rollups_create_missing(
        [k for k in missing if k.scope == BRAND], [k for k in missing if k.scope == BUDGET]
    )
    result = event_record_postgres(params)
    if not result.complete:
        raise RuntimeError("rollup rows missing after they were created")
    return result


def _recorded(placed: list[Placed], result: RecordedOne) -> Outcome:
    """The outcome's event: its id and flag, or the stored original it replays."""
    outcome = Outcome(placed=placed)
    if result.event_pk is None:
        outcome.replayed = replays(placed, events_stored([placed[0].event]))
        return outcome
    outcome.serving[0] = bool(result.campaign_was_serving)
    outcome.event_ids[0] = result.event_pk
    alerts_announce_on_commit(result.alert_ids)
    return outcome


def one_outcome(placed: list[Placed], result: RecordedOne) -> tuple[Outcome, set[RollupKey]]:
    """What the statement did, as the batch path would have: movements, flags, alerts."""
    outcome = _recorded(placed, result)
    if result.event_pk is None:
        return outcome, set()
    p = placed[0]
    caps = caps_of(placed)
    openings = {key: result.openings[(key.scope, key.period)] for key in caps}
    charge = p.charge(
        active=result.campaign_status == Status.ACTIVE, held=result.budget_held, locked=caps
    )
    counted = tally([charge], openings=openings, caps=caps)
    if counted.serving[0] != result.campaign_was_serving:  # pragma: no cover - a defect
        logger.error("Spend rules disagree on campaign %s serving", p.context.campaign_id)
    outcome.movements = counted.movements
    return outcome, counted.unsettled


def alone_outcome(placed: list[Placed], result: RecordedOne) -> Outcome:
    """What the statement did when it committed alone, read off its answer.

    Nothing to enforce: the statement refuses to commit alone when campaigns
    must be held or released. Its rules are spend.recording.rule's (the
    property tests compare both), so the totals need no second tally here.
    """
    outcome = _recorded(placed, result)
    if result.event_pk is None:
        return outcome
    p = placed[0]
    owners = {BRAND: p.context.brand_id, BUDGET: p.context.budget_id}
    for (scope, period), opening in result.openings.items():
        owner = owners[scope]
        if owner is not None:
            start = p.local_date if period == Period.DAY else p.month
            outcome.totals[RollupKey(scope, owner, period, start)] = opening.amount + p.event.amount
    return outcome


# The campaigns the one-statement path has stored events for, by database
# and campaign id: a spend stream names the same campaigns again and again,
# and reading one costs a round trip and about as much client time as the
# statement. A remembered context may be stale; it is never trusted: the
# statement compares each of its facts with the rows it locks and, when one
# differs, aborts itself before anything is written (SPR01). The event then
# takes the transaction, which reads the campaign afresh. No expiry is
# needed for that; the size bound keeps a process's memory in check.
CONTEXTS_MAX = 10_000
_CONTEXTS: dict[tuple[str, int], CampaignContext] = {}


def _context_key(campaign_id: int) -> tuple[str, int]:
    return str(connection.settings_dict["NAME"]), campaign_id


def _context_remember(key: tuple[str, int], context: CampaignContext) -> None:
    if key not in _CONTEXTS:
        if len(_CONTEXTS) >= CONTEXTS_MAX:
            _CONTEXTS.clear()
        _CONTEXTS[key] = context


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
        outcome, unsettled = one_outcome(placed, one_statement(placed, now, alone=False))
        outcome.changes = enforce(brand_of_caps(placed), unsettled, now)
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
    except (NeedsTransactionError, UnknownCampaignsError):
        _CONTEXTS.pop(key, None)
        raise
    # Remembered once an event was stored with it: the ledger's foreign keys
    # then keep the campaign, its brand and its budget from going away.
    _context_remember(key, placed[0].context)
    return alone_outcome(placed, result)


def record_one(event: CleanEvent, *, now: dt.datetime, sender: Sender) -> Outcome:
    # An adjustment takes the generic path: it is rare, and its campaign's
    # totals must be read under the locks to keep every total from going
    # below zero (spend.recording.limits), which the one statement does not do.
    if not cursors.postgres() or event.amount < 0:
        return retrying(lambda: record_many([event], now=now, sender=sender))
    if not connection.in_atomic_block:
        try:
            return retrying(lambda: record_one_alone(event, now=now, sender=sender))
        except NeedsTransactionError:
            logger.debug("Spend for campaign %s recorded in a transaction", event.campaign_id)
    return retrying(lambda: record_one_in_transaction(event, now=now, sender=sender))
