"""spend.pacing: the figures read from the rollups, and the SQL twin of the status."""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from budgets.models import Brand, Period
from budgets.pacing import month_clock
from budgets.tests.factories import BrandFactory, BudgetFactory
from campaigns.tests.factories import CampaignFactory
from spend.pacing import brand_pacing, budget_pacing, with_pacing
from spend.selectors import local_todays_by_zone
from spend.tests.factories import BrandSpendFactory, BudgetSpendFactory, SpendEventFactory

pytestmark = pytest.mark.django_db

ZONES = ["UTC", "Europe/Paris", "Asia/Kolkata", "America/Los_Angeles", "Pacific/Kiritimati"]
# Around the turn of a month, the 2nd/3rd (judged from the 3rd), and Paris's DST day.
INSTANTS = [
    dt.datetime(2026, 3, 1, 3, 0, tzinfo=dt.UTC),
    dt.datetime(2026, 3, 2, 23, 30, tzinfo=dt.UTC),
    dt.datetime(2026, 3, 3, 12, 0, tzinfo=dt.UTC),
    dt.datetime(2026, 3, 29, 10, 0, tzinfo=dt.UTC),
    dt.datetime(2026, 3, 31, 22, 0, tzinfo=dt.UTC),  # midnight in Paris: the 1st begins
]
SHARES = ["0", "0.5", "0.89", "0.9", "1", "1.1", "1.11", "3"]


def _brands_at(now: dt.datetime) -> list[Brand]:
    """A brand per zone and share of its expected spend (0.9 and 1.1 on the thresholds)."""
    brands = []
    for tz in ZONES:
        clock = month_clock(now, tz)
        expected = Decimal("3100") * clock.month_share
        for share in SHARES:
            brand = BrandFactory.create(timezone=tz, monthly_budget=Decimal("3100"))
            BrandSpendFactory.create(
                brand=brand,
                period=Period.MONTH,
                period_start=clock.month,
                amount=(expected * Decimal(share)).quantize(Decimal("0.000001")),
            )
            brands.append(brand)
    return brands


@pytest.mark.parametrize("now", INSTANTS, ids=str)
def test_the_sql_status_and_percent_equal_the_pythons(now: dt.datetime) -> None:
    with time_machine.travel(now, tick=False):
        brands = _brands_at(now)
        figures = brand_pacing(brands)
        annotated = with_pacing(Brand.objects.all(), local_todays_by_zone())
        rows = annotated.values_list("pk", "pacing_status", "pacing_percent")  # type: ignore[misc]

        found = {pk: (status, percent) for pk, status, percent in rows}

    statuses = set()
    for brand in brands:
        pacing = figures[brand.pk]
        assert pacing is not None
        status, percent = found[brand.pk]
        assert status == pacing.status, (brand.timezone, brand.pk)
        if percent is None:  # the month's first instant: nothing expected yet
            assert pacing.month_pacing_percent is None
        else:
            assert percent.quantize(Decimal("0.01")) == pacing.month_pacing_percent
        if not month_clock(now, brand.timezone).judged:
            assert status == "on_pace"
        statuses.add(status)
    assert statuses == {"on_pace", "under", "over"}  # some zone is judged at every instant


@time_machine.travel(dt.datetime(2027, 1, 10, 12, 0, tzinfo=dt.UTC), tick=False)
@pytest.mark.parametrize("count", [2, 20])
def test_pacing_of_many_brands_runs_three_queries(count: int) -> None:
    brands = []
    for n in range(count):
        brand = BrandFactory.create(timezone=ZONES[n % len(ZONES)])
        campaign = CampaignFactory.create(brand=brand)
        BrandSpendFactory.create(brand=brand, period_start=dt.date(2027, 1, 9), amount=1)
        SpendEventFactory.create(campaign=campaign)
        brands.append(brand)

    with CaptureQueriesContext(connection) as queries:
        found = brand_pacing(brands)

    assert len(found) == count
    # * the day and month rollups of the brands' months  * their ledger's last hour
    # * their serving windows today
    assert len(queries) == 3


@time_machine.travel(dt.datetime(2027, 1, 10, 12, 0, tzinfo=dt.UTC), tick=False)
def test_budgets_without_a_monthly_limit_need_no_query() -> None:
    budgets = list(BudgetFactory.create_batch(3, monthly_limit=None))
    with CaptureQueriesContext(connection) as queries:
        found = budget_pacing(budgets)
    assert found == dict.fromkeys(b.pk for b in budgets)
    assert len(queries) == 0


@time_machine.travel(dt.datetime(2027, 1, 10, 12, 0, tzinfo=dt.UTC), tick=False)
def test_only_the_current_months_days_count() -> None:
    budget = BudgetFactory.create(monthly_limit=Decimal("3100"), daily_limit=None)
    # December's days are not January's run rate.
    for day in range(25, 32):
        BudgetSpendFactory.create(
            budget=budget, period_start=dt.date(2026, 12, day), amount=Decimal("500")
        )
    BudgetSpendFactory.create(budget=budget, period_start=dt.date(2027, 1, 9), amount=Decimal("70"))
    BudgetSpendFactory.create(
        budget=budget, period=Period.MONTH, period_start=dt.date(2027, 1, 1), amount=Decimal("70")
    )

    pacing = budget_pacing([budget])[budget.pk]

    assert pacing is not None
    assert pacing.month_projected == Decimal("285.00")  # 70 + 70 / 7 x 21.5
