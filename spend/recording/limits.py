"""What a brand's books can take, and what a sender may post to them.

Both are checked by every recorder inside its transaction, on what it read
under its locks (spend.recording.ledger's order), and refuse with AmountRefusedError
(by event index) before anything is written; spend.services names the
`amount` field.

- An event larger than its brand's whole monthly budget is a mistake, in
  any currency (SPEND_MAX_AMOUNT is one ceiling for all of them: a small
  charge in KRW is a huge one in USD).
- An adjustment may not take the total of its campaign, budget or brand,
  for its own local day or month, below zero: a refund gives back what was
  spent then, never more. The totals are taken in the events' order, so a
  refund that comes before the spend it refunds is refused, as it would be
  if the events were recorded one at a time.
- A sender limited to some brands (a spend feed) posts for their campaigns
  only; a sender without the right to adjust posts nothing dated before the
  start of the brand's previous local month (spend.senders).
"""

import datetime as dt
from collections.abc import Collection, Iterable, Mapping, Sequence
from decimal import Decimal

from django.db.models import Q

from budgets.models import Period
from budgets.periods import local_date
from spend.errors import AmountRefusedError, CampaignsRefusedError, DatedTooEarlyError
from spend.models import CampaignSpend
from spend.recording.ledger import CampaignContext
from spend.recording.rule import CAMPAIGN, Opening, RollupKey
from spend.senders import Sender

ZERO = Decimal("0")
NARROWEST = ("campaign", "budget", "brand")
# (index of the event, the rollup rows it counts in, its amount)
Counted = tuple[int, tuple[RollupKey, ...], Decimal]


def amounts_within_brands(
    campaign_ids: Sequence[int], amounts: Sequence[Decimal], contexts: Mapping[int, CampaignContext]
) -> None:
    """Refuse the events larger than their brand's monthly budget (either sign)."""
    if not amounts:
        return
    smallest = min(c.brand_monthly_budget for c in contexts.values())
    if max(amounts) <= smallest and -min(amounts) <= smallest:  # two passes in C: the usual case
        return
    problems = {}
    for index, (campaign_id, amount) in enumerate(zip(campaign_ids, amounts, strict=True)):
        budget = contexts[campaign_id].brand_monthly_budget
        if abs(amount) > budget:
            problems[index] = (
                f"The amount is larger than the brand's whole monthly budget ({budget}); "
                "a single event cannot be, whatever the currency."
            )
    if problems:
        raise AmountRefusedError(problems)


def campaigns_of_brands(
    campaign_ids: Collection[int],
    contexts: Mapping[int, CampaignContext],
    brand_ids: Collection[int],
) -> None:
    """Refuse the campaigns that are not of these brands, unknown ones included.

    Checked on the brand the recorder read with the campaign (and writes
    into the ledger row, where the composite foreign key holds it to the
    campaign's): no query of its own.
    """
    refused = [
        campaign_id
        for campaign_id in campaign_ids
        if (context := contexts.get(campaign_id)) is None or context.brand_id not in brand_ids
    ]
    if refused:
        raise CampaignsRefusedError(sorted(refused))


def previous_month_start(today: dt.date) -> dt.date:
    """The first day of the month before `today`'s."""
    return (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)


def dated_since_last_month(
    dated: Iterable[tuple[int, dt.date, str]], now: dt.datetime, *, sender: Sender
) -> None:
    """Refuse the events dated before the start of their brand's previous local
    month, unless the sender may adjust.

    `dated` holds (event index, the event's brand-local day, the brand's time
    zone). Last month stays open for late reports; anything older is a
    correction of closed books. The sender's right is asked only when an
    event is that old (for a person, asking may cost queries).
    """
    earliest: dict[str, dt.date] = {}
    problems: dict[int, str] = {}
    for index, day, zone in dated:
        first = earliest.get(zone)
        if first is None:
            first = earliest[zone] = previous_month_start(local_date(now, zone))
        if day < first:
            problems[index] = (
                f"The time is before {first:%Y-%m-%d}, the start of the brand's previous month "
                f"({zone}): older spend may only be recorded by a sender allowed to adjust."
            )
    if problems and not sender.may_adjust:
        raise DatedTooEarlyError(problems)


def totals_stay_positive(counted: Sequence[Counted], capped: Mapping[RollupKey, Opening]) -> None:
    """Refuse the first adjustment that takes a total below zero, in the events' order.

    `capped` holds the brand and budget rows as locked; the campaign rows
    are read here. Call it under those locks: a campaign's rows are only
    written under its brand's (spend.recording.ledger), so what is read stays true.
    """
    if all(amount >= 0 for _, _, amount in counted):
        return
    totals = {key: opening.amount for key, opening in capped.items()}
    totals.update(campaign_totals({key for _, keys, _ in counted for key in keys}))
    for index, keys, amount in counted:
        for key in keys:
            totals[key] = totals.get(key, ZERO) + amount
        if amount < 0:
            below = [key for key in keys if totals[key] < 0]
            if below:  # named by the narrowest: the campaign's day before its brand's month
                key = min(below, key=lambda k: (NARROWEST.index(k.scope), k.period != Period.DAY))
                raise AmountRefusedError({index: below_zero_message(key, totals[key])})


def campaign_totals(keys: set[RollupKey]) -> dict[RollupKey, Decimal]:
    """The stored totals of the campaign rows among `keys`."""
    wanted = Q()
    for key in keys:
        if key.scope == CAMPAIGN:
            wanted |= Q(campaign_id=key.owner, period=key.period, period_start=key.start)
    if not wanted:
        return {}
    # * the campaign rollup rows of the events' days and months
    rows = CampaignSpend.objects.filter(wanted).values_list(
        "campaign_id", "period", "period_start", "amount"
    )
    return {
        RollupKey(CAMPAIGN, owner, period, start): amount for owner, period, start, amount in rows
    }


def below_zero_message(key: RollupKey, total: Decimal) -> str:
    scope, owner, period, start = key
    when = _period_words(period, start)
    return (
        f"This adjustment would take the {scope}'s spend for {when} to {total} "
        f"({scope} {owner}); a refund cannot give back more than was spent in its period."
    )


def _period_words(period: str, start: dt.date) -> str:
    return start.isoformat() if period == Period.DAY else f"the month of {start:%Y-%m}"
