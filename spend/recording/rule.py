"""The arithmetic of recording spend, apart from the database.

Given the totals of each capped rollup row (brand and budget, day and month)
as they stood when the recorder locked them, and the events it is about to
count in order, this works out per event whether its campaign was serving,
and per rollup row what it gains: the amount, the number of events, the
overspend, the alerts that become due (50%, 80%, 100%, each with the total at
which it was reached); and which caps may now hold the wrong campaigns.

Definitions (the same in the single-event SQL of spend.recording.ledger):

- an event's campaign *was serving* when its status was active and none of
  the caps of the brand's current day and month that can hold it (and that
  the recorder has locked) stood at or above its cap when the event was
  applied: reaching a cap pauses every campaign under it in the same
  transaction, so later events find it paused, even later events of the same
  batch, and even when they are late events for an earlier day;
- a brand or budget row's *overspend* is the positive spend applied while the
  row already stood at or above its cap; a campaign row's is the positive
  spend applied while the campaign was not serving.

The database adds these deltas with atomic upserts; because the recorder
holds the row locks from the read until commit, the totals it reads are the
ones its deltas are added to.
"""

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import NamedTuple

from budgets.models import ALERT_THRESHOLDS

ZERO = Decimal("0")
HUNDRED = Decimal("100")
BRAND, BUDGET, CAMPAIGN = "brand", "budget", "campaign"


class RollupKey(NamedTuple):
    """One rollup row: its scope (BRAND, BUDGET or CAMPAIGN), owner's id, period and start."""

    scope: str
    owner: int
    period: str
    start: dt.date


@dataclass(frozen=True)
class Opening:
    """A capped rollup row as it stood before this transaction's events."""

    amount: Decimal = ZERO
    alerted_threshold: int = 0


NO_OPENING = Opening()
# What a tally starts from: the locked totals of the capped rows, and their caps
# (None: no cap at that level).
Openings = Mapping[RollupKey, Opening]
Caps = Mapping[RollupKey, Decimal | None]


@dataclass(frozen=True)
class Charge:
    """One event, as it touches the rollup rows of its brand, budget and campaign.

    `keys`: the rows the event counts in (its own local day and month).
    `campaign_active`: the campaign's status read under the recorder's locks.
    `watch`: the capped rows of the brand's *current* day and month that can
    hold this campaign and that the transaction has locked. They decide
    whether the campaign was serving, whatever day the event itself is for.
    `watch_complete`: `watch` holds every cap the campaign draws on.
    `budget_held`: the campaign carries a budget hold (of any reason).
    """

    keys: tuple[RollupKey, ...]
    amount: Decimal
    campaign_active: bool
    watch: tuple[RollupKey, ...]
    watch_complete: bool = False
    budget_held: bool = False


class Movement:
    """What one rollup row gains from the events of this transaction."""

    __slots__ = (
        "_levels",
        "alerted_threshold",
        "alerts",
        "amount",
        "cap",
        "closing",
        "events_count",
        "opening",
        "overspend",
    )

    def __init__(self, opening: Decimal, cap: Decimal | None, alerted_threshold: int = 0) -> None:
        self.opening = opening
        self.cap = cap
        self.alerted_threshold = alerted_threshold
        self.closing = opening
        self.amount = ZERO
        self.events_count = 0
        self.overspend = ZERO
        self.alerts: list[tuple[int, Decimal]] = []
        # The alert levels still due, lowest first.
        self._levels = (
            []
            if cap is None
            else [(t, alert_level(cap, t)) for t in ALERT_THRESHOLDS if t > alerted_threshold]
        )

    @property
    def at_cap(self) -> bool:
        return self.cap is not None and self.closing >= self.cap

    @property
    def crossed_cap(self) -> bool:
        """Whether the row went from under its cap to at/over it, or back."""
        if self.cap is None:
            return False
        return (self.opening >= self.cap) != (self.closing >= self.cap)

    def apply_capped(self, amount: Decimal) -> None:
        cap = self.cap
        if cap is not None and amount > 0 and self.closing >= cap:
            self.overspend += amount
        self.amount += amount
        self.closing += amount
        self.events_count += 1
        while self._levels and self.closing >= self._levels[0][1]:
            threshold, _ = self._levels.pop(0)
            self.alerts.append((threshold, self.closing))
            self.alerted_threshold = threshold

    def apply_campaign(self, amount: Decimal, *, was_serving: bool) -> None:
        if not was_serving and amount > 0:
            self.overspend += amount
        self.amount += amount
        self.closing += amount
        self.events_count += 1


def alert_level(cap: Decimal, threshold: int) -> Decimal:
    return cap * threshold / HUNDRED


class Movements(dict[RollupKey, Movement]):
    """The movements of a tally by row; a row's is created at its opening when first asked for.

    `openings` holds the locked totals of the capped rows (a row missing from
    it starts at zero), `caps` the cap of each brand and budget row (None: no
    cap at that level).
    """

    __slots__ = ("_caps", "_openings")

    def __init__(self, openings: Openings, caps: Caps) -> None:
        super().__init__()
        self._openings = openings
        self._caps = caps

    def movement_of(self, key: RollupKey) -> Movement:
        movement = self.get(key)
        if movement is None:
            opening = self._openings.get(key, NO_OPENING)
            movement = Movement(opening.amount, self._caps.get(key), opening.alerted_threshold)
            self[key] = movement
        return movement


@dataclass
class Tally:
    movements: dict[RollupKey, Movement]
    serving: list[bool]  # per charge: was its campaign serving
    # Capped rows whose campaigns may carry the wrong hold now: a cap crossed
    # (either way), spend for an active campaign although the cap is reached
    # (one created after the crossing), or for a held campaign none of whose
    # caps is reached (the first spend of a new local day, before the tick).
    unsettled: set[RollupKey]

    def holds_noted(
        self,
        charge: "Charge | ChargeGroup",
        watched_at_cap: Sequence[RollupKey],
    ) -> None:
        """The caps that may hold the charge's campaign wrongly, once it is applied.

        `watched_at_cap`: the rows of `charge.watch` standing at their caps now.
        """
        if charge.campaign_active:
            self.unsettled.update(watched_at_cap)
        elif charge.budget_held and charge.watch_complete and not watched_at_cap:
            self.unsettled.update(charge.watch)

    def crossings_noted(self) -> "Tally":
        self.unsettled.update(key for key, m in self.movements.items() if m.crossed_cap)
        return self


def tally(
    charges: Iterable[Charge],
    *,
    openings: Openings,
    caps: Caps,
) -> Tally:
    """Apply the charges in order: each row's movement, who was serving, what to enforce.

    `openings` and `caps` as Movements takes them.
    """
    movements = Movements(openings, caps)
    result = Tally(movements, [], set())
    movement_of = movements.movement_of
    # The rows of one campaign's day, found once: (capped, campaign) movements.
    plans: dict[tuple[RollupKey, ...], tuple[list[Movement], list[Movement]]] = {}
    for charge in charges:
        watched = [movement_of(key) for key in charge.watch]
        was_serving = charge.campaign_active and not any(m.at_cap for m in watched)
        result.serving.append(was_serving)
        plan = plans.get(charge.keys)
        if plan is None:
            plan = plans[charge.keys] = (
                [movement_of(key) for key in charge.keys if key.scope != CAMPAIGN],
                [movement_of(key) for key in charge.keys if key.scope == CAMPAIGN],
            )
        for movement in plan[0]:
            movement.apply_capped(charge.amount)
        for movement in plan[1]:
            movement.apply_campaign(charge.amount, was_serving=was_serving)
        result.holds_noted(
            charge, [key for key, m in zip(charge.watch, watched, strict=True) if m.at_cap]
        )
    return result.crossings_noted()


@dataclass(frozen=True)
class ChargeGroup:
    """The charges of one campaign and day, in order: keys, watch and state as in Charge.

    `total` and `positive` are the sum of `amounts` and of its positive ones.
    """

    keys: tuple[RollupKey, ...]
    amounts: Sequence[Decimal]
    total: Decimal
    positive: Decimal
    campaign_active: bool
    watch: tuple[RollupKey, ...]
    watch_complete: bool = False
    budget_held: bool = False


def _steady_at_cap(
    opening: Opening, cap: Decimal | None, rise: Decimal | None, falls: bool
) -> bool | None:
    """Whether a capped row stands at its cap through all its charges, if that is settled.

    `rise` is the sum of the positive amounts charged to the row (None: the
    row is only watched), `falls` whether any of its amounts is negative.
    None when the answer may change from one charge to the next, or an alert
    may become due: then the order of the charges matters.
    """
    if cap is None:
        return False
    if rise is None:
        return opening.amount >= cap  # nothing moves it
    due = [alert_level(cap, t) for t in ALERT_THRESHOLDS if t > opening.alerted_threshold]
    if opening.amount >= cap and not falls and not due:
        return True  # at its cap already, every alert raised, and it only climbs
    if opening.amount + rise < min([*due, cap]):
        return False  # even all its positive charges first cannot reach an alert or the cap
    return None


def _rises_and_falls(
    groups: Sequence[ChargeGroup],
) -> tuple[dict[RollupKey, Decimal], set[RollupKey]]:
    """Per row the sum of the positive amounts charged to it, and the rows charged a negative."""
    rise: dict[RollupKey, Decimal] = {}
    falls: set[RollupKey] = set()
    for group in groups:
        negative = group.positive != group.total
        for key in group.keys:
            rise[key] = rise.get(key, ZERO) + group.positive
            if negative:
                falls.add(key)
    return rise, falls


def tally_groups(
    groups: Sequence[ChargeGroup],
    *,
    openings: Openings,
    caps: Caps,
) -> Tally | None:
    """`tally` of the groups' charges in one pass per group, when their order cannot matter.

    That is when every capped row the groups touch or watch stays on one side
    of its cap throughout, with no alert becoming due: each stays under every
    level still due even if all its positive charges came first, or it
    stands at its cap already, all alerts raised, and only climbs. Then each
    group's campaign was serving, or not, for all its charges, and every
    movement is a sum. The result is `tally`'s for the charges in group
    order, except that `serving` has one flag per group. None otherwise:
    apply the charges one by one with `tally`.
    """
    rise, falls = _rises_and_falls(groups)
    at_cap: dict[RollupKey, bool] = {}
    for key in [*rise, *(k for g in groups for k in g.watch if k not in rise)]:
        if key in at_cap or key.scope == CAMPAIGN:
            continue
        steady = _steady_at_cap(
            openings.get(key, NO_OPENING), caps.get(key), rise.get(key), key in falls
        )
        if steady is None:
            return None
        at_cap[key] = steady
    return _summed(groups, Movements(openings, caps), at_cap=at_cap)


def _summed(
    groups: Sequence[ChargeGroup], movements: Movements, *, at_cap: dict[RollupKey, bool]
) -> Tally:
    """The movements of groups whose capped rows keep their side of the cap (at_cap)."""
    result = Tally(movements, [], set())
    for group in groups:
        for key in group.watch:
            movements.movement_of(key)  # a row only watched has a movement too, as in tally
        watched_at_cap = [key for key in group.watch if at_cap[key]]
        was_serving = group.campaign_active and not watched_at_cap
        result.serving.append(was_serving)
        for key in group.keys:
            m = movements.movement_of(key)
            m.amount += group.total
            m.closing += group.total
            m.events_count += len(group.amounts)
            over = not was_serving if key.scope == CAMPAIGN else at_cap[key]
            if over:
                m.overspend += group.positive
        result.holds_noted(group, watched_at_cap)
    return result.crossings_noted()


def sorted_keys(keys: Iterable[RollupKey]) -> list[RollupKey]:
    """The one lock order every recorder follows: by owner, period, then start."""
    return sorted(keys, key=lambda k: (k.owner, k.period, k.start))


def locking_order(
    capped: Iterable[RollupKey],
) -> tuple[list[RollupKey], list[RollupKey]]:
    """The capped rows to lock, brand rows then budget rows, each in sorted_keys order."""
    keys = list(capped)
    return (
        sorted_keys(k for k in keys if k.scope == BRAND),
        sorted_keys(k for k in keys if k.scope == BUDGET),
    )
