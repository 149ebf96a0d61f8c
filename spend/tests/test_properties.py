"""Property-based tests of the rollup arithmetic (hypothesis).

Three angles: the accounting against a naive model written out longhand; the
same events in one transaction or in two giving the same result; and, on
the database, the one-statement SQL of single events against the batch path,
which must agree to the last cent on every rollup, flag and alert.
"""

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from budgets.models import Alert, Period
from budgets.tests.factories import BrandFactory, BudgetFactory
from campaigns.models import Campaign
from campaigns.tests.factories import CampaignFactory
from spend.accounting import Charge, Opening, RollupKey, tally
from spend.models import BrandSpend, BudgetSpend, CampaignSpend, SpendEvent, SpendKind
from spend.services import SpendInput, spend_record, spend_record_batch

DAY = dt.date(2026, 3, 10)
MONTH = dt.date(2026, 3, 1)
BRAND_DAY: RollupKey = ("brand", 1, Period.DAY, DAY)
BRAND_MONTH: RollupKey = ("brand", 1, Period.MONTH, MONTH)
BUDGET_DAY: RollupKey = ("budget", 7, Period.DAY, DAY)
CAMPAIGN_DAY: RollupKey = ("campaign", 3, Period.DAY, DAY)
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


# --- on the database: single events (one SQL statement each) against one batch ------

NOW = dt.datetime(2026, 3, 10, 15, 0, tzinfo=dt.UTC)
WHEN = {
    "now": NOW,
    "yesterday": NOW - dt.timedelta(days=1),
    "last month": NOW - dt.timedelta(days=20),
}

history = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=2),  # which campaign
        st.one_of(
            st.integers(min_value=-3, max_value=6).filter(bool).map(lambda n: Decimal(n * 5)),
            st.decimals(min_value=Decimal("-15"), max_value=Decimal("30"), places=6).filter(bool),
        ),
        st.sampled_from(list(WHEN)),
    ),
    min_size=1,
    max_size=12,
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
@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(events=history)
def test_single_events_and_one_batch_leave_the_same_rollups_flags_and_alerts(
    events: list[tuple[int, Decimal, str]],
) -> None:
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
