"""A spend feed's key: what it opens (spend POSTs for its brands) and what it does not."""

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.contrib.auth.models import AnonymousUser
from django.test import Client
from rest_framework.request import Request
from rest_framework.test import APIClient, APIRequestFactory

from adserver.api.authentication import SpendFeedAuthentication
from adserver.api.tests.remembered import forget_checked_keys
from budgets.models import SettingChange
from campaigns.models import Campaign
from campaigns.tests.factories import CampaignFactory
from credentials.models import SpendFeed
from credentials.services import feed_create, feed_revoke
from spend.models import SpendEvent
from spend.tests.factories import SpendEventFactory

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 10, 12, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _no_remembering(settings: Any) -> None:
    settings.API_TOKEN_CACHE_SECONDS = 0
    forget_checked_keys()


@pytest.fixture
def ours() -> Campaign:
    return CampaignFactory.create()


@pytest.fixture
def theirs() -> Campaign:
    return CampaignFactory.create()


def feed_client(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    return client


@pytest.fixture
def feed(ours: Campaign) -> tuple[SpendFeed, APIClient]:
    feed, key = feed_create(name="Meta connector", brand_ids=[ours.brand_id])
    return feed, feed_client(key)


def test_a_feed_records_spend_for_its_brand_as_its_source(
    feed: tuple[SpendFeed, APIClient], ours: Campaign
) -> None:
    _feed, client = feed
    body = {"campaign": ours.pk, "amount": "12.50", "event_id": "e-1", "source": "someone-else"}
    response = client.post("/api/spend/", body, format="json")
    assert response.status_code == 201, response.json()
    event = SpendEvent.objects.get()
    assert (event.source, event.amount) == ("Meta connector", Decimal("12.50"))


def test_a_feed_records_a_batch_for_its_brand(
    feed: tuple[SpendFeed, APIClient], ours: Campaign
) -> None:
    _feed, client = feed
    events = [{"campaign": ours.pk, "amount": "1.00", "event_id": f"b-{i}"} for i in range(3)]
    response = client.post("/api/spend/batch/", {"events": events}, format="json")
    assert response.status_code == 201, response.json()
    assert set(SpendEvent.objects.values_list("source", flat=True)) == {"Meta connector"}
    assert SpendEvent.objects.count() == 3


def test_a_feed_may_not_post_for_another_brand(
    feed: tuple[SpendFeed, APIClient], theirs: Campaign
) -> None:
    _feed, client = feed
    body = {"campaign": theirs.pk, "amount": "999999"}
    response = client.post("/api/spend/", body, format="json")
    assert response.status_code == 403
    assert f"campaign {theirs.pk}:" in response.json()["detail"]
    assert not SpendEvent.objects.exists()


def test_a_batch_with_one_foreign_event_is_refused_whole(
    feed: tuple[SpendFeed, APIClient], ours: Campaign, theirs: Campaign
) -> None:
    _feed, client = feed
    events = [
        {"campaign": ours.pk, "amount": "1.00"},
        {"campaign": theirs.pk, "amount": "1.00"},
        {"campaign": ours.pk, "amount": "1.00"},
    ]
    response = client.post("/api/spend/batch/", {"events": events}, format="json")
    assert response.status_code == 403
    assert f"campaign {theirs.pk}:" in response.json()["detail"]
    assert not SpendEvent.objects.exists()


def _everything_else(campaign: Campaign) -> list[tuple[str, str]]:
    event = SpendEventFactory.create(campaign=campaign)
    return [
        ("get", "/api/brands/"),
        ("get", f"/api/brands/{campaign.brand_id}/"),
        ("post", "/api/brands/"),
        ("get", f"/api/brands/{campaign.brand_id}/changes/"),
        ("get", "/api/budgets/"),
        ("get", "/api/campaigns/"),
        ("get", f"/api/campaigns/{campaign.pk}/"),
        ("patch", f"/api/campaigns/{campaign.pk}/"),
        ("post", f"/api/campaigns/{campaign.pk}/pause/"),
        ("delete", f"/api/campaigns/{campaign.pk}/"),
        ("get", "/api/dayparts/"),
        ("get", "/api/spend/"),
        ("get", f"/api/spend/{event.pk}/"),
        ("get", "/api/status/"),
        ("get", "/api/schema/"),
    ]


def test_a_feed_gets_403_everywhere_else_in_the_api(
    feed: tuple[SpendFeed, APIClient], ours: Campaign
) -> None:
    _feed, client = feed
    for method, url in _everything_else(ours):
        response = getattr(client, method)(url, {}, format="json")
        assert response.status_code == 403, (method, url, response.status_code)
        assert b"may only record spend" in response.content, (method, url)
    assert client.get("/api/docs/").status_code == 403  # Swagger UI: the HTML 403 page
    ours.refresh_from_db()
    assert ours.enabled
    assert Campaign.objects.filter(pk=ours.pk).exists()


def test_a_feed_key_opens_neither_the_dashboard_nor_the_admin(ours: Campaign) -> None:
    _feed, key = feed_create(name="Meta connector", brand_ids=[ours.brand_id])
    browser = Client(HTTP_AUTHORIZATION=f"Api-Key {key}")
    dashboard = browser.get("/")
    assert dashboard.status_code == 302
    assert dashboard["Location"].startswith("/login/")
    brand_page = browser.get(f"/brands/{ours.brand_id}/")
    assert brand_page.status_code == 302
    admin = browser.get("/admin/credentials/spendfeed/")
    assert admin.status_code == 302
    assert admin["Location"].startswith("/admin/login/")


def test_a_feed_key_is_not_a_token(ours: Campaign) -> None:
    _feed, key = feed_create(name="Meta connector", brand_ids=[ours.brand_id])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    response = client.post("/api/spend/", {"campaign": ours.pk, "amount": "1"}, format="json")
    assert response.status_code == 401
    assert not SpendEvent.objects.exists()


def test_request_auth_of_a_feed_says_what_the_spend_path_needs(ours: Campaign) -> None:
    other = CampaignFactory.create()
    _feed, key = feed_create(
        name="Agency script", brand_ids=[ours.brand_id, other.brand_id], may_adjust=True
    )
    django_request = APIRequestFactory().post("/api/spend/")
    django_request.META["HTTP_AUTHORIZATION"] = f"Api-Key {key}"
    result = SpendFeedAuthentication().authenticate(Request(django_request))
    assert result is not None
    user, auth = result
    assert isinstance(user, AnonymousUser)
    assert auth.is_spend_feed is True
    assert auth.name == "Agency script"
    assert auth.may_adjust is True
    assert auth.brand_ids == frozenset({ours.brand_id, other.brand_id})
    assert isinstance(auth.brand_ids, frozenset)


@pytest.mark.parametrize(
    ("header", "detail"),
    [
        ("Api-Key", "Invalid header: no key after the scheme."),
        ("Api-Key abc.def ghi", "Invalid header: a key has no spaces."),
        ("Api-Key nodot", "Invalid API key."),
        ("Api-Key {prefix}.wrong-secret", "Invalid API key."),
        ("Api-Key unknown0.{secret}", "Invalid API key."),
    ],
)
def test_a_bad_key_is_refused_with_a_clear_message(
    ours: Campaign, header: str, detail: str
) -> None:
    _feed, key = feed_create(name="Meta connector", brand_ids=[ours.brand_id])
    prefix, secret = key.split(".")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header.format(prefix=prefix, secret=secret))
    response = client.post("/api/spend/", {"campaign": ours.pk, "amount": "1"}, format="json")
    assert response.status_code == 401
    assert response.json()["detail"] == detail
    assert not SpendEvent.objects.exists()


def test_a_revoked_key_is_refused_on_its_next_request(ours: Campaign, settings: Any) -> None:
    settings.API_TOKEN_CACHE_SECONDS = 1
    _feed, key = feed_create(name="Meta connector", brand_ids=[ours.brand_id])
    client = feed_client(key)
    body = {"campaign": ours.pk, "amount": "1"}
    assert client.post("/api/spend/", body, format="json").status_code == 201
    feed_revoke(name="Meta connector")
    forget_checked_keys()  # as a second later
    response = client.post("/api/spend/", body, format="json")
    assert response.status_code == 401
    assert response.json()["detail"] == "This API key was revoked."
    assert SpendEvent.objects.count() == 1


def test_an_expired_key_is_refused_even_when_remembered(ours: Campaign, settings: Any) -> None:
    settings.API_TOKEN_CACHE_SECONDS = 1
    with time_machine.travel(NOW, tick=False):
        feed, key = feed_create(name="Meta connector", brand_ids=[ours.brand_id], expires_days=7)
    assert feed.expiry_date == NOW + dt.timedelta(days=7)
    client = feed_client(key)
    body = {"campaign": ours.pk, "amount": "1"}
    with time_machine.travel(NOW + dt.timedelta(days=7, seconds=-0.3), tick=False):
        assert client.post("/api/spend/", body, format="json").status_code == 201
    with time_machine.travel(NOW + dt.timedelta(days=7, seconds=0.001), tick=False):
        response = client.post("/api/spend/", body, format="json")
    assert response.status_code == 401
    assert response.json()["detail"] == "This API key has expired."


def test_last_used_is_written_at_most_once_a_minute(
    feed: tuple[SpendFeed, APIClient], ours: Campaign
) -> None:
    feed_row, client = feed
    body = {"campaign": ours.pk, "amount": "1"}
    with time_machine.travel(NOW, tick=False):
        assert client.post("/api/spend/", body, format="json").status_code == 201
    with time_machine.travel(NOW + dt.timedelta(seconds=59), tick=False):
        assert client.post("/api/spend/", body, format="json").status_code == 201
    feed_row.refresh_from_db()
    assert feed_row.last_used_at == NOW
    with time_machine.travel(NOW + dt.timedelta(seconds=61), tick=False):
        assert client.post("/api/spend/", body, format="json").status_code == 201
    feed_row.refresh_from_db()
    assert feed_row.last_used_at == NOW + dt.timedelta(seconds=61)


def test_the_stored_key_is_hashed(ours: Campaign) -> None:
    feed, key = feed_create(name="Meta connector", brand_ids=[ours.brand_id])
    stored = SpendFeed.objects.filter(pk=feed.pk).values().get()
    secret = key.split(".")[1]
    assert not any(secret in str(value) for value in stored.values())
    assert stored["hashed_key"].startswith("sha512$$")


def test_creation_and_revocation_are_on_each_brands_trail(ours: Campaign) -> None:
    other = CampaignFactory.create()
    feed_create(name="Meta connector", brand_ids=[ours.brand_id, other.brand_id])
    feed_revoke(name="Meta connector")
    rows = SettingChange.objects.filter(object_type="spend feed", object_repr="Meta connector")
    assert sorted(rows.filter(field="name").values_list("brand_id", flat=True)) == sorted(
        [ours.brand_id, other.brand_id]
    )
    assert rows.filter(field="revoked", after="yes").count() == 2


def test_each_feed_is_throttled_on_its_own(ours: Campaign, settings: Any) -> None:
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"spend": "2/min"},
    }
    _one, first_key = feed_create(name="One", brand_ids=[ours.brand_id])
    _two, second_key = feed_create(name="Two", brand_ids=[ours.brand_id])
    body = {"campaign": ours.pk, "amount": "1"}

    def post(client: APIClient) -> int:
        return int(client.post("/api/spend/", body, format="json").status_code)

    first, second = feed_client(first_key), feed_client(second_key)
    with time_machine.travel(NOW + dt.timedelta(seconds=1), tick=False):
        assert [post(first), post(first), post(first)] == [201, 201, 429]
        # Same address, another feed: its own count.
        assert [post(second), post(second), post(second)] == [201, 201, 429]
    assert SpendEvent.objects.count() == 4
