"""Budget holds follow the caps of each brand's current local day and month."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from budgets.models import Period
from budgets.tests.factories import BrandFactory, BudgetFactory
from campaigns.models import Campaign, CampaignStatusChange
from campaigns.tests.factories import CampaignFactory
from spend.enforcement import budget_holds_reconcile
from spend.tests.factories import BrandSpendFactory, BudgetSpendFactory

pytestmark = pytest.mark.django_db

# 20:00 UTC on 10 March 2026 is already 11 March in Kolkata (+05:30).
NOW = dt.datetime(2026, 3, 10, 20, 0, tzinfo=dt.UTC)
KOLKATA_TODAY = dt.date(2026, 3, 11)


def _holds() -> dict[str, str | None]:
    return dict(Campaign.objects.values_list("name", "budget_hold"))


def test_brand_daily_cap_holds_every_campaign_of_the_brand() -> None:
    brand = BrandFactory.create(timezone="Asia/Kolkata", daily_budget=Decimal("100"))
    CampaignFactory.create(brand=brand, name="a")
    CampaignFactory.create(brand=brand, name="b")
    CampaignFactory.create(name="other brand")
    BrandSpendFactory.create(brand=brand, period_start=KOLKATA_TODAY, amount=Decimal("100"))

    changes = budget_holds_reconcile(now=NOW)

    assert len(changes) == 2
    assert _holds() == {"a": "brand_daily_budget", "b": "brand_daily_budget", "other brand": None}


def test_spend_on_a_day_that_is_not_the_brands_today_holds_nothing() -> None:
    brand = BrandFactory.create(timezone="America/New_York", daily_budget=Decimal("100"))
    CampaignFactory.create(brand=brand, name="a")
    # 11 March has begun in UTC-terms elsewhere, not yet in New York.
    BrandSpendFactory.create(brand=brand, period_start=dt.date(2026, 3, 11), amount=Decimal("500"))
    assert budget_holds_reconcile(now=NOW) == []
    assert _holds() == {"a": None}


def test_just_below_the_cap_holds_nothing() -> None:
    brand = BrandFactory.create(daily_budget=Decimal("100"))
    CampaignFactory.create(brand=brand, name="a")
    BrandSpendFactory.create(
        brand=brand, period_start=dt.date(2026, 3, 10), amount=Decimal("99.999999")
    )
    assert budget_holds_reconcile(now=NOW) == []


def test_monthly_cap_takes_precedence_over_daily() -> None:
    brand = BrandFactory.create(daily_budget=Decimal("10"), monthly_budget=Decimal("50"))
    CampaignFactory.create(brand=brand, name="a")
    BrandSpendFactory.create(brand=brand, period_start=dt.date(2026, 3, 10), amount=Decimal("10"))
    BrandSpendFactory.create(
        brand=brand, period=Period.MONTH, period_start=dt.date(2026, 3, 1), amount=Decimal("50")
    )
    budget_holds_reconcile(now=NOW)
    assert _holds() == {"a": "brand_monthly_budget"}


def test_shared_budget_limit_holds_only_its_campaigns() -> None:
    brand = BrandFactory.create()
    budget = BudgetFactory.create(brand=brand, daily_limit=Decimal("20"), monthly_limit=None)
    CampaignFactory.create(brand=brand, budget=budget, name="in pool")
    CampaignFactory.create(brand=brand, name="outside pool")
    BudgetSpendFactory.create(budget=budget, period_start=dt.date(2026, 3, 10), amount=20)

    budget_holds_reconcile(now=NOW)

    assert _holds() == {"in pool": "budget_daily_limit", "outside pool": None}


def test_a_new_day_lifts_the_daily_hold_but_not_a_manual_pause() -> None:
    brand = BrandFactory.create(daily_budget=Decimal("10"))
    CampaignFactory.create(brand=brand, name="held")
    CampaignFactory.create(brand=brand, name="manual", enabled=False)
    BrandSpendFactory.create(brand=brand, period_start=dt.date(2026, 3, 10), amount=Decimal("10"))
    budget_holds_reconcile(now=NOW)

    next_day = NOW + dt.timedelta(hours=5)
    budget_holds_reconcile(now=next_day)

    states = dict(Campaign.objects.values_list("name", "pause_reason"))
    assert states == {"held": None, "manual": "manual"}
    resumed = CampaignStatusChange.objects.filter(new_status="active").get()
    assert resumed.old_reason == "brand_daily_budget"


def test_reconcile_scoped_to_brands_leaves_others_alone() -> None:
    one = BrandFactory.create(daily_budget=Decimal("1"))
    two = BrandFactory.create(daily_budget=Decimal("1"))
    CampaignFactory.create(brand=one, name="one")
    CampaignFactory.create(brand=two, name="two")
    for brand in (one, two):
        BrandSpendFactory.create(brand=brand, period_start=dt.date(2026, 3, 10), amount=1)

    budget_holds_reconcile(brand_ids={one.pk}, now=NOW)

    assert _holds() == {"one": "brand_daily_budget", "two": None}


@pytest.mark.parametrize("brands", [2, 25])
def test_nothing_to_change_costs_two_queries(brands: int) -> None:
    for _ in range(brands):
        CampaignFactory.create_batch(2, brand=BrandFactory.create(timezone="Asia/Kolkata"))
    with CaptureQueriesContext(connection) as queries:
        assert budget_holds_reconcile(now=NOW) == []
    # * savepoint  * the zones in use  * the differences  * release savepoint
    assert len(queries) == 4
