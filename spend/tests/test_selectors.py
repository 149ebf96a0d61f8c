"""Current-period totals and the status overview, per brand-local day."""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from budgets.models import Budget, Period
from budgets.tests.factories import BrandFactory, BudgetFactory
from campaigns.models import Campaign
from campaigns.tests.factories import CampaignFactory
from spend.selectors import (
    brand_current_totals,
    budget_current_totals,
    campaign_current_standing,
    campaign_current_totals,
    overspend_list,
    status_overview,
)
from spend.services import spend_record
from spend.tests.factories import BrandSpendFactory, BudgetSpendFactory, CampaignSpendFactory

pytestmark = pytest.mark.django_db

# 2026-03-10 20:00 UTC: already the 11th in Kolkata (+05:30), still the 10th in New York.
NOW = dt.datetime(2026, 3, 10, 20, 0, tzinfo=dt.UTC)


def test_brand_totals_use_each_brands_own_today() -> None:
    kolkata = BrandFactory.create(timezone="Asia/Kolkata")
    new_york = BrandFactory.create(timezone="America/New_York")
    for brand, day, amount in [
        (kolkata, dt.date(2026, 3, 11), "5"),
        (kolkata, dt.date(2026, 3, 10), "70"),
        (new_york, dt.date(2026, 3, 10), "9"),
        (new_york, dt.date(2026, 3, 11), "1000"),
    ]:
        BrandSpendFactory.create(
            brand=brand, period=Period.DAY, period_start=day, amount=Decimal(amount)
        )
    BrandSpendFactory.create(
        brand=kolkata, period=Period.MONTH, period_start=dt.date(2026, 3, 1), amount=Decimal("75")
    )

    totals = brand_current_totals([kolkata, new_york], now=NOW)

    assert totals[kolkata.pk].today == dt.date(2026, 3, 11)
    assert totals[kolkata.pk].daily_spend == Decimal("5")
    assert totals[kolkata.pk].monthly_spend == Decimal("75")
    assert totals[new_york.pk].daily_spend == Decimal("9")
    assert totals[new_york.pk].monthly_spend == Decimal("0")


def test_budget_and_campaign_totals_in_one_query_each() -> None:
    budgets = [BudgetFactory.create(brand=BrandFactory.create(timezone="Asia/Kolkata"))]
    budgets += BudgetFactory.create_batch(5)
    for budget in budgets:
        BudgetSpendFactory.create(budget=budget, period_start=dt.date(2026, 3, 10), amount=3)
        campaign = CampaignFactory.create(brand=budget.brand, budget=budget)
        CampaignSpendFactory.create(campaign=campaign, period_start=dt.date(2026, 3, 10), amount=2)
    loaded_budgets = list(Budget.objects.select_related("brand"))
    loaded_campaigns = list(Campaign.objects.select_related("brand"))
    with CaptureQueriesContext(connection) as queries:
        budget_totals = budget_current_totals(loaded_budgets, now=NOW)
        campaign_totals = campaign_current_totals(loaded_campaigns, now=NOW)
    # * budget rollups  * campaign rollups
    assert len(queries) == 2
    kolkata_budget = budgets[0].pk
    assert budget_totals[kolkata_budget].daily_spend == 0  # its today is the 11th
    assert budget_totals[budgets[1].pk].daily_spend == 3
    assert sorted(t.daily_spend for t in campaign_totals.values()) == [0, 2, 2, 2, 2, 2]


@time_machine.travel(NOW, tick=False)
def test_status_overview_counts_states_and_brands_over_their_caps() -> None:
    over_daily = BrandFactory.create(timezone="Asia/Kolkata", daily_budget=Decimal("10"))
    under = BrandFactory.create(timezone="America/New_York", daily_budget=Decimal("10"))
    BrandSpendFactory.create(
        brand=over_daily, period_start=dt.date(2026, 3, 11), amount=Decimal("10")
    )
    # Over the cap, but on a day that is not the brand's today.
    BrandSpendFactory.create(brand=under, period_start=dt.date(2026, 3, 11), amount=Decimal("50"))
    BrandSpendFactory.create(
        brand=under, period=Period.MONTH, period_start=dt.date(2026, 3, 1), amount=Decimal("3000")
    )
    CampaignFactory.create(brand=under)
    CampaignFactory.create(brand=under, enabled=False)
    held = CampaignFactory.create(brand=over_daily)
    Campaign.objects.filter(pk=held.pk).update(budget_hold="brand_daily_budget")

    with CaptureQueriesContext(connection) as queries:
        overview = status_overview(user=None)
    # * brands  * campaign states  * zones  * daily and monthly over-cap counts
    assert len(queries) == 4

    assert overview.total_brands == 2
    assert (overview.total_campaigns, overview.active_campaigns) == (3, 1)
    assert overview.paused_campaigns == 2
    assert overview.paused_by_reason == {"brand_daily_budget": 1, "manual": 1}
    assert (overview.over_daily_budget, overview.over_monthly_budget) == (1, 1)
    assert overview.server_time == NOW


@time_machine.travel(NOW, tick=False)
def test_brand_totals_give_overspend_and_remaining_never_below_zero() -> None:
    brand = BrandFactory.create(daily_budget=Decimal("10"), monthly_budget=Decimal("100"))
    campaign = CampaignFactory.create(brand=brand)
    for amount in ("8", "4", "1.5"):  # the cap is reached by the second event
        spend_record(campaign_id=campaign.pk, amount=Decimal(amount))

    with CaptureQueriesContext(connection) as queries:
        totals = brand_current_totals([brand], now=NOW)[brand.pk]

    # * the brand's rollups of its local today and month
    assert len(queries) == 1
    assert (totals.daily_spend, totals.daily_overspend) == (Decimal("13.5"), Decimal("1.5"))
    assert (totals.daily_remaining, totals.monthly_remaining) == (Decimal("0"), Decimal("86.5"))
    assert totals.monthly_overspend == 0


@time_machine.travel(NOW, tick=False)
def test_a_campaign_may_spend_the_least_of_what_its_brand_and_budget_have_left() -> None:
    brand = BrandFactory.create(daily_budget=Decimal("100"), monthly_budget=Decimal("1000"))
    budget = BudgetFactory.create(brand=brand, daily_limit=Decimal("30"), monthly_limit=None)
    pooled = CampaignFactory.create(brand=brand, budget=budget)
    alone = CampaignFactory.create(brand=brand)
    spend_record(campaign_id=pooled.pk, amount=Decimal("20"))
    spend_record(campaign_id=alone.pk, amount=Decimal("50"))
    loaded = list(Campaign.objects.select_related("brand", "budget__brand").order_by("id"))

    with CaptureQueriesContext(connection) as queries:
        standing = campaign_current_standing(loaded, now=NOW)

    # * campaign rollups  * brand rollups  * budget rollups
    assert len(queries) == 3
    assert standing[pooled.pk].daily_remaining == Decimal("10")  # the budget's 30 - 20
    assert standing[alone.pk].daily_remaining == Decimal("30")  # the brand's 100 - 70
    assert standing[pooled.pk].monthly_remaining == Decimal("930")  # no monthly limit on the pool
    assert standing[alone.pk].totals.daily_spend == Decimal("50")


@time_machine.travel(NOW, tick=False)
def test_overspend_lists_the_periods_where_spend_arrived_after_the_cap() -> None:
    brand = BrandFactory.create(name="Over", daily_budget=Decimal("10"))
    budget = BudgetFactory.create(brand=brand, name="Pool", daily_limit=Decimal("5"))
    campaign = CampaignFactory.create(brand=brand, budget=budget)
    calm = CampaignFactory.create(brand=BrandFactory.create(name="Calm"))
    for amount in ("6", "6", "1"):
        spend_record(campaign_id=campaign.pk, amount=Decimal(amount))
    spend_record(campaign_id=calm.pk, amount=Decimal("1"))

    with CaptureQueriesContext(connection) as queries:
        found = overspend_list(since=dt.date(2026, 3, 1))

    # * brand rollups with overspend  * budget rollups with overspend
    assert len(queries) == 2
    assert {(o.brand.name, o.budget.name if o.budget else None, o.overspend) for o in found} == {
        ("Over", None, Decimal("1")),  # the brand's 10 was reached by the second event
        ("Over", "Pool", Decimal("7")),  # the pool's 5 by the first
    }
    assert overspend_list(since=dt.date(2026, 3, 11)) == []
    assert overspend_list(since=dt.date(2026, 3, 1), brand_ids=[calm.brand_id]) == []
