"""POST /api/spend/: one event, idempotent by event_id, enforced at once."""

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal

import pytest
import time_machine
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from adserver.api.serializers import SpendRecordedSerializer
from adserver.api.tests.conftest import token_client
from budgets.models import Period, Role
from budgets.services import membership_set
from budgets.tests.factories import BrandFactory
from campaigns.models import Campaign
from campaigns.tests.factories import CampaignFactory
from spend.models import BrandSpend, SpendEvent
from spend.services import SpendRecorded

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_now")]

NOW = dt.datetime(2026, 3, 10, 15, 0, tzinfo=dt.UTC)


@pytest.fixture
def frozen_now() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


def _brand_day_total(brand_id: int) -> Decimal:
    row = BrandSpend.objects.filter(brand_id=brand_id, period=Period.DAY).first()
    return row.amount if row else Decimal("0")


def test_an_event_is_recorded_and_answered_with_the_brands_standing(api: APIClient) -> None:
    brand = BrandFactory.create(
        timezone="Asia/Kolkata", daily_budget=Decimal("100"), monthly_budget=Decimal("1000")
    )
    campaign = CampaignFactory.create(brand=brand)
    response = api.post(
        "/api/spend/",
        {
            "campaign": campaign.pk,
            "amount": "12.345678",
            "occurred_at": "2026-03-10T20:00:00+05:30",
            "event_id": "platform-1",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    event = SpendEvent.objects.get()
    assert response.json() == {
        "id": event.pk,
        "event_id": "platform-1",
        "campaign": campaign.pk,
        "amount": "12.345678",
        "occurred_at": "2026-03-10T14:30:00Z",
        "kind": "spend",
        "source": "user:staff",
        "local_date": "2026-03-10",
        "campaign_was_serving": True,
        "campaign_status": "active",
        "pause_reason": None,
        "brand_daily_spend": "12.345678",
        "brand_monthly_spend": "12.345678",
        "brand_daily_remaining": "87.654322",
        "brand_monthly_remaining": "987.654322",
    }


def test_occurred_at_defaults_to_now_and_amount_may_be_a_json_number(api: APIClient) -> None:
    campaign = CampaignFactory.create()
    body = f'{{"campaign": {campaign.pk}, "amount": 0.1}}'
    response = api.post("/api/spend/", body, content_type="application/json")
    assert response.status_code == 201, response.json()
    assert (response.json()["occurred_at"], response.json()["amount"]) == (
        "2026-03-10T15:00:00Z",
        "0.100000",
    )


def test_a_replay_with_the_same_payload_is_200_and_counted_once(api: APIClient) -> None:
    campaign = CampaignFactory.create()
    event = {"campaign": campaign.pk, "amount": "5", "event_id": "abc"}
    first = api.post("/api/spend/", event, format="json")
    again = api.post("/api/spend/", event, format="json")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    assert SpendEvent.objects.count() == 1
    assert _brand_day_total(campaign.brand_id) == Decimal("5")


def test_a_replay_with_another_payload_is_a_409_and_stores_nothing(api: APIClient) -> None:
    campaign = CampaignFactory.create()
    api.post(
        "/api/spend/", {"campaign": campaign.pk, "amount": "5", "event_id": "abc"}, format="json"
    )
    response = api.post(
        "/api/spend/", {"campaign": campaign.pk, "amount": "6", "event_id": "abc"}, format="json"
    )
    assert response.status_code == 409
    assert response.json()["event_id"] == "abc"
    assert response.json()["fields"] == ["amount"]
    assert SpendEvent.objects.count() == 1
    assert _brand_day_total(campaign.brand_id) == Decimal("5")


def test_spend_for_a_paused_campaign_is_recorded_and_shown_paused(api: APIClient) -> None:
    campaign = CampaignFactory.create(enabled=False)
    response = api.post("/api/spend/", {"campaign": campaign.pk, "amount": "3.5"}, format="json")
    assert response.status_code == 201
    body = response.json()
    assert (body["campaign_status"], body["pause_reason"], body["campaign_was_serving"]) == (
        "paused",
        "manual",
        False,
    )
    assert _brand_day_total(campaign.brand_id) == Decimal("3.5")


def test_reaching_the_daily_cap_pauses_every_campaign_of_the_brand_at_once(
    api: APIClient,
) -> None:
    brand = BrandFactory.create(daily_budget=Decimal("10"))
    campaign, sibling = CampaignFactory.create_batch(2, brand=brand)
    response = api.post("/api/spend/", {"campaign": campaign.pk, "amount": "10"}, format="json")
    body = response.json()
    assert (body["campaign_status"], body["pause_reason"]) == ("paused", "brand_daily_budget")
    assert (body["brand_daily_spend"], body["brand_daily_remaining"]) == ("10.000000", "0.000000")
    assert Campaign.objects.get(pk=sibling.pk).pause_reason == "brand_daily_budget"
    assert api.get(f"/api/campaigns/{sibling.pk}/").json()["status"] == "paused"


def test_an_adjustment_may_be_negative(api: APIClient) -> None:
    campaign = CampaignFactory.create()
    api.post("/api/spend/", {"campaign": campaign.pk, "amount": "5"}, format="json")
    response = api.post(
        "/api/spend/",
        {
            "campaign": campaign.pk,
            "amount": "-2",
            "kind": "adjustment",
            "occurred_at": NOW.isoformat(),
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["brand_daily_spend"] == "3.000000"


@pytest.mark.parametrize(
    ("field", "raw"),
    [
        ("campaign", "987654"),
        ("campaign", '"abc"'),
        ("campaign", "1.5"),
        ("campaign", "-1"),
        ("campaign", "1e30"),
        ("campaign", "null"),
        ("amount", "NaN"),
        ("amount", '"NaN"'),
        ("amount", "Infinity"),
        ("amount", '"-Infinity"'),
        ("amount", '"-1"'),
        ("amount", "0"),
        ("amount", '"0.0000001"'),
        ("amount", '"1e20"'),
        ("amount", "true"),
        ("amount", "[]"),
        ("amount", "null"),
        ("occurred_at", '"2026-03-10T14:00:00"'),
        ("occurred_at", '"yesterday"'),
        ("occurred_at", '"2026-03-10T15:30:00Z"'),
        ("occurred_at", '"1999-12-31T23:59:59Z"'),
        ("occurred_at", '"0001-01-01T00:00:00+14:00"'),
        ("occurred_at", "1741600000"),
        ("event_id", '""'),
        ("event_id", '"' + "x" * 129 + '"'),
        ("event_id", "42"),
        ("event_id", '"a\\u0000b"'),
        ("kind", '"refund"'),
    ],
)
def test_a_bad_value_is_a_400_naming_the_field_and_stores_nothing(
    api: APIClient, field: str, raw: str
) -> None:
    campaign = CampaignFactory.create(brand=BrandFactory.create(timezone="America/New_York"))
    fields = {"campaign": str(campaign.pk), "amount": '"1.00"', field: raw}
    body = "{" + ", ".join(f'"{k}": {v}' for k, v in fields.items()) + "}"
    response = api.post("/api/spend/", body, content_type="application/json")
    assert response.status_code == 400, response.json()
    assert set(response.json()) == {field}, response.json()
    assert not SpendEvent.objects.exists()


def test_the_body_must_be_an_object(api: APIClient) -> None:
    response = api.post("/api/spend/", "[]", content_type="application/json")
    assert response.status_code == 400
    assert set(response.json()) == {"non_field_errors"}


def test_recording_needs_the_manager_role_on_the_campaigns_brand(db: None) -> None:
    campaign = CampaignFactory.create()
    event = {"campaign": campaign.pk, "amount": "1"}
    platform = User.objects.create_user("platform")
    feed = token_client(platform)
    assert feed.post("/api/spend/", event, format="json").status_code == 403
    membership_set(brand=campaign.brand, user=platform, role=Role.VIEWER)
    assert feed.post("/api/spend/", event, format="json").status_code == 403
    membership_set(brand=campaign.brand, user=platform, role=Role.MANAGER)
    assert feed.post("/api/spend/", event, format="json").status_code == 201
    assert SpendEvent.objects.count() == 1


def test_the_spend_endpoints_are_throttled_by_the_configured_rate(
    api: APIClient, settings: object
) -> None:
    campaign = CampaignFactory.create()
    settings.REST_FRAMEWORK = {  # type: ignore[attr-defined]
        **settings.REST_FRAMEWORK,  # type: ignore[attr-defined]
        "DEFAULT_THROTTLE_RATES": {"spend": "2/min"},
    }
    event = {"campaign": campaign.pk, "amount": "1"}
    codes = [api.post("/api/spend/", event, format="json").status_code for _ in range(3)]
    assert codes == [201, 201, 429]
    assert SpendEvent.objects.count() == 2
    assert api.get("/api/brands/").status_code == 200  # other endpoints are not throttled


def test_the_throttle_counts_each_window_and_each_user_apart(
    api: APIClient, settings: object
) -> None:
    campaign = CampaignFactory.create()
    settings.REST_FRAMEWORK = {  # type: ignore[attr-defined]
        **settings.REST_FRAMEWORK,  # type: ignore[attr-defined]
        "DEFAULT_THROTTLE_RATES": {"spend": "2/min"},
    }
    event = {"campaign": campaign.pk, "amount": "1"}

    def post(client: APIClient) -> int:
        return client.post("/api/spend/", event, format="json").status_code

    platform = User.objects.create_user("platform")
    membership_set(brand=campaign.brand, user=platform, role=Role.MANAGER)
    other = token_client(platform)
    with time_machine.travel(NOW + dt.timedelta(seconds=1), tick=False) as clock:
        assert [post(api), post(api), post(api)] == [201, 201, 429]
        throttled = api.post("/api/spend/", event, format="json")
        assert throttled["Retry-After"] == "59"
        assert [post(other), post(other), post(other)] == [201, 201, 429]
        clock.shift(dt.timedelta(minutes=1))  # the next window
        assert [post(api), post(api), post(api)] == [201, 201, 429]
    assert SpendEvent.objects.count() == 6


@pytest.mark.parametrize(
    "body",
    [
        {"amount": "0.1", "occurred_at": "2026-03-10T00:30:00+05:30", "event_id": "x"},
        {
            "amount": "1234.678901",  # within the brand's monthly budget
            "kind": "adjustment",
            "source": "google",
            "occurred_at": "2026-03-10T00:30:00+05:30",
        },
    ],
)
@pytest.mark.parametrize("enabled", [True, False])
def test_the_answer_is_what_the_documented_serializer_renders(
    api: APIClient, body: dict[str, str], enabled: bool
) -> None:
    kolkata = BrandFactory.create(timezone="Asia/Kolkata")  # its day is not UTC's
    campaign = CampaignFactory.create(brand=kolkata, enabled=enabled)
    answer = api.post("/api/spend/", {"campaign": campaign.pk, **body}, format="json").json()
    documented = SpendRecordedSerializer(
        SpendRecorded(
            event=SpendEvent.objects.get(pk=answer["id"]),
            created=True,
            campaign_status=answer["campaign_status"],
            pause_reason=answer["pause_reason"],
            **{
                name: Decimal(answer[name])
                for name in (
                    "brand_daily_spend",
                    "brand_monthly_spend",
                    "brand_daily_remaining",
                    "brand_monthly_remaining",
                )
            },
        )
    ).data
    assert answer == documented
