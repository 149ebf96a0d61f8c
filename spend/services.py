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
from spend.recording.validation import CleanEvent, CleanEvents, Errors, clean_event, event_cleaner
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
    try:
        outcome = record_one(clean, now=now, sender=sender)
    except UnknownCampaignsError:
        raise SpendInvalid({"campaign": [f"No campaign with id {campaign_id}."]}) from None
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


def _clean_batch(
    events: Sequence[SpendInput], now: dt.datetime, source: str
) -> tuple[CleanEvents, list[int], int]:
    """Valid events with in-batch replays removed, where each came from, how many went."""
    errors: dict[int, Errors] = {}
    unique = CleanEvents()
    origins: list[int] = []
    first_seen: dict[str, int] = {}  # event_id -> its position in unique
    replays = 0
    clean_usual = event_cleaner(now)
    items: Sequence[object] = events  # callers may pass anything; check each
    for index, item in enumerate(items):
        if not isinstance(item, SpendInput):
            errors[index] = {"event": ["Each event must be a SpendInput."]}
            continue
        clean = clean_usual(
            item.campaign_id, item.amount, item.occurred_at, item.event_id, source, item.kind
        )
        if clean is None:
            clean, event_errors = clean_event(
                campaign_id=item.campaign_id,
                amount=item.amount,
                occurred_at=item.occurred_at,
                event_id=item.event_id,
                source=source,
                kind=item.kind,
                now=now,
            )
            if clean is None:
                errors[index] = event_errors
                continue
        event_id = clean.event_id
        if event_id is not None:
            position = first_seen.get(event_id)
            if position is not None:
                if not _same_payload(unique[position], clean):
                    errors[index] = {
                        "event_id": [
                            f"Repeats the event_id of event {origins[position]} "
                            "with another payload."
                        ]
                    }
                replays += 1
                continue
            first_seen[event_id] = len(origins)
        unique.append(clean)
        origins.append(index)
    if errors:
        raise SpendBatchInvalid(errors)
    return unique, origins, replays


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
    unique, origins, replays_in_batch = _clean_batch(events, now, sender.source)
    if SpendKind.ADJUSTMENT in unique.kinds and not sender.may_adjust:  # asked only then
        first = origins[unique.kinds.index(SpendKind.ADJUSTMENT)]
        raise SpendRefused(f"Event {first}: {ADJUSTMENT_REFUSED}", index=first)
    if not unique:
        return BatchRecorded(created=0, duplicates=replays_in_batch)
    if not cursors.postgres():
        try:
            spend_refuse_archived(unique.campaign_ids, batch=True)
        except SpendArchived as refusal:
            refusal.index = origins[refusal.index or 0]
            raise
    look_for_replays = False

    def attempt() -> int:
        nonlocal look_for_replays
        try:
            return record_batch(unique, now=now, sender=sender, look_for_replays=look_for_replays)
        except EventIdRaceError:
            look_for_replays = True
            raise

    try:
        replayed = retrying(attempt)
    except UnknownCampaignsError as error:
        raise SpendBatchInvalid(
            {
                origins[i]: {"campaign": [f"No campaign with id {unique[i].campaign_id}."]}
                for i in error.indexes
            }
        ) from None
    except CampaignsRefusedError as refused:
        raise campaigns_refused(sender, refused.campaign_ids) from None
    except AmountRefusedError as refused:
        raise SpendBatchInvalid(
            {origins[i]: {"amount": [message]} for i, message in refused.problems.items()}
        ) from None
    except DatedTooEarlyError as refused:
        raise SpendBatchInvalid(
            {origins[i]: {"occurred_at": [message]} for i, message in refused.problems.items()}
        ) from None
    except SpendConflict as conflict:
        if conflict.index is not None:
            conflict.index = origins[conflict.index]
        raise
    except DatabaseError as error:
        archived = archived_error(error, unique.campaign_ids, batch=True)
        if not isinstance(archived, SpendArchived):
            raise
        archived.index = origins[archived.index or 0]
        raise archived from error
    metrics.SPEND_EVENTS.inc(len(unique) - replayed)
    if not replayed:
        metrics.SPEND_AMOUNT.inc(float(sum(amount for amount in unique.amounts if amount > 0)))
    return BatchRecorded(created=len(unique) - replayed, duplicates=replays_in_batch + replayed)


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
