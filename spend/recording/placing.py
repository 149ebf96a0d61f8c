"""Placing events: each valid event in its campaign's context, day and rollup rows.

The first step of every path (spend.recording.batch, .single, .copy_batch):
the campaigns are read (their brands locked), the sender's rules checked
(spend.recording.limits), and each event given its brand-local day, the
rollup rows it counts in and the caps that can hold its campaign now.
"""

import datetime as dt
from collections.abc import Collection, Sequence
from decimal import Decimal

from budgets.models import Period
from budgets.periods import local_date, month_start
from spend.errors import UnknownCampaignsError
from spend.recording import ledger
from spend.recording.ledger import CampaignContext, LedgerRow
from spend.recording.limits import (
    amounts_within_brands,
    campaigns_of_brands,
    dated_since_last_month,
)
from spend.recording.rule import BRAND, BUDGET, CAMPAIGN, Charge, RollupKey
from spend.recording.validation import CleanEvent
from spend.senders import Sender


def capped_keys(context: CampaignContext, day: dt.date) -> tuple[RollupKey, ...]:
    """The brand's (and budget's) rollup rows of `day` and of its month."""
    month = month_start(day)
    keys: tuple[RollupKey, ...] = (
        RollupKey(BRAND, context.brand_id, Period.DAY, day),
        RollupKey(BRAND, context.brand_id, Period.MONTH, month),
    )
    if context.budget_id is not None:
        keys += (
            RollupKey(BUDGET, context.budget_id, Period.DAY, day),
            RollupKey(BUDGET, context.budget_id, Period.MONTH, month),
        )
    return keys


def rollup_keys(context: CampaignContext, day: dt.date) -> tuple[RollupKey, ...]:
    """Every rollup row an event of the campaign's `day` counts in: capped ones first."""
    month = month_start(day)
    return (
        *capped_keys(context, day),
        RollupKey(CAMPAIGN, context.campaign_id, Period.DAY, day),
        RollupKey(CAMPAIGN, context.campaign_id, Period.MONTH, month),
    )


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
            found = (month_start(day), rollup_keys(context, day))
            self._keys[(context.campaign_id, day)] = found
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


def place(
    events: Sequence[CleanEvent], now: dt.datetime, *, sender: Sender, lock: bool = True
) -> list[Placed]:
    """Load the campaigns, locking their brands; raise for unknown ones.

    Raises CampaignsRefusedError for a campaign outside the sender's brands
    (an unknown one too, for a sender limited to some brands: the answer
    does not tell them apart), AmountRefusedError and DatedTooEarlyError.
    """
    campaign_ids = [e.campaign_id for e in events]
    amounts = [e.amount for e in events]
    contexts = contexts_checked(campaign_ids, amounts, sender=sender, lock=lock)
    placed = place_in(events, contexts, now)
    dated = ((p.index, p.local_date, p.context.timezone) for p in placed)
    dated_since_last_month(dated, now, sender=sender)
    return placed


def contexts_checked(
    campaign_ids: Sequence[int], amounts: Sequence[Decimal], *, sender: Sender, lock: bool = True
) -> dict[int, CampaignContext]:
    """The events' campaigns read (their brands locked), and the sender's rules on them.

    `campaign_ids` and `amounts` are the events', in order. Raises
    CampaignsRefusedError for a campaign outside the sender's brands (an
    unknown one too, for a sender limited to some brands: the answer does
    not tell them apart), UnknownCampaignsError, AmountRefusedError.
    """
    wanted = set(campaign_ids)
    contexts = ledger.campaigns_load_locking_brands(wanted, lock=lock)
    if sender.brand_ids is not None:
        campaigns_of_brands(wanted, contexts, sender.brand_ids)
    unknown = [i for i, c in enumerate(campaign_ids) if c not in contexts]
    if unknown:
        raise UnknownCampaignsError(unknown)
    amounts_within_brands(campaign_ids, amounts, contexts)
    return contexts


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
            if key.scope != CAMPAIGN:
                caps[key] = cap_of(p.context, key)
    return caps


def cap_of(context: CampaignContext, key: RollupKey) -> Decimal | None:
    """The cap of a brand or budget rollup row of the campaign's (None: no cap at that level)."""
    daily = key.period == Period.DAY
    if key.scope == BRAND:
        return context.brand_daily_budget if daily else context.brand_monthly_budget
    return context.budget_daily_limit if daily else context.budget_monthly_limit
