"""The money rules through the API, with a token that may do everything: a fixed
time zone, dated refunds, fast clocks, one amount grammar, remaining and overspend."""

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from rest_framework.test import APIClient

from budgets.models import Brand
from budgets.tests.factories import BrandFactory
from campaigns.models import Campaign
from campaigns.tests.factories import CampaignFactory
from spend.models import BrandSpend, SpendEvent
from spend.services import spend_record

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_now")]

NOW = dt.datetime(2026, 3, 10, 15, 0, tzinfo=dt.UTC)


@pytest.fixture
def frozen_now() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


def post_raw(api: APIClient, url: str, text: str) -> Any:
    """A body as written: JSON numbers keep the form they were sent in."""
    return api.post(url, text, content_type="application/json")


def test_a_brands_time_zone_cannot_change_once_it_has_spend(api: APIClient) -> None:
    brand = BrandFactory.create(daily_budget=Decimal("100"))
    campaign = CampaignFactory.create(brand=brand)
    url = f"/api/brands/{brand.pk}/"
    assert api.patch(url, {"timezone": "Europe/Paris"}, format="json").status_code == 200
    spend_record(campaign_id=campaign.pk, amount=Decimal("100"))

    response = api.patch(url, {"timezone": "Pacific/Kiritimati"}, format="json")

    assert response.status_code == 400
    assert response.json() == {
        "timezone": [
            "The time zone cannot change once the brand has spend: its days and months "
            "are already counted in Europe/Paris."
        ]
    }
    assert Brand.objects.get(pk=brand.pk).timezone == "Europe/Paris"
    assert api.get(url).json()["daily_spend"] == "100.000000"


def test_an_adjustment_without_occurred_at_is_a_400_naming_it(api: APIClient) -> None:
    campaign = CampaignFactory.create()
    spend_record(campaign_id=campaign.pk, amount=Decimal("100"))
    body = {"campaign": campaign.pk, "amount": "-150", "kind": "adjustment"}

    response = api.post("/api/spend/", body, format="json")

    assert response.status_code == 400
    assert list(response.json()) == ["occurred_at"]
    assert SpendEvent.objects.count() == 1


def test_a_refund_past_what_was_spent_is_a_400_naming_the_amount(api: APIClient) -> None:
    brand = BrandFactory.create(daily_budget=Decimal("100"))
    campaign = CampaignFactory.create(brand=brand)
    spend_record(campaign_id=campaign.pk, amount=Decimal("100"))
    body = {
        "campaign": campaign.pk,
        "amount": "-150",
        "kind": "adjustment",
        "occurred_at": NOW.isoformat(),
    }

    response = api.post("/api/spend/", body, format="json")

    assert response.status_code == 400
    assert "to -50.000000" in response.json()["amount"][0]
    brand_now = api.get(f"/api/brands/{brand.pk}/").json()
    assert (brand_now["daily_spend"], brand_now["daily_remaining"]) == ("100.000000", "0.000000")
    assert Campaign.objects.get(pk=campaign.pk).pause_reason == "brand_daily_budget"


def test_an_event_dated_a_little_ahead_is_booked_at_the_servers_now(api: APIClient) -> None:
    campaign = CampaignFactory.create()
    ahead = (NOW + dt.timedelta(seconds=290)).isoformat()

    response = api.post(
        "/api/spend/", {"campaign": campaign.pk, "amount": "1", "occurred_at": ahead}, format="json"
    )

    assert response.status_code == 201
    assert response.json()["occurred_at"] == "2026-03-10T15:00:00Z"


LENIENT_STRINGS = [
    "1_000",
    " 12.50 ",
    "+1.00",
    "1.0000000e0",
    "\u0661\u0662.\u0665",
    "12.",
    ".5",
    "1e2",
    "NaN",
]


@pytest.mark.parametrize("amount", LENIENT_STRINGS)
def test_an_amount_string_outside_the_grammar_is_a_400_naming_it(
    api: APIClient, amount: str
) -> None:
    campaign = CampaignFactory.create()
    single = api.post("/api/spend/", {"campaign": campaign.pk, "amount": amount}, format="json")
    batch = api.post(
        "/api/spend/batch/",
        {
            "events": [
                {"campaign": campaign.pk, "amount": "1"},
                {"campaign": campaign.pk, "amount": amount},
            ]
        },
        format="json",
    )

    assert single.status_code == batch.status_code == 400
    assert list(single.json()) == ["amount"]
    assert single.json()["amount"][0].startswith("A decimal number is required")
    assert batch.json() == {"events": {"1": single.json()}}
    assert not SpendEvent.objects.exists()


@pytest.mark.parametrize("number", ["1e2", "1.5e0", "15E-1", "1.0000000", "0.0000001"])
def test_a_json_number_with_an_exponent_or_seven_places_is_a_400_naming_the_amount(
    api: APIClient, number: str
) -> None:
    campaign = CampaignFactory.create()
    single = post_raw(api, "/api/spend/", f'{{"campaign": {campaign.pk}, "amount": {number}}}')
    batch = post_raw(
        api,
        "/api/spend/batch/",
        f'{{"events": [{{"campaign": {campaign.pk}, "amount": {number}}}]}}',
    )

    assert single.status_code == batch.status_code == 400
    assert list(single.json()) == ["amount"]
    assert list(batch.json()["events"]["0"]) == ["amount"]
    assert not SpendEvent.objects.exists()


@pytest.mark.parametrize(
    ("number", "stored"), [("12.5", "12.5"), ("12", "12"), ("0.000001", "0.000001")]
)
def test_a_plain_json_number_is_an_amount(api: APIClient, number: str, stored: str) -> None:
    campaign = CampaignFactory.create()
    response = post_raw(api, "/api/spend/", f'{{"campaign": {campaign.pk}, "amount": {number}}}')
    assert response.status_code == 201, response.json()
    assert SpendEvent.objects.get().amount == Decimal(stored)


def test_an_event_larger_than_the_brands_monthly_budget_is_a_400(api: APIClient) -> None:
    campaign = CampaignFactory.create(brand=BrandFactory.create(monthly_budget=Decimal("3000")))
    response = api.post("/api/spend/", {"campaign": campaign.pk, "amount": "5000"}, format="json")
    assert response.status_code == 400
    assert "monthly budget (3000.00)" in response.json()["amount"][0]


def test_remaining_is_never_negative_and_overspend_says_what_went_past_the_cap(
    api: APIClient,
) -> None:
    brand = BrandFactory.create(daily_budget=Decimal("100"), monthly_budget=Decimal("3000"))
    campaign = CampaignFactory.create(brand=brand)
    spend_record(campaign_id=campaign.pk, amount=Decimal("100"))
    spend_record(campaign_id=campaign.pk, amount=Decimal("110"))  # arrives all the same

    shown = api.get(f"/api/brands/{brand.pk}/").json()

    names = ["daily_spend", "monthly_spend", "daily_remaining", "monthly_remaining"]
    names += ["daily_overspend", "monthly_overspend"]
    assert {name: shown[name] for name in names} == {
        "daily_spend": "210.000000",
        "monthly_spend": "210.000000",
        "daily_remaining": "0.000000",
        "monthly_remaining": "2790.000000",
        "daily_overspend": "110.000000",
        "monthly_overspend": "0.000000",
    }
    assert BrandSpend.objects.filter(period="day").get().amount == Decimal("210")
