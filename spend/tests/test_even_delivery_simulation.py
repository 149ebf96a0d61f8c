"""A simulated week, standard against accelerated delivery, on the simulate_spend engine.

Two brands with the same caps, the same campaign (07:00-23:00 every day, in
Paris) and the same traffic. On every day that reaches the daily cap, the
standard brand reaches it after at least 85% of its serving time has
passed, the accelerated one earlier; neither goes past the cap by more than
the event that crossed it. The run's report says the same.
"""

import datetime as dt
from collections import defaultdict
from decimal import Decimal

import pytest

from budgets.models import Brand, Delivery, Period
from budgets.periods import zone
from budgets.tests.factories import BrandFactory
from campaigns.models import ALL_DAYS_MASK
from campaigns.tests.factories import CampaignFactory, DaypartFactory
from spend.daily_caps import median_local_time
from spend.models import BrandSpend, SpendEvent
from spend.simulation.engine import SimulationOptions, Simulator
from spend.simulation.report import simulation_summary

PARIS = "Europe/Paris"
OPENS, CLOSES = dt.time(7), dt.time(23)
SERVING = dt.timedelta(hours=16)
DAILY_CAP = Decimal("150.00")


def _brand(name: str, delivery: str) -> Brand:
    brand = BrandFactory.create(
        name=name,
        timezone=PARIS,
        daily_budget=DAILY_CAP,
        monthly_budget=Decimal("10000.00"),
        delivery=delivery,
    )
    campaign = CampaignFactory.create(brand=brand, name="all week")
    DaypartFactory.create(campaign=campaign, days=ALL_DAYS_MASK, start_time=OPENS, end_time=CLOSES)
    return brand


def _crossings(brand: Brand) -> dict[dt.date, tuple[dt.datetime, Decimal]]:
    """Each capped day's crossing event (instant, amount), read from the ledger in Python."""
    by_day: dict[dt.date, list[tuple[dt.datetime, int, Decimal]]] = defaultdict(list)
    for occurred, pk, amount, day in SpendEvent.objects.filter(brand=brand).values_list(
        "occurred_at", "id", "amount", "local_date"
    ):
        by_day[day].append((occurred, pk, amount))
    crossings = {}
    for day, events in by_day.items():
        total = Decimal(0)
        for occurred, _, amount in sorted(events):
            total += amount
            if total >= DAILY_CAP:
                crossings[day] = (occurred, amount)
                break
    return crossings


def _serving_share(instant: dt.datetime) -> float:
    local = instant.astimezone(zone(PARIS))
    opened = dt.datetime.combine(local.date(), OPENS, tzinfo=zone(PARIS))
    return (local - opened) / SERVING


@pytest.mark.slow
@pytest.mark.django_db
def test_standard_delivery_reaches_the_cap_late_in_the_day_and_accelerated_early() -> None:
    standard = _brand("Even", Delivery.STANDARD)
    accelerated = _brand("Fast", Delivery.ACCELERATED)
    options = SimulationOptions(
        start=dt.datetime(2026, 5, 4, 0, 0, tzinfo=dt.UTC),  # a Monday, no clock change
        end=dt.datetime(2026, 5, 11, 0, 0, tzinfo=dt.UTC),
        rate_per_hour=10,
        retry_ratio=0.02,
        late_ratio=0.0,
        tick_minutes=5,
        seed=14,
        run_id="even",
        brand_ids=frozenset({standard.pk, accelerated.pk}),
    )
    stats = Simulator(options).run()

    even, fast = _crossings(standard), _crossings(accelerated)
    assert len(fast) >= 6, "the traffic should reach the cap on most days"
    assert len(even) >= 5, "standard delivery should still reach the cap on most days"
    for day, (instant, _) in even.items():
        assert _serving_share(instant) >= 0.85, (day, instant)
        if day in fast:
            assert fast[day][0] < instant, (day, fast[day], instant)
    assert all(_serving_share(instant) < 0.85 for instant, _ in fast.values()), fast

    # The hard cap held at the crossing event for both.
    for brand, crossings in ((standard, even), (accelerated, fast)):
        for row in BrandSpend.objects.filter(brand=brand, period=Period.DAY):
            assert row.overspend == 0, row
            if row.period_start in crossings:
                assert row.amount - DAILY_CAP < crossings[row.period_start][1], row
            else:
                assert row.amount < DAILY_CAP, row

    # The run's report: days at the cap and the median local time reached.
    summary = simulation_summary(stats=stats, options=options, after_change_id=0)
    reported = {row.brand: row for row in summary.daily_caps}
    for brand, crossings in ((standard, even), (accelerated, fast)):
        caps = reported[brand.name]
        median = median_local_time([instant for instant, _ in crossings.values()], PARIS)
        assert caps.days == 8  # 4 May 02:00 to 11 May 02:00 in Paris
        assert (caps.days_capped, caps.median_capped_at) == (len(crossings), f"{median:%H:%M}")
    assert "Days at the daily cap" in summary.as_text()
    assert summary.pauses.get("brand_daily_pacing", 0) > 0
