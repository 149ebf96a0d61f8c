"""Who posts spend through the API: the server names the source, a spend feed
posts for its brands only, adjustments and closed months need the right to adjust."""

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.contrib.auth.models import Permission, User
from rest_framework.test import APIClient

from adserver.api.tests.conftest import member_of, token_client
from adserver.api.tests.remembered import forget_checked_keys
from budgets.models import Role
from budgets.tests.factories import BrandFactory
from campaigns.models import Campaign
from campaigns.tests.factories import CampaignFactory
from credentials.services import feed_create
from spend.models import BrandSpend, SpendEvent
from spend.services import spend_record

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_now")]

NOW = dt.datetime(2026, 3, 10, 15, 0, tzinfo=dt.UTC)
REFUND = {"amount": "-10", "kind": "adjustment", "occurred_at": "2026-03-10T12:00:00Z"}


@pytest.fixture
def frozen_now() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture(autouse=True)
def _forget_credentials() -> Iterator[None]:
    forget_checked_keys()
    yield
    forget_checked_keys()


def feed_client(name: str, *brands: int, may_adjust: bool = False) -> APIClient:
    """A client holding the key of a new spend feed for `brands`."""
    _feed, key = feed_create(name=name, brand_ids=brands, may_adjust=may_adjust)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    return client


@pytest.fixture
def campaign() -> Campaign:
    return CampaignFactory.create()


@pytest.fixture
def foreign() -> Campaign:
    return CampaignFactory.create()


def post(client: APIClient, campaign: Campaign, **body: object) -> Any:
    return client.post(
        "/api/spend/", {"campaign": campaign.pk, "amount": "1", **body}, format="json"
    )


def post_batch(client: APIClient, events: list[dict[str, object]]) -> Any:
    return client.post("/api/spend/batch/", {"events": events}, format="json")


def brand_total(campaign: Campaign) -> Decimal:
    row = BrandSpend.objects.filter(brand_id=campaign.brand_id, period="day").first()
    return Decimal(0) if row is None else row.amount


# --- the source ------------------------------------------------------------------------


def test_a_feeds_event_is_booked_under_its_name_whatever_the_body_says(campaign: Campaign) -> None:
    google = feed_client("google-ads", campaign.brand_id)

    response = post(google, campaign, source="meta-ads", event_id="e1")

    assert response.status_code == 201, response.json()
    assert response.json()["source"] == "google-ads"
    assert SpendEvent.objects.get().source == "google-ads"


def test_a_persons_event_is_booked_under_their_username(campaign: Campaign) -> None:
    manager = member_of(campaign.brand, Role.MANAGER, "ann")

    client = token_client(manager)
    response = post(client, campaign, source="google-ads")

    assert response.status_code == 201, response.json()
    assert SpendEvent.objects.get().source == "user:ann"
    batch = post_batch(client, [{"campaign": campaign.pk, "amount": "2", "source": "x"}])
    assert batch.status_code == 201, batch.json()
    assert set(SpendEvent.objects.values_list("source", flat=True)) == {"user:ann"}


# --- event ids per source ----------------------------------------------------------------


def test_an_event_id_taken_first_by_someone_else_does_not_shadow_the_feeds(
    campaign: Campaign,
) -> None:
    manager = member_of(campaign.brand, Role.MANAGER, "mallory")
    assert post(token_client(manager), campaign, amount="999", event_id="g-1").status_code == 201
    google = feed_client("google-ads", campaign.brand_id)

    real = post(google, campaign, amount="5", event_id="g-1")
    replay = post(google, campaign, amount="5", event_id="g-1")
    changed = post(google, campaign, amount="6", event_id="g-1")

    assert (real.status_code, replay.status_code, changed.status_code) == (201, 200, 409)
    assert replay.json()["id"] == real.json()["id"]
    assert changed.json()["fields"] == ["amount"]
    assert sorted(SpendEvent.objects.values_list("source", "amount")) == [
        ("google-ads", Decimal(5)),
        ("user:mallory", Decimal(999)),
    ]


def test_two_feeds_batches_with_the_same_ids_are_two_feeds_events(campaign: Campaign) -> None:
    events = [{"campaign": campaign.pk, "amount": "1", "event_id": f"e{i}"} for i in range(3)]
    one, two = feed_client("one", campaign.brand_id), feed_client("two", campaign.brand_id)

    assert post_batch(one, events).json() == {"created": 3, "duplicates": 0}
    assert post_batch(two, events).json() == {"created": 3, "duplicates": 0}
    assert post_batch(one, events).json() == {"created": 0, "duplicates": 3}
    assert brand_total(campaign) == Decimal(6)


# --- a feed's brands ---------------------------------------------------------------------


def test_a_feed_posting_for_another_brands_campaign_is_refused_naming_it(
    campaign: Campaign, foreign: Campaign
) -> None:
    google = feed_client("google-ads", campaign.brand_id)

    response = post(google, foreign, amount="999")

    assert response.status_code == 403
    assert f"campaign {foreign.pk}:" in response.json()["detail"]
    assert not SpendEvent.objects.exists()
    assert brand_total(foreign) == 0


def test_a_feeds_batch_with_one_foreign_event_is_refused_whole(
    campaign: Campaign, foreign: Campaign
) -> None:
    google = feed_client("google-ads", campaign.brand_id)
    events = [{"campaign": campaign.pk, "amount": "1"}] * 3 + [
        {"campaign": foreign.pk, "amount": "1"}
    ]

    response = post_batch(google, events)

    assert response.status_code == 403
    assert f"campaign {foreign.pk}:" in response.json()["detail"]
    assert not SpendEvent.objects.exists()


def test_an_unknown_campaign_is_refused_to_a_feed_as_a_foreign_one(campaign: Campaign) -> None:
    response = post(feed_client("google-ads", campaign.brand_id), Campaign(pk=987654))
    assert response.status_code == 403
    assert "campaign 987654:" in response.json()["detail"]


# --- adjustments ----------------------------------------------------------------------------


def test_a_feed_may_not_adjust_unless_allowed(campaign: Campaign) -> None:
    spend_record(campaign_id=campaign.pk, amount=Decimal(50))
    google = feed_client("google-ads", campaign.brand_id)

    single = post(google, campaign, **REFUND)
    batch = post_batch(
        google, [{"campaign": campaign.pk, "amount": "1"}, {"campaign": campaign.pk, **REFUND}]
    )

    assert (single.status_code, batch.status_code) == (403, 403)
    assert "right to adjust" in single.json()["detail"]
    assert SpendEvent.objects.count() == 1
    assert brand_total(campaign) == Decimal(50)

    allowed = feed_client("google-corrections", campaign.brand_id, may_adjust=True)
    assert post(allowed, campaign, **REFUND).status_code == 201
    assert brand_total(campaign) == Decimal(40)


def test_a_manager_adjusts_only_with_the_permission(campaign: Campaign) -> None:
    spend_record(campaign_id=campaign.pk, amount=Decimal(50))
    manager = member_of(campaign.brand, Role.MANAGER, "ann")

    client = token_client(manager)
    refused = post(client, campaign, **REFUND)
    assert refused.status_code == 403
    assert brand_total(campaign) == Decimal(50)

    manager.user_permissions.add(
        Permission.objects.get(codename="add_adjustment", content_type__app_label="spend")
    )
    forget_checked_keys()  # the user and their permissions, read again
    allowed = post(client, campaign, **REFUND)
    assert allowed.status_code == 201, allowed.json()
    assert brand_total(campaign) == Decimal(40)


# --- closed months ----------------------------------------------------------------------------

# NOW is in March: February is open, January is closed (UTC brands).
LAST_OF_JANUARY = "2026-01-31T23:59:59Z"


def test_spend_dated_before_the_previous_month_is_a_400_naming_occurred_at(
    campaign: Campaign,
) -> None:
    google = feed_client("google-ads", campaign.brand_id)

    single = post(google, campaign, occurred_at=LAST_OF_JANUARY)
    batch = post_batch(
        google,
        [
            {"campaign": campaign.pk, "amount": "1", "occurred_at": "2026-02-01T00:00:00Z"},
            {"campaign": campaign.pk, "amount": "1", "occurred_at": LAST_OF_JANUARY},
        ],
    )

    assert single.status_code == 400
    assert list(single.json()) == ["occurred_at"]
    assert batch.status_code == 400
    assert batch.json() == {"events": {"1": {"occurred_at": single.json()["occurred_at"]}}}
    assert not SpendEvent.objects.exists()


def test_a_sender_who_may_adjust_dates_spend_in_a_closed_month(campaign: Campaign) -> None:
    brand = BrandFactory.create()
    campaign = CampaignFactory.create(brand=brand)
    corrections = feed_client("corrections", brand.pk, may_adjust=True)
    boss = token_client(User.objects.create_superuser("boss"))

    assert post(corrections, campaign, occurred_at=LAST_OF_JANUARY).status_code == 201
    assert post(boss, campaign, occurred_at=LAST_OF_JANUARY).status_code == 201
