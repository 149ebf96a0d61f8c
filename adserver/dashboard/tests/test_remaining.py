"""Remaining and overspend on the dashboard say what the API says."""

import datetime as dt
import re
from decimal import Decimal

import pytest
import time_machine
from django.test import Client

from adserver.dashboard.selectors import Utilisation
from budgets.models import Period
from budgets.tests.factories import BrandFactory
from spend.tests.factories import BrandSpendFactory

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 10, 15, 0, tzinfo=dt.UTC)


def test_remaining_is_never_negative_and_over_is_what_went_past_the_cap() -> None:
    over, under = (
        Utilisation(Decimal("210"), Decimal("100")),
        Utilisation(Decimal("40"), Decimal("100")),
    )
    assert (over.remaining, over.over) == (Decimal(0), Decimal(110))
    assert (under.remaining, under.over) == (Decimal(60), Decimal(0))
    assert Utilisation(Decimal("40"), None).over is None


@time_machine.travel(NOW, tick=False)
def test_the_brand_page_says_how_far_past_the_cap_in_words(staff_client: Client) -> None:
    brand = BrandFactory.create(daily_budget=Decimal("100"), monthly_budget=Decimal("3000"))
    BrandSpendFactory.create(brand=brand, period_start=NOW.date(), amount=Decimal("210"))
    BrandSpendFactory.create(
        brand=brand, period=Period.MONTH, period_start=NOW.date().replace(day=1), amount=210
    )

    page = staff_client.get(brand.get_absolute_url()).content.decode()

    today = re.search(r"Remaining today: (.*?)</p>", page, re.S)
    month = re.search(r"Remaining this month: (.*?)</p>", page, re.S)
    assert today is not None
    assert month is not None
    assert re.sub(r"<[^>]+>", "", today.group(1)).strip() == "0.00 USD (110.00 USD over the cap)"
    assert re.sub(r"<[^>]+>", "", month.group(1)).strip() == "2,790.00 USD"
