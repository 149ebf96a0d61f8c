"""A paused campaign's page and every campaign list say when it serves again."""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.test import Client

from budgets.models import Period
from budgets.tests.factories import BrandFactory
from campaigns.models import BudgetHold
from campaigns.tests.factories import CampaignFactory
from spend.tests.factories import BrandSpendFactory

pytestmark = pytest.mark.django_db

# 23:30 in Paris on Monday 9 March 2026.
NOW = dt.datetime(2026, 3, 9, 22, 30, tzinfo=dt.UTC)


@time_machine.travel(NOW, tick=False)
def test_a_campaign_held_by_the_daily_cap_serves_when_the_new_day_opens(
    staff_client: Client,
) -> None:
    brand = BrandFactory.create(timezone="Europe/Paris", daily_budget=Decimal("100"))
    BrandSpendFactory.create(brand=brand, period_start=dt.date(2026, 3, 9), amount=100)
    held = CampaignFactory.create(brand=brand, budget_hold=BudgetHold.BRAND_DAILY_BUDGET)
    by_hand = CampaignFactory.create(brand=brand, enabled=False)

    page = staff_client.get(held.get_absolute_url()).content.decode()
    listed = staff_client.get(f"/campaigns/?brand={brand.pk}").content.decode()
    brand_page = staff_client.get(brand.get_absolute_url()).content.decode()

    expected = "Serves again from 00:00 CET, when the new day opens"
    assert expected in page
    assert 'data-next-serving="2026-03-09T23:00:00+00:00"' in page
    for body in (listed, brand_page):
        assert expected in body
        assert "Needs a person: paused by hand" in body
    assert "Needs a person" in staff_client.get(by_hand.get_absolute_url()).content.decode()


@time_machine.travel(NOW, tick=False)
def test_the_campaign_page_reads_the_month_too_when_both_caps_are_spent(
    staff_client: Client,
) -> None:
    brand = BrandFactory.create(
        timezone="Europe/Paris", daily_budget=Decimal("100"), monthly_budget=Decimal("300")
    )
    BrandSpendFactory.create(brand=brand, period_start=dt.date(2026, 3, 9), amount=100)
    BrandSpendFactory.create(
        brand=brand, period=Period.MONTH, period_start=dt.date(2026, 3, 1), amount=300
    )
    # The stored hold names one cap; the page reads both.
    held = CampaignFactory.create(brand=brand, budget_hold=BudgetHold.BRAND_DAILY_BUDGET)

    page = staff_client.get(held.get_absolute_url()).content.decode()

    assert "Serves again from 1 Apr, when the new month opens" in page


@time_machine.travel(NOW, tick=False)
def test_a_serving_campaign_says_nothing_of_serving_again(staff_client: Client) -> None:
    campaign = CampaignFactory.create(brand=BrandFactory.create(timezone="Europe/Paris"))

    page = staff_client.get(campaign.get_absolute_url()).content.decode()

    assert "Serves again" not in page
    assert "Needs a person" not in page
