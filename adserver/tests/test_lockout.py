"""Failed logins lock out a username and address pair: dashboard, admin and API alike."""

import pytest
from axes.models import AccessAttempt
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from knox.models import AuthToken
from pytest_django.fixtures import Settings
from rest_framework.test import APIClient

from adserver.api.tests.remembered import forget_checked_keys
from campaigns.tests.factories import CampaignFactory
from credentials.services import feed_create

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery"
LIMIT = 5


@pytest.fixture(autouse=True)
def _limit(settings: Settings) -> None:
    settings.AXES_FAILURE_LIMIT = LIMIT
    settings.LOGIN_THROTTLE_RATE = "1000/min"
    forget_checked_keys()


def _fail(client: Client, path: str, username: str, times: int) -> list[int]:
    return [
        client.post(path, {"username": username, "password": "wrong"}).status_code
        for _ in range(times)
    ]


@pytest.mark.parametrize("path", ["/login/", "/admin/login/"])
def test_repeated_failures_lock_the_username_from_that_address(staff_user: User, path: str) -> None:
    client = Client()
    assert _fail(client, path, "staff", LIMIT - 1) == [200] * (LIMIT - 1)
    locked = client.post(path, {"username": "staff", "password": "wrong"})
    assert locked.status_code == 429
    page = locked.content.decode()
    assert "Too many failed logins" in page
    assert "unlock" in page

    # Even the right password is refused now, on both login pages.
    for login in ("/login/", "/admin/login/"):
        right = client.post(login, {"username": "staff", "password": PASSWORD})
        assert right.status_code == 429
        assert "_auth_user_id" not in client.session

    # The pair is locked, not the username nor the address.
    assert (
        Client(REMOTE_ADDR="10.0.0.8")
        .post("/login/", {"username": "staff", "password": PASSWORD})
        .status_code
        == 302
    )
    User.objects.create_user("other", password=PASSWORD)
    assert client.post("/login/", {"username": "other", "password": PASSWORD}).status_code == 302


def test_a_success_before_the_limit_starts_the_count_again(staff_user: User) -> None:
    client = Client()
    _fail(client, "/login/", "staff", LIMIT - 1)
    assert client.post("/login/", {"username": "staff", "password": PASSWORD}).status_code == 302
    client.logout()
    assert _fail(client, "/login/", "staff", LIMIT - 1) == [200] * (LIMIT - 1)


def test_an_agency_admin_unlocks_in_the_admin(staff_user: User) -> None:
    locked_out = User.objects.create_user("locked", password=PASSWORD)
    client = Client()
    _fail(client, "/login/", "locked", LIMIT)
    assert client.post("/login/", {"username": "locked", "password": PASSWORD}).status_code == 429
    attempt = AccessAttempt.objects.get(username="locked")

    admin = Client()
    admin.force_login(staff_user)
    listing = admin.get("/admin/axes/accessattempt/")
    assert listing.status_code == 200
    assert "locked" in listing.content.decode()
    deleted = admin.post(
        f"/admin/axes/accessattempt/{attempt.pk}/delete/", {"post": "yes"}, follow=True
    )
    assert deleted.status_code == 200

    assert not AccessAttempt.objects.filter(username="locked").exists()
    response = client.post("/login/", {"username": "locked", "password": PASSWORD})
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(locked_out.pk)


def test_staff_who_manage_brands_may_not_see_or_unlock_attempts(staff_user: User) -> None:
    client = Client()
    _fail(client, "/login/", "someone", LIMIT)
    manager = User.objects.create_user("manager", password=PASSWORD, is_staff=True)
    admin = Client()
    admin.force_login(manager)
    attempt = AccessAttempt.objects.get(username="someone")
    assert admin.get("/admin/axes/accessattempt/").status_code == 403
    assert (
        admin.post(f"/admin/axes/accessattempt/{attempt.pk}/delete/", {"post": "yes"}).status_code
        == 403
    )
    assert AccessAttempt.objects.filter(username="someone").exists()


def test_failed_api_tokens_lock_the_address_out_with_a_json_429(staff_user: User) -> None:
    _token, key = AuthToken.objects.create(user=staff_user)
    guesser = APIClient()
    guesser.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    codes = [guesser.get("/api/status/").status_code for _ in range(LIMIT)]
    assert codes == [401] * (LIMIT - 1) + [429]
    locked = guesser.get("/api/status/")
    assert locked.status_code == 429
    assert locked["Content-Type"] == "application/json"
    assert locked.json()["detail"] == (
        "Too many failed attempts with an unknown Token from this address: locked out for "
        "30 minutes, or until an administrator unlocks it."
    )
    assert int(locked["Retry-After"]) == 30 * 60

    # Another address is not locked out; a good key costs no lockout query.
    elsewhere = APIClient(REMOTE_ADDR="10.0.0.5")
    elsewhere.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    assert elsewhere.get("/api/status/").status_code == 401
    elsewhere.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert elsewhere.get("/api/status/").status_code == 200
    attempt = AccessAttempt.objects.get(ip_address="127.0.0.1")
    assert (attempt.username, attempt.ip_address) == ("api-token", "127.0.0.1")


def test_a_good_token_costs_no_lockout_query(staff_user: User, settings: Settings) -> None:
    settings.API_TOKEN_CACHE_SECONDS = 0  # looked up every time
    _token, key = AuthToken.objects.create(user=staff_user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/api/status/").status_code == 200
    assert [query for query in queries if "knox_authtoken" in query["sql"]]
    assert not [query for query in queries if "axes_" in query["sql"]]


def test_failed_feed_keys_count_towards_the_same_lockout() -> None:
    campaign = CampaignFactory.create()
    _feed, key = feed_create(name="meta-connector", brand_ids=[campaign.brand_id])
    event = {"campaign": campaign.pk, "amount": "1.00"}
    guesser = APIClient()
    guesser.credentials(HTTP_AUTHORIZATION="Api-Key nothing.real")
    codes = [guesser.post("/api/spend/", event, format="json").status_code for _ in range(LIMIT)]
    assert codes == [401] * (LIMIT - 1) + [429]
    assert "unknown Api-Key" in guesser.post("/api/spend/", event, format="json").json()["detail"]
    assert AccessAttempt.objects.get(username="api-api-key").ip_address == "127.0.0.1"
    # Tokens from that address are another pair, and the feed's own key works elsewhere.
    guesser.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    assert guesser.get("/api/status/").status_code == 401
    feed_client = APIClient(REMOTE_ADDR="10.0.0.6")
    feed_client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    assert feed_client.post("/api/spend/", event, format="json").status_code == 201
