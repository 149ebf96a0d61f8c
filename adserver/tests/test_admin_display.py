"""The admin's lists speak the brand's language: labels, money with its currency, local times."""

import datetime as dt
from decimal import Decimal

import pytest
from django.test import Client

from budgets.models import Brand
from budgets.tests.factories import AlertFactory, BrandFactory, BudgetFactory
from campaigns.services import campaign_pause
from campaigns.tests.factories import CampaignFactory
from spend.tests.factories import BrandSpendFactory, SpendEventFactory

pytestmark = pytest.mark.django_db

# 15:00 UTC is midnight of the next day in Tokyo.
INSTANT = dt.datetime(2026, 3, 10, 15, 0, tzinfo=dt.UTC)


@pytest.fixture
def tokyo() -> Brand:
    return BrandFactory.create(name="Shibuya Noodle Bar", timezone="Asia/Tokyo", currency="JPY")


def _page(client: Client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def test_campaign_status_and_reason_read_as_labels(staff_client: Client) -> None:
    campaign = CampaignFactory.create()
    campaign_pause(campaign_id=campaign.pk)
    page = _page(staff_client, "/admin/campaigns/campaign/")
    assert "Paused manually" in page
    assert ">manual<" not in page
    assert ">paused<" not in page


def test_spend_reads_in_the_brands_currency_and_zone(staff_client: Client, tokyo: Brand) -> None:
    campaign = CampaignFactory.create(brand=tokyo)
    SpendEventFactory.create(campaign=campaign, amount=Decimal("1234.125"), occurred_at=INSTANT)
    page = _page(staff_client, "/admin/spend/spendevent/")
    assert "1,234.125 JPY" in page
    assert "2026-03-11 00:00 JST" in page


def test_alerts_and_rollups_show_money_with_its_currency(
    staff_client: Client, tokyo: Brand
) -> None:
    AlertFactory.create(
        brand=tokyo,
        threshold=80,
        cap=Decimal("60000.00"),
        spend=Decimal("48000"),
        raised_at=INSTANT,
    )
    page = _page(staff_client, "/admin/budgets/alert/")
    assert "48,000.00 JPY" in page
    assert "60,000.00 JPY" in page
    assert "80%" in page
    assert "2026-03-11 00:00 JST" in page
    BrandSpendFactory.create(brand=tokyo, amount=Decimal("5000.5"))
    assert "5,000.50 JPY" in _page(staff_client, "/admin/spend/brandspend/")
    BudgetFactory.create(brand=tokyo, daily_limit=Decimal("20000.00"))
    assert "20,000.00 JPY" in _page(staff_client, "/admin/budgets/budget/")


def test_status_history_and_the_trail_read_in_the_brands_zone(
    staff_client: Client, tokyo: Brand
) -> None:
    import time_machine

    campaign = CampaignFactory.create(brand=tokyo)
    with time_machine.travel(INSTANT, tick=False):
        campaign_pause(campaign_id=campaign.pk)
    assert "2026-03-11 00:00 JST" in _page(staff_client, "/admin/campaigns/campaignstatuschange/")
