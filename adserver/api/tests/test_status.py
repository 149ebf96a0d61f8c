"""GET /api/status/: the system at a glance."""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from rest_framework.test import APIClient

from budgets.models import Period
from budgets.tests.factories import BrandFactory
from campaigns.models import Campaign
from campaigns.tests.factories import CampaignFactory
from spend.tests.factories import BrandSpendFactory

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 10, 12, 0, tzinfo=dt.UTC)


@time_machine.travel(NOW, tick=False)
def test_status_counts_campaigns_by_state_and_brands_over_cap(api: APIClient) -> None:
    brand = BrandFactory.create(daily_budget=Decimal("10"))
    CampaignFactory.create(brand=brand)
    CampaignFactory.create(brand=brand, enabled=False)
    held = CampaignFactory.create(brand=brand)
    Campaign.objects.filter(pk=held.pk).update(budget_hold="brand_daily_budget")
    BrandSpendFactory.create(
        brand=brand, period=Period.DAY, period_start=dt.date(2026, 3, 10), amount=Decimal("10")
    )

    response = api.get("/api/status/")

    assert response.status_code == 200
    assert response.json() == {
        "total_brands": 1,
        "total_campaigns": 3,
        "active_campaigns": 1,
        "paused_campaigns": 2,
        "paused_by_reason": {"brand_daily_budget": 1, "manual": 1},
        "over_daily_budget": 1,
        "over_monthly_budget": 0,
        "server_time": "2026-03-10T12:00:00Z",
    }
