"""Figures as a person reads them: compact chart axes, each currency's own
decimals, the spend log's "counted as", and column titles that differ."""

import datetime as dt
import re
from decimal import Decimal

import pytest
import time_machine
from django.test import Client

from budgets.tests.factories import AlertFactory, BrandFactory
from campaigns.tests.factories import CampaignFactory
from spend.tests.factories import BrandSpendFactory, SpendEventFactory

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 10, 12, 0, tzinfo=dt.UTC)


def _axis_labels(body: str, chart_id: str) -> list[str]:
    svg = body.split(f'id="{chart_id}-title"', 1)[1].split("</svg>", 1)[0]
    return re.findall(r'text-anchor="end">([^<]*)</text>', svg)


@time_machine.travel(NOW, tick=False)
def test_chart_axes_read_150k_and_1_2m(staff_client: Client) -> None:
    brand = BrandFactory.create(daily_budget=Decimal("136000"), monthly_budget=Decimal("1100000"))
    BrandSpendFactory.create(brand=brand, period_start=dt.date(2026, 3, 10), amount=100)

    body = staff_client.get(brand.get_absolute_url()).content.decode()

    daily = _axis_labels(body, "daily-chart")
    monthly = _axis_labels(body, "month-chart")
    assert daily == ["0", "50k", "100k", "150k", "200k"]
    assert monthly == ["0", "500k", "1M", "1.5M", "2M"]


@time_machine.travel(NOW, tick=False)
def test_the_spend_log_rounds_to_the_currency_and_the_event_page_is_exact(
    staff_client: Client,
) -> None:
    brand = BrandFactory.create(currency="JPY")
    campaign = CampaignFactory.create(brand=brand)
    served = SpendEventFactory.create(campaign=campaign, amount=Decimal("1234.5678"))
    over = SpendEventFactory.create(
        campaign=campaign, amount=Decimal("10"), campaign_was_serving=False
    )

    log = staff_client.get("/spend/").content.decode()
    event_page = staff_client.get(served.get_absolute_url()).content.decode()

    assert "1,235 JPY" in log
    assert "1,234.5678 JPY" not in log.replace('title="Exact: 1,234.5678 JPY"', "")
    assert "<th>Counted as</th>" in log
    rows = {int(pk): row for pk, row in re.findall(r'<tr data-id="(\d+)">(.*?)</tr>', log, re.S)}
    assert ">served<" in rows[served.pk]
    assert ">overspend<" in rows[over.pk]
    assert '<td id="amount">1,234.5678 JPY</td>' in event_page


@time_machine.travel(NOW, tick=False)
def test_every_column_title_of_the_lists_is_unique(staff_client: Client) -> None:
    brand = BrandFactory.create()
    AlertFactory.create(brand=brand, raised_at=NOW)
    SpendEventFactory.create(campaign=CampaignFactory.create(brand=brand))

    for url in ("/", "/brands/", "/budgets/", "/campaigns/", "/spend/", "/alerts/", "/history/"):
        body = staff_client.get(url).content.decode()
        for head in re.findall(r"<thead>(.*?)</thead>", body, re.S):
            titles = [
                re.sub(r"<[^>]+>|[▲▼]", "", title).strip()
                for title in re.findall(r"<th[^>]*>(.*?)</th>", head, re.S)
            ]
            named = [title for title in titles if title]
            assert len(named) == len(set(named)), (url, titles)
