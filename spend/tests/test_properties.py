"""Property-based tests of the rollup arithmetic (hypothesis).

Three angles: the accounting against a naive model written out longhand; the
same events in one transaction or in two giving the same result; and, on
the database, the one-statement SQL of single events against the batch path,
which must agree to the last cent on every rollup, flag and alert.
"""

import datetime as dt
from collections.abc import Iterator, Sequence
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.db.models import Min
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from budgets.models import Alert, Period
from budgets.tests.factories import BrandFactory, BudgetFactory
from campaigns.models import Campaign
from campaigns.tests.factories import CampaignFactory
from spend.models import BrandSpend, BudgetSpend, CampaignSpend, SpendEvent, SpendKind
from spend.recording import batch as batch_path
from spend.recording.rule import (
    Charge,
    ChargeGroup,
    Movement,
    Opening,
    RollupKey,
    Tally,
    tally,
    tally_groups,
)
from spend.services import (
    SpendBatchInvalid,
    SpendInput,
    SpendInvalid,
    spend_record,
    spend_record_batch,
)

DAY = dt.date(2026, 3, 10)
MONTH = dt.date(2026, 3, 1)
BRAND_DAY: RollupKey = RollupKey("brand", 1, Period.DAY, DAY)
BRAND_MONTH: RollupKey = RollupKey("brand", 1, Period.MONTH, MONTH)
BUDGET_DAY: RollupKey = RollupKey("budget", 7, Period.DAY, DAY)
CAMPAIGN_DAY: RollupKey = RollupKey("campaign", 3, Period.DAY, DAY)
KEYS = (BRAND_DAY, BRAND_MONTH, BUDGET_DAY, CAMPAIGN_DAY)
CAPPED = KEYS[:3]

# Coarse amounts and caps (multiples of 5) make totals land exactly on a cap
# or an alert level, the boundaries that matter; fine ones keep the cents.
coarse = st.integers(min_value=-4, max_value=8).filter(bool).map(lambda n: Decimal(n * 5))
fine = st.decimals(min_value=Decimal("-20"), max_value=Decimal("40"), places=6).filter(bool)
amounts = st.one_of(coarse, fine)
caps = st.one_of(
    st.integers(min_value=1, max_value=30).map(lambda n: Decimal(n * 5)),
    st.decimals(min_value=Decimal("0.01"), max_value=Decimal("150"), places=2),
)
openings = st.tuples(
    st.one_of(
        st.integers(min_value=0, max_value=40).map(lambda n: Decimal(n * 5)),
        st.decimals(min_value=Decimal("0"), max_value=Decimal("200"), places=6),
    ),
    st.sampled_from([0, 50, 80, 100]),
).map(lambda t: Opening(*t))


def naive(
    events: list[tuple[Decimal, bool]],
    opening: dict[RollupKey, Opening],
    cap: dict[RollupKey, Decimal | None],
) -> tuple[
    dict[RollupKey, Decimal], dict[RollupKey, Decimal], list[tuple[RollupKey, int]], list[bool]
]:
    """Longhand: totals, overspend, alerts raised and who was serving, event by event."""
    total = {key: opening.get(key, Opening()).amount for key in KEYS}
    over = dict.fromkeys(KEYS, Decimal(0))
    raised = {key: opening.get(key, Opening()).alerted_threshold for key in KEYS}
    alerts, serving = [], []
    for amount, active in events:
        reached = [k for k in CAPPED if cap[k] is not None and total[k] >= cap[k]]  # type: ignore[operator]
        serving.append(active and not reached)
        for key in KEYS:
            if amount > 0 and (key in reached or (key == CAMPAIGN_DAY and not serving[-1])):
                over[key] += amount
            total[key] += amount
            for threshold in (50, 80, 100):
                limit = cap.get(key)
                if (
                    limit is not None
                    and threshold > raised[key]
                    and total[key] * 100 >= limit * threshold
                ):
                    raised[key] = threshold
                    alerts.append((key, threshold))
    return total, over, alerts, serving


def _charges(events: list[tuple[Decimal, bool]]) -> list[Charge]:
    return [Charge(KEYS, amount, active, CAPPED, watch_complete=True) for amount, active in events]


@given(
    events=st.lists(st.tuples(amounts, st.booleans()), max_size=30),
    opening=st.fixed_dictionaries(dict.fromkeys(CAPPED, openings)),
    brand_cap=caps,
    month_cap=caps,
    budget_cap=st.none() | caps,
)
def test_tally_agrees_with_the_longhand_model(
    events: list[tuple[Decimal, bool]],
    opening: dict[RollupKey, Opening],
    brand_cap: Decimal,
    month_cap: Decimal,
    budget_cap: Decimal | None,
) -> None:
    cap: dict[RollupKey, Decimal | None] = {
        BRAND_DAY: brand_cap,
        BRAND_MONTH: month_cap,
        BUDGET_DAY: budget_cap,
    }
    result = tally(_charges(events), openings=opening, caps=cap)
    total, over, alerts, serving = naive(events, opening, cap)

    assert result.serving == serving
    for key, movement in result.movements.items():
        assert movement.closing == total[key]
        assert movement.amount == sum((a for a, _ in events), Decimal(0))
        assert movement.overspend == over[key]
        assert [t for t, _ in movement.alerts] == [t for k, t in alerts if k == key]


@given(
    events=st.lists(st.tuples(amounts, st.booleans()), min_size=1, max_size=30),
    split=st.integers(min_value=0, max_value=30),
    brand_cap=caps,
)
def test_one_transaction_or_two_give_the_same_totals_overspend_and_alerts(
    events: list[tuple[Decimal, bool]], split: int, brand_cap: Decimal
) -> None:
    cap: dict[RollupKey, Decimal | None] = {
        BRAND_DAY: brand_cap,
        BRAND_MONTH: None,
        BUDGET_DAY: None,
    }
    whole = tally(_charges(events), openings={}, caps=cap)
    first = tally(_charges(events[:split]), openings={}, caps=cap)
    carried = {key: Opening(m.closing, m.alerted_threshold) for key, m in first.movements.items()}
    second = tally(_charges(events[split:]), openings=carried, caps=cap)

    assert first.serving + second.serving == whole.serving
    for key in (BRAND_DAY, CAMPAIGN_DAY):
        parts = [t.movements[key] for t in (first, second) if key in t.movements]
        assert sum((m.amount for m in parts), Decimal(0)) == whole.movements[key].amount
        assert sum((m.overspend for m in parts), Decimal(0)) == whole.movements[key].overspend
        assert [a for m in parts for a in m.alerts] == whole.movements[key].alerts


# --- a batch's charges summed per campaign-day against tally, charge by charge -------

YESTERDAY = dt.date(2026, 3, 9)
LAST_MONTH = dt.date(2026, 2, 20)
DAYS = (DAY, YESTERDAY, LAST_MONTH)
# Campaigns 3 and 4 draw from budget 7, campaign 5 from none; brand 1 (today: DAY).
POOLED = {3: 7, 4: 7, 5: None}


def _capped(campaign: int, day: dt.date) -> tuple[RollupKey, ...]:
    month = day.replace(day=1)
    keys: tuple[RollupKey, ...] = (
        RollupKey("brand", 1, Period.DAY, day),
        RollupKey("brand", 1, Period.MONTH, month),
    )
    budget = POOLED[campaign]
    if budget is not None:
        keys += (
            RollupKey("budget", budget, Period.DAY, day),
            RollupKey("budget", budget, Period.MONTH, month),
        )
    return keys


def _keys(campaign: int, day: dt.date) -> tuple[RollupKey, ...]:
    month = day.replace(day=1)
    return (
        *_capped(campaign, day),
        RollupKey("campaign", campaign, Period.DAY, day),
        RollupKey("campaign", campaign, Period.MONTH, month),
    )


steady_amounts = st.one_of(
    st.integers(min_value=-2, max_value=8).filter(bool).map(lambda n: Decimal(n * 5)),
    st.decimals(min_value=Decimal("-3"), max_value=Decimal("30"), places=6).filter(bool),
)
cap_values = st.one_of(st.sampled_from([Decimal(c) for c in (50, 1000, 5000)]), caps)
# Where the rows stand against their caps: far under, over, or anywhere (near an alert).
standings = st.sampled_from([("0", "0.1"), ("1", "1.5"), ("0", "0.1", "0.45", "0.79", "0.99", "1")])


@st.composite
def batches(draw: st.DrawFn) -> tuple[list[tuple[int, dt.date, Decimal]], dict[str, Any]]:
    """Events of three campaigns over three days, and the rows and states they meet."""
    events = draw(
        st.lists(
            st.tuples(st.sampled_from(sorted(POOLED)), st.sampled_from(DAYS), steady_amounts),
            min_size=1,
            max_size=25,
        )
    )
    cap_by_level: dict[tuple[str, str], Decimal | None] = {
        ("brand", Period.DAY): draw(cap_values),
        ("brand", Period.MONTH): draw(cap_values),
        ("budget", Period.DAY): draw(st.none() | cap_values),
        ("budget", Period.MONTH): draw(st.none() | cap_values),
    }
    locked = {key for c, d, _ in events for key in _capped(c, d)}
    if draw(st.booleans()):  # rows locked for events that turn out to be replays: watched only
        locked.update(key for c in POOLED for key in _capped(c, DAY))
    world: dict[str, Any] = {"caps": {}, "openings": {}}
    standing = st.sampled_from(draw(standings)).map(Decimal)
    for key in sorted(locked):
        cap = world["caps"][key] = cap_by_level[(key[0], key[2])]
        amount = draw(standing) * (cap or Decimal(100))
        alerted = draw(st.sampled_from([0, 50, 80, 100, 100, 100]))
        world["openings"][key] = Opening(amount, alerted)
    world["states"] = {c: (draw(st.booleans()), draw(st.booleans())) for c in POOLED}
    return events, world


def _movement_fields(movement: Movement) -> tuple[object, ...]:
    m = movement
    return (m.opening, m.cap, m.alerted_threshold, m.closing, m.amount, m.events_count,
            m.overspend, m.alerts)  # fmt: skip


def _in_groups(
    events: list[tuple[int, dt.date, Decimal]], world: dict[str, Any]
) -> tuple[list[Charge], list[ChargeGroup], list[int]]:
    """The charges as the batch recorder makes them: one by one, and per campaign-day."""
    charges: list[Charge] = []
    by_day: dict[tuple[int, dt.date], tuple[Charge, list[Decimal]]] = {}
    group_of: list[int] = []
    for campaign, day, amount in events:
        current = _capped(campaign, DAY)
        watch = tuple(key for key in current if key in world["caps"])
        active, held = world["states"][campaign]
        charge = Charge(
            _keys(campaign, day), amount, active, watch, len(watch) == len(current), held
        )
        charges.append(charge)
        if (campaign, day) not in by_day:
            by_day[(campaign, day)] = (charge, [])
        group_of.append(list(by_day).index((campaign, day)))
        by_day[(campaign, day)][1].append(amount)
    groups = [
        charge_group(
            first.keys,
            amounts,
            campaign_active=first.campaign_active,
            watch=first.watch,
            watch_complete=first.watch_complete,
            budget_held=first.budget_held,
        )
        for first, amounts in by_day.values()
    ]
    return charges, groups, group_of


def charge_group(
    keys: tuple[RollupKey, ...],
    amounts: Sequence[Decimal],
    *,
    campaign_active: bool,
    watch: tuple[RollupKey, ...],
    watch_complete: bool = False,
    budget_held: bool = False,
) -> ChargeGroup:
    """A ChargeGroup with its sums worked out, as the copy path builds one per campaign-day."""
    return ChargeGroup(
        keys,
        amounts,
        sum(amounts, Decimal(0)),
        sum((a for a in amounts if a > 0), Decimal(0)),
        campaign_active,
        watch,
        watch_complete,
        budget_held,
    )


def _same_tally(one_by_one: Tally, summed: Tally, group_of: list[int]) -> None:
    assert [summed.serving[g] for g in group_of] == one_by_one.serving
    assert summed.unsettled == one_by_one.unsettled
    assert list(summed.movements) == list(one_by_one.movements)
    for key, movement in one_by_one.movements.items():
        assert _movement_fields(summed.movements[key]) == _movement_fields(movement), key


@settings(max_examples=400)
@given(batch=batches())
def test_charges_summed_per_campaign_day_give_the_tally_of_each_charge(
    batch: tuple[list[tuple[int, dt.date, Decimal]], dict[str, Any]],
) -> None:
    events, world = batch
    charges, groups, group_of = _in_groups(events, world)
    openings, caps_ = world["openings"], world["caps"]

    summed = tally_groups(groups, openings=openings, caps=caps_)

    one_by_one = tally(charges, openings=openings, caps=caps_)
    event("summed" if summed is not None else "one by one")
    if summed is not None:
        event("some not serving" if not all(summed.serving) else "all serving")
        _same_tally(one_by_one, summed, group_of)


def _far_from_caps(**states: tuple[bool, bool]) -> dict[str, Any]:
    keys = sorted({key for c in POOLED for d in DAYS for key in _capped(c, d)})
    return {
        "caps": {key: Decimal(1000) for key in keys},
        "openings": {key: Opening(Decimal(100), 0) for key in keys},
        "states": {3: (True, False), 4: (True, False), 5: (True, False)}
        | {int(name[1:]): state for name, state in states.items()},
    }


def test_charges_far_from_every_cap_and_alert_are_summed() -> None:
    world = _far_from_caps(c4=(False, True), c5=(False, False))
    events = [(3, DAY, Decimal(5)), (4, DAY, Decimal(7)), (3, YESTERDAY, Decimal(-2)),
              (5, DAY, Decimal(1)), (3, DAY, Decimal("0.5"))]  # fmt: skip
    charges, groups, group_of = _in_groups(events, world)

    summed = tally_groups(groups, openings=world["openings"], caps=world["caps"])

    assert summed is not None
    assert summed.serving == [True, False, True, False]  # per campaign-day
    _same_tally(tally(charges, openings=world["openings"], caps=world["caps"]), summed, group_of)
    assert RollupKey("budget", 7, Period.DAY, DAY) in summed.unsettled  # campaign 4 may be released


def test_charges_for_a_brand_over_its_cap_are_summed_as_overspend() -> None:
    world = _far_from_caps()
    brand_day: RollupKey = RollupKey("brand", 1, Period.DAY, DAY)
    world["openings"][brand_day] = Opening(Decimal(1000), 100)
    events = [(3, DAY, Decimal(5)), (5, DAY, Decimal(1)), (3, YESTERDAY, Decimal(2))]
    charges, groups, group_of = _in_groups(events, world)

    summed = tally_groups(groups, openings=world["openings"], caps=world["caps"])

    assert summed is not None
    assert summed.serving == [False, False, False]
    assert summed.movements[brand_day].overspend == Decimal(6)
    assert brand_day in summed.unsettled  # active campaigns under a reached cap
    _same_tally(tally(charges, openings=world["openings"], caps=world["caps"]), summed, group_of)


@pytest.mark.parametrize(
    ("opening", "amounts"),
    [
        (Opening(Decimal(490), 0), [Decimal(5), Decimal(5)]),  # reaches the 50% alert
        (Opening(Decimal(995), 80), [Decimal(10), Decimal(-10)]),  # crosses, comes back
        (Opening(Decimal(1000), 80), [Decimal(1)]),  # over the cap, 100% not raised yet
        (Opening(Decimal(1000), 100), [Decimal(1), Decimal(-1)]),  # over it, a refund
    ],
)
def test_charges_whose_order_matters_are_left_to_tally(
    opening: Opening, amounts: list[Decimal]
) -> None:
    world = _far_from_caps()
    world["openings"][RollupKey("brand", 1, Period.DAY, DAY)] = opening
    _, groups, _ = _in_groups([(5, DAY, amount) for amount in amounts], world)
    assert tally_groups(groups, openings=world["openings"], caps=world["caps"]) is None


# --- on the database: single events (one SQL statement each) against one batch ------

NOW = dt.datetime(2026, 3, 10, 15, 0, tzinfo=dt.UTC)
WHEN = {
    "now": NOW,
    "yesterday": NOW - dt.timedelta(days=1),
    "last month": NOW - dt.timedelta(days=20),
}


def _refunds_within_spend(events: list[tuple[int, Decimal, str]]) -> list[tuple[int, Decimal, str]]:
    """The events less the adjustments that would give back more than their campaign's
    day had spent: those are refused (spend.recording.limits), by either path."""
    totals: dict[tuple[int, str], Decimal] = {}
    kept = []
    for which, amount, when in events:
        total = totals.get((which, when), Decimal(0)) + amount
        if total >= 0:
            totals[(which, when)] = total
            kept.append((which, amount, when))
    return kept


history = (
    st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=2),  # which campaign
            st.one_of(
                st.integers(min_value=-3, max_value=6).filter(bool).map(lambda n: Decimal(n * 5)),
                st.decimals(min_value=Decimal("-15"), max_value=Decimal("30"), places=6).filter(
                    bool
                ),
            ),
            st.sampled_from(list(WHEN)),
        ),
        min_size=1,
        max_size=12,
    )
    .map(_refunds_within_spend)
    .filter(bool)
)


@pytest.fixture
def frozen_now() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


def _world() -> list[Campaign]:
    brand = BrandFactory.create(daily_budget=Decimal("40"), monthly_budget=Decimal("90"))
    budget = BudgetFactory.create(brand=brand, daily_limit=Decimal("25"), monthly_limit=None)
    return [
        CampaignFactory.create(brand=brand, budget=budget),
        CampaignFactory.create(brand=brand, budget=budget),
        CampaignFactory.create(brand=brand),
    ]


def _inputs(events: list[tuple[int, Decimal, str]], world: list[Campaign]) -> list[SpendInput]:
    return [
        SpendInput(
            campaign_id=world[which].pk,
            amount=amount,
            occurred_at=WHEN[when],
            kind=SpendKind.SPEND if amount > 0 else SpendKind.ADJUSTMENT,
        )
        for which, amount, when in events
    ]


def _state(world: list[Campaign]) -> dict[str, Any]:
    brand, budget = world[0].brand, world[0].budget
    rollup = ("period", "period_start", "amount", "events_count", "overspend", "alerted_threshold")
    return {
        "brand": sorted(BrandSpend.objects.filter(brand=brand).values_list(*rollup)),
        "budget": sorted(BudgetSpend.objects.filter(budget=budget).values_list(*rollup)),
        "campaigns": [
            sorted(CampaignSpend.objects.filter(campaign=c).values_list(*rollup)) for c in world
        ],
        "serving": list(
            SpendEvent.objects.filter(brand=brand)
            .order_by("id")
            .values_list("campaign_was_serving", flat=True)
        ),
        "alerts": sorted(
            Alert.objects.filter(brand=brand).values_list(
                "scope", "period", "period_start", "threshold", "spend"
            )
        ),
        "holds": [Campaign.objects.get(pk=c.pk).pause_reason for c in world],
    }


@pytest.mark.django_db
@pytest.mark.usefixtures("frozen_now")
@pytest.mark.parametrize("copied", [False, True], ids=["insert", "copy"])
@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(events=history)
def test_single_events_and_one_batch_leave_the_same_rollups_flags_and_alerts(
    events: list[tuple[int, Decimal, str]], copied: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    if copied:  # however small, the batch takes the COPY path, written before the locks
        monkeypatch.setattr(batch_path, "COPY_MIN_EVENTS", 1)
    one_by_one, batched = _world(), _world()

    for item in _inputs(events, one_by_one):
        spend_record(
            campaign_id=item.campaign_id,
            amount=item.amount,
            occurred_at=item.occurred_at,
            kind=item.kind,
        )
    spend_record_batch(_inputs(events, batched))

    single, batch = _state(one_by_one), _state(batched)
    assert single == batch
    expected: dict[tuple[str, dt.date], Decimal] = {}
    for _, amount, when in events:
        day = WHEN[when].date()  # the brands keep UTC days
        for key in ((Period.DAY, day), (Period.MONTH, day.replace(day=1))):
            expected[key] = expected.get(key, Decimal(0)) + amount
    assert {(period, start): amount for period, start, amount, *_ in single["brand"]} == expected


# --- refunds: no period total below zero, and the rollups are the ledger's sums ---------

move = st.tuples(
    st.integers(min_value=0, max_value=2),  # which campaign
    st.one_of(
        st.integers(min_value=-6, max_value=8).filter(bool).map(lambda n: Decimal(n * 5)),
        st.decimals(min_value=Decimal("-25"), max_value=Decimal("30"), places=6).filter(bool),
    ),
    st.sampled_from(list(WHEN)),
)
# Each step is one event (spend_record) or a batch of them (spend_record_batch).
steps = st.lists(st.lists(move, min_size=1, max_size=4), min_size=1, max_size=6)


def _accepted(step: list[tuple[int, Decimal, str]], totals: dict[tuple[int, str], Decimal]) -> bool:
    """Longhand: a step is refused when one of its adjustments, in order, takes its
    campaign's day below zero (its budget's and brand's totals are sums of those)."""
    after = dict(totals)
    for which, amount, when in step:
        after[(which, when)] = after.get((which, when), Decimal(0)) + amount
        if amount < 0 and after[(which, when)] < 0:
            return False
    totals.update(after)
    return True


def _ledger_sums(world: list[Campaign]) -> dict[str, dict[tuple[int, str, dt.date], Any]]:
    """Each owner's (amount, events) per local day and month, summed from the ledger."""
    sums: dict[str, dict[tuple[int, str, dt.date], Any]] = {
        "brand": {},
        "budget": {},
        "campaign": {},
    }
    events = SpendEvent.objects.filter(brand=world[0].brand).values_list(
        "brand_id", "budget_id", "campaign_id", "amount", "local_date"
    )
    for brand, budget, campaign, amount, day in events:
        for scope, owner in (("brand", brand), ("budget", budget), ("campaign", campaign)):
            if not owner:  # a campaign without a shared budget
                continue
            for period, start in ((Period.DAY, day), (Period.MONTH, day.replace(day=1))):
                found = sums[scope].get((owner, period, start), (Decimal(0), 0))
                sums[scope][(owner, period, start)] = (found[0] + amount, found[1] + 1)
    return sums


def _rollups(world: list[Campaign]) -> dict[str, dict[tuple[int, str, dt.date], Any]]:
    brand, budget = world[0].brand, world[0].budget
    columns = ("period", "period_start", "amount", "events_count")
    tables: list[tuple[str, Any, str]] = [
        ("brand", BrandSpend.objects.filter(brand=brand), "brand_id"),
        ("budget", BudgetSpend.objects.filter(budget=budget), "budget_id"),
        ("campaign", CampaignSpend.objects.filter(campaign__in=world), "campaign_id"),
    ]
    return {
        scope: {
            (owner, period, start): (amount, count)
            # A row may exist at zero events: recorders create the rows they lock.
            for owner, period, start, amount, count in rows.filter(events_count__gt=0).values_list(
                owner_field, *columns
            )
        }
        for scope, rows, owner_field in tables
    }


@pytest.mark.django_db
@pytest.mark.usefixtures("frozen_now")
@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(steps=steps)
def test_no_period_total_goes_below_zero_and_the_rollups_are_the_ledgers_sums(
    steps: list[list[tuple[int, Decimal, str]]],
) -> None:
    world = _world()
    campaign_days: dict[tuple[int, str], Decimal] = {}
    for step in steps:
        expected = _accepted(step, campaign_days)
        inputs = _inputs(step, world)
        try:
            if len(inputs) == 1:
                (one,) = inputs
                spend_record(
                    campaign_id=one.campaign_id,
                    amount=one.amount,
                    occurred_at=one.occurred_at,
                    kind=one.kind,
                )
            else:
                spend_record_batch(inputs)
            accepted = True
        except (SpendInvalid, SpendBatchInvalid):
            accepted = False
        event("refused" if not accepted else "accepted")
        assert accepted == expected
        lowest = [
            model.objects.aggregate(lowest=Min("amount"))["lowest"]
            for model in (BrandSpend, BudgetSpend, CampaignSpend)
        ]
        assert all(amount is None or amount >= 0 for amount in lowest)
    assert _rollups(world) == _ledger_sums(world)
