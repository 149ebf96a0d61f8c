"""Recording spend: ledger, rollups, alerts and enforcement in one transaction.

`spend_record` (one event) and `spend_record_batch` (up to
settings.SPEND_BATCH_MAX_EVENTS) validate everything first and store nothing
on bad input. Then, atomically:

1. the campaigns' brands are locked FOR SHARE, then the capped rollup rows
   the events touch (spend.recording.ledger explains the lock order): the totals read
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
(spend.recording.rule defines both).

Every event is recorded for a `Sender` (spend.senders; the system's when
none is given): it names the event's `source`, within which `event_id` is
unique, and it limits what may be recorded -- adjustments and events dated
before the brand's previous local month need `may_adjust`, a feed posts for
its brands' campaigns only. A refusal raises SpendRefused and stores nothing.
"""

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db import DatabaseError, connection
from django.utils import timezone

from budgets.models import Brand, Period
from budgets.periods import local_date, month_start
from campaigns.models import Campaign, Status
from spend import metrics
from spend.archived import archived_error, spend_refuse_archived
from spend.errors import (
    AmountRefusedError,
    CampaignsRefusedError,
    DatedTooEarlyError,
    EventIdRaceError,
    SpendArchived,
    SpendBatchInvalid,
    SpendConflict,
    SpendInvalid,
    SpendRefused,
    UnknownCampaignsError,
)
from spend.models import AlertWebhook, BrandSpend, SpendEvent, SpendKind
from spend.recording import cursors
from spend.recording.batch import Outcome, retrying
from spend.recording.copy_batch import record_batch
from spend.recording.placing import Placed
from spend.recording.rule import BRAND, RollupKey
from spend.recording.single import record_one
from spend.recording.validation import (
    CleanEvent,
    CleanEvents,
    Errors,
    clean_event,
    event_cleaner,
)
from spend.senders import SYSTEM, Sender

__all__ = [
    "BatchRecorded",
    "SpendArchived",
    "SpendBatchInvalid",
    "SpendConflict",
    "SpendInput",
    "SpendInvalid",
    "SpendRecorded",
    "SpendRefused",
    "spend_record",
    "spend_record_batch",
]

ZERO = Decimal("0")


@dataclass(frozen=True)
class SpendInput:
    campaign_id: int
    amount: Decimal
    occurred_at: dt.datetime | None = None
    event_id: str | None = None
    kind: str = SpendKind.SPEND


ADJUSTMENT_REFUSED = (
    "Recording an adjustment needs the right to adjust: a spend feed created with it, "
    "or a person with the permission spend.add_adjustment."
)


def campaigns_refused(sender: Sender, campaign_ids: list[int]) -> SpendRefused:
    """The refusal of campaigns outside a feed's brands, naming them."""
    names = ", ".join(str(pk) for pk in campaign_ids[:10]) + (
        ", ..." if len(campaign_ids) > 10 else ""
    )
    which = "campaign" if len(campaign_ids) == 1 else "campaigns"
    return SpendRefused(
        f"{sender.source} may not record spend for {which} {names}: "
        "only for the campaigns of its brands.",
        campaign_ids=campaign_ids,
    )


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


# --- one event ---------------------------------------------------------------------


def _brand_now(p: Placed, outcome: Outcome, now: dt.datetime) -> tuple[Decimal, Decimal]:
    """The brand's spend for its current local day and month."""
    today = local_date(now, p.context.timezone)
    month = month_start(today)
    brand_id = p.context.brand_id
    day_key = RollupKey(BRAND, brand_id, Period.DAY, today)
    month_key = RollupKey(BRAND, brand_id, Period.MONTH, month)
    daily, monthly = outcome.closing(day_key), outcome.closing(month_key)
    if daily is not None and monthly is not None:
        return daily, monthly
    # * the brand's current day and month rollups (a replay, or a late event)
    found = {
        period: amount
        for period, start, amount in BrandSpend.objects.filter(
            brand_id=brand_id, period_start__in=[today, month]
        ).values_list("period", "period_start", "amount")
        if start == (today if period == Period.DAY else month)
    }
    return found.get(Period.DAY, ZERO), found.get(Period.MONTH, ZERO)


def _campaign_state(p: Placed, outcome: Outcome) -> tuple[str, str | None]:
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


def _event_from(p: Placed, outcome: Outcome, now: dt.datetime) -> SpendEvent:
    if p.index in outcome.replayed:
        # * the original event of a replay
        return SpendEvent.objects.get(pk=outcome.replayed[p.index].id)
    row = p.ledger_row(campaign_was_serving=outcome.serving[p.index])
    values = {"id": outcome.event_ids[p.index], "recorded_at": now, **row._asdict()}
    # As the ORM builds a row it read: positional, the model's own fast path.
    names = [f.attname for f in SpendEvent._meta.concrete_fields]
    return SpendEvent.from_db(connection.alias, names, [values[name] for name in names])


def spend_record(
    *,
    campaign_id: int,
    amount: Decimal,
    occurred_at: dt.datetime | None = None,
    event_id: str | None = None,
    kind: str = SpendKind.SPEND,
    sender: Sender = SYSTEM,
    now: dt.datetime | None = None,
) -> SpendRecorded:
    """Record one spend event for `sender`. Raises SpendInvalid, SpendRefused,
    SpendConflict or SpendArchived; then stores nothing.

    `now` is the instant of recording (default: the real time): the event's
    recorded_at, the brand's current day and month for enforcement, and the
    limit for occurred_at. Only a simulation on its own clock passes it.

    Queries: the transaction (lock the brand; one statement that locks the
    capped rollups, appends the event, upserts the rollups and raises alerts;
    enforcement only when a cap was crossed), then at most three reads for
    the answer when the campaign is not serving or the event was a replay.
    """
    now = _aware(now) if now is not None else timezone.now()
    clean, errors = clean_event(
        campaign_id=campaign_id,
        amount=amount,
        occurred_at=occurred_at,
        event_id=event_id,
        source=sender.source,
        kind=kind,
        now=now,
    )
    if clean is None:
        raise SpendInvalid(errors)
    if clean.kind == SpendKind.ADJUSTMENT and not sender.may_adjust:
        raise SpendRefused(ADJUSTMENT_REFUSED)
    if not cursors.postgres():
        spend_refuse_archived([clean.campaign_id], batch=False)
    return _answer(clean, _record_one(clean, now=now, sender=sender), now)


def _record_one(clean: CleanEvent, *, now: dt.datetime, sender: Sender) -> Outcome:
    """record_one, its refusals said as the service's errors."""
    try:
        return record_one(clean, now=now, sender=sender)
    except UnknownCampaignsError:
        raise SpendInvalid({"campaign": [f"No campaign with id {clean.campaign_id}."]}) from None
    except CampaignsRefusedError as refused:
        raise campaigns_refused(sender, refused.campaign_ids) from None
    except AmountRefusedError as refused:
        raise SpendInvalid({"amount": list(refused.problems.values())}) from None
    except DatabaseError as error:
        archived = archived_error(error, [clean.campaign_id], batch=False)
        if archived is error:
            raise
        raise archived from error
    except DatedTooEarlyError as refused:
        raise SpendInvalid({"occurred_at": list(refused.problems.values())}) from None


def _answer(clean: CleanEvent, outcome: Outcome, now: dt.datetime) -> SpendRecorded:
    placed = outcome.placed[0]
    if placed.index not in outcome.replayed:
        metrics.SPEND_EVENTS.inc()
        metrics.SPEND_AMOUNT.inc(float(max(clean.amount, ZERO)))
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


class _Unique:
    """A batch's valid events with in-batch replays removed, and where each came from."""

    def __init__(self) -> None:
        self.events = CleanEvents()
        self.origins: list[int] = []
        self.replays = 0
        self._first_seen: dict[str, int] = {}  # event_id -> its position in events

    def add(self, index: int, clean: CleanEvent) -> Errors | None:
        """Keep the event unless it repeats an earlier one's id; errors if its payload differs."""
        event_id = clean.event_id
        if event_id is not None:
            position = self._first_seen.get(event_id)
            if position is not None:
                self.replays += 1
                if _same_payload(self.events[position], clean):
                    return None
                origin = self.origins[position]
                return {
                    "event_id": [f"Repeats the event_id of event {origin} with another payload."]
                }
            self._first_seen[event_id] = len(self.origins)
        self.events.append(clean)
        self.origins.append(index)
        return None


def _clean_item(item: object, now: dt.datetime, source: str) -> tuple[CleanEvent | None, Errors]:
    """One event of a batch that the fast checks left to clean_event (which names every error)."""
    if not isinstance(item, SpendInput):
        return None, {"event": ["Each event must be a SpendInput."]}
    return clean_event(
        campaign_id=item.campaign_id,
        amount=item.amount,
        occurred_at=item.occurred_at,
        event_id=item.event_id,
        source=source,
        kind=item.kind,
        now=now,
    )


def _clean_batch(events: Sequence[SpendInput], now: dt.datetime, source: str) -> _Unique:
    """Valid events with in-batch replays removed; SpendBatchInvalid naming every error."""
    errors: dict[int, Errors] = {}
    unique = _Unique()
    clean_usual = event_cleaner(now)
    items: Sequence[object] = events  # callers may pass anything; check each
    for index, item in enumerate(items):
        clean = (
            clean_usual(
                item.campaign_id, item.amount, item.occurred_at, item.event_id, source, item.kind
            )
            if type(item) is SpendInput
            else None
        )
        if clean is None:
            clean, problems = _clean_item(item, now, source)
            if clean is None:
                errors[index] = problems
                continue
        repeated = unique.add(index, clean)
        if repeated:
            errors[index] = repeated
    if errors:
        raise SpendBatchInvalid(errors)
    return unique


def spend_record_batch(
    events: Sequence[SpendInput], *, sender: Sender = SYSTEM, now: dt.datetime | None = None
) -> BatchRecorded:
    """Record up to settings.SPEND_BATCH_MAX_EVENTS events for `sender`: all of them, or none.

    `now` as for spend_record.

    Raises SpendBatchInvalid (errors by event index), SpendRefused (one event
    the sender may not record refuses the batch), SpendConflict or SpendArchived
    (their `index` is the event's in `events`). A constant number of queries
    whatever the batch size: lock brands, lock capped rollups, read campaign
    states, insert events, upsert rollups and alerts (plus enforcement when a
    cap was crossed). A batch holding replays of stored events is rolled back
    at the insert and done again with one more query, reading the stored ids.
    """
    limit = settings.SPEND_BATCH_MAX_EVENTS
    if len(events) > limit:
        raise SpendBatchInvalid(
            {}, f"A batch holds at most {limit:,} events; this one has {len(events):,}."
        )
    now = _aware(now) if now is not None else timezone.now()
    batch = _clean_batch(events, now, sender.source)
    unique, origins = batch.events, batch.origins
    if SpendKind.ADJUSTMENT in unique.kinds and not sender.may_adjust:  # asked only then
        first = origins[unique.kinds.index(SpendKind.ADJUSTMENT)]
        raise SpendRefused(f"Event {first}: {ADJUSTMENT_REFUSED}", index=first)
    if not unique:
        return BatchRecorded(created=0, duplicates=batch.replays)
    if not cursors.postgres():
        try:
            spend_refuse_archived(unique.campaign_ids, batch=True)
        except SpendArchived as refusal:
            refusal.index = origins[refusal.index or 0]
            raise
    replayed = _record_batch(batch, now=now, sender=sender)
    metrics.SPEND_EVENTS.inc(len(unique) - replayed)
    if not replayed:
        metrics.SPEND_AMOUNT.inc(float(sum(amount for amount in unique.amounts if amount > 0)))
    return BatchRecorded(created=len(unique) - replayed, duplicates=batch.replays + replayed)


def _record_batch(batch: _Unique, *, now: dt.datetime, sender: Sender) -> int:
    """record_batch, replayed once with the stored ids read when it met one; how many replays.

    Its refusals are said as the service's errors, naming the events by
    their index in the request.
    """
    look_for_replays = False

    def attempt() -> int:
        nonlocal look_for_replays
        try:
            return record_batch(
                batch.events, now=now, sender=sender, look_for_replays=look_for_replays
            )
        except EventIdRaceError:
            look_for_replays = True
            raise

    try:
        return retrying(attempt)
    except (
        UnknownCampaignsError,
        CampaignsRefusedError,
        AmountRefusedError,
        DatedTooEarlyError,
        SpendConflict,
        DatabaseError,
    ) as error:
        refusal = _batch_refusal(error, batch, sender)
        if refusal is error:
            raise
        raise refusal from (error if isinstance(error, DatabaseError) else None)


def _batch_refusal(error: Exception, batch: _Unique, sender: Sender) -> Exception:
    """The service's error for a refusal of the recorder (`error` itself if it is none)."""
    unique, origins = batch.events, batch.origins
    if isinstance(error, UnknownCampaignsError):
        return SpendBatchInvalid(
            {
                origins[i]: {"campaign": [f"No campaign with id {unique[i].campaign_id}."]}
                for i in error.indexes
            }
        )
    if isinstance(error, CampaignsRefusedError):
        return campaigns_refused(sender, error.campaign_ids)
    if isinstance(error, AmountRefusedError | DatedTooEarlyError):
        field = "amount" if isinstance(error, AmountRefusedError) else "occurred_at"
        return SpendBatchInvalid(
            {origins[i]: {field: [message]} for i, message in error.problems.items()}
        )
    if isinstance(error, SpendConflict):
        if error.index is not None:
            error.index = origins[error.index]
        return error
    if not isinstance(error, DatabaseError):
        return error
    archived = archived_error(error, unique.campaign_ids, batch=True)
    if isinstance(archived, SpendArchived):
        archived.index = origins[archived.index or 0]
    return archived


def _aware(now: dt.datetime) -> dt.datetime:
    if timezone.is_naive(now):
        raise ValueError("now must be an aware datetime")
    return now


# --- alert webhooks ----------------------------------------------------------------


def alert_webhook_create(*, brand: Brand | None, url: str) -> AlertWebhook:
    """A webhook for one brand's alerts, or every brand's (brand None). Unique per brand."""
    webhook = AlertWebhook(brand=brand, url=url)
    webhook.full_clean()
    webhook.save()
    return webhook


def alert_webhook_delete(*, webhook_id: int) -> None:
    """Raises AlertWebhook.DoesNotExist for an unknown id."""
    AlertWebhook.objects.get(pk=webhook_id).delete()
