"""Who may use the API: tokens and dashboard sessions; anonymous clients are refused."""

import datetime as dt
import io

import pytest
import time_machine
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import Client
from knox.models import AuthToken
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request
from rest_framework.test import APIClient, APIRequestFactory

from adserver.api.authentication import (
    SpendFeedAuthentication,
    UserTokenAuthentication,
)
from adserver.api.tests.conftest import token_client
from adserver.api.tests.remembered import forget_checked_keys
from budgets.models import Brand, Role
from budgets.services import membership_set
from campaigns.tests.factories import CampaignFactory
from credentials.services import token_create

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 10, 12, 0, tzinfo=dt.UTC)

NEW_BRAND = {"name": "Acme", "daily_budget": "1.00", "monthly_budget": "2.00"}
READS = [
    "/api/brands/",
    "/api/budgets/",
    "/api/campaigns/",
    "/api/dayparts/",
    "/api/spend/",
    "/api/status/",
]


@pytest.mark.parametrize("url", READS)
def test_anonymous_reads_are_refused(url: str) -> None:
    response = APIClient().get(url)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


def test_anonymous_writes_are_refused_and_change_nothing() -> None:
    campaign = CampaignFactory.create()
    client = APIClient()
    assert client.post("/api/brands/", NEW_BRAND, format="json").status_code == 401
    assert client.post(f"/api/campaigns/{campaign.pk}/pause/").status_code == 401
    assert client.delete(f"/api/campaigns/{campaign.pk}/").status_code == 401
    assert Brand.objects.count() == 1
    campaign.refresh_from_db()
    assert campaign.enabled


def test_an_unknown_token_is_refused(db: None) -> None:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    assert client.get("/api/brands/").status_code == 401


def test_a_token_made_with_token_create_works(staff_user: User) -> None:
    out = io.StringIO()
    call_command("token_create", staff_user.username, stdout=out, stderr=io.StringIO())
    key = out.getvalue().strip()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.get("/api/brands/").status_code == 200


def test_a_manager_needs_no_model_permission_to_write(db: None) -> None:
    """Brand roles decide (test_access.py); a manager holds no add/change permission."""
    campaign = CampaignFactory.create()
    manager = User.objects.create_user("manager")
    membership_set(brand=campaign.brand, user=manager, role=Role.MANAGER)
    assert not manager.get_all_permissions()
    client = token_client(manager)
    response = client.patch(f"/api/brands/{campaign.brand_id}/", {"name": "x"}, format="json")
    assert response.status_code == 200, response.json()
    assert client.post(f"/api/campaigns/{campaign.pk}/pause/").status_code == 200
    assert Brand.objects.get().name == "x"


def test_the_dashboard_session_works_with_its_csrf_token(staff_user: User) -> None:
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(staff_user)
    assert browser.get("/api/brands/").status_code == 200

    refused = browser.post("/api/brands/", NEW_BRAND, content_type="application/json")
    assert refused.status_code == 403
    assert "CSRF" in refused.json()["detail"]
    assert not Brand.objects.exists()

    browser.get("/admin/")  # any page that renders a form sets the cookie
    token = browser.cookies["csrftoken"].value
    created = browser.post(
        "/api/brands/", NEW_BRAND, content_type="application/json", HTTP_X_CSRFTOKEN=token
    )
    assert created.status_code == 201, created.json()


def test_a_checked_token_is_remembered_for_the_configured_time(
    staff_user: User, settings: object
) -> None:
    settings.API_TOKEN_CACHE_SECONDS = 1  # type: ignore[attr-defined]
    client = token_client(staff_user)
    assert client.get("/api/status/").status_code == 200
    AuthToken.objects.filter(user=staff_user).delete()
    # Remembered in this process: still accepted until the entry expires.
    assert client.get("/api/status/").status_code == 200
    forget_checked_keys()
    assert client.get("/api/status/").status_code == 401


def test_with_remembering_off_a_deleted_token_is_refused_at_once(
    staff_user: User, settings: object
) -> None:
    settings.API_TOKEN_CACHE_SECONDS = 0  # type: ignore[attr-defined]
    client = token_client(staff_user)
    assert client.get("/api/status/").status_code == 200
    AuthToken.objects.filter(user=staff_user).delete()
    assert client.get("/api/status/").status_code == 401


@pytest.mark.parametrize(
    ("header", "outcome"),
    [
        (None, None),
        ("", None),
        ("Bearer {key}", None),
        ("Basic dXNlcjpwYXNz", None),
        ("Api-Key {key}", "Invalid API key."),
        ("Token", "Invalid header: no key after the scheme."),
        ("Token {key} extra", "Invalid header: a key has no spaces."),
        ("Token not-a-real-token", "Invalid token."),
        ("Token caf\u00e9", "Invalid header: the key is not text."),
        (b"Token \xff\xfe", "Invalid header: the key is not text."),
        ("token {key}", "user"),
        ("Token {key}", "user"),
        ("TOKEN   {key}  ", "user"),
    ],
)
def test_the_authorization_header_is_read_as_drf_reads_it(
    staff_user: User, settings: object, header: str | bytes | None, outcome: str | None
) -> None:
    settings.API_TOKEN_CACHE_SECONDS = 0  # type: ignore[attr-defined]
    _token, key = AuthToken.objects.create(user=staff_user)
    if isinstance(header, str):
        header = header.format(key=key)
    django_request = APIRequestFactory().get("/api/status/")
    if header is not None:
        django_request.META["HTTP_AUTHORIZATION"] = header
    request = Request(django_request)
    authenticators = [UserTokenAuthentication(), SpendFeedAuthentication()]
    if outcome is not None and outcome != "user":
        with pytest.raises(AuthenticationFailed) as refused:
            [authentication.authenticate(request) for authentication in authenticators]
        assert str(refused.value.detail) == outcome
        return
    results = [authentication.authenticate(request) for authentication in authenticators]
    found = [result for result in results if result is not None]
    if outcome is None:
        assert not found
    else:
        assert [user.pk for user, _auth in found] == [staff_user.pk]


def test_a_deactivated_user_is_refused(staff_user: User, settings: object) -> None:
    settings.API_TOKEN_CACHE_SECONDS = 0  # type: ignore[attr-defined]
    client = token_client(staff_user)
    assert client.get("/api/status/").status_code == 200
    staff_user.is_active = False
    staff_user.save(update_fields=["is_active"])
    response = client.get("/api/status/")
    assert response.status_code == 401
    assert response.json()["detail"] == "User inactive or deleted."


def test_an_expired_token_is_refused_even_when_remembered(
    staff_user: User, settings: object
) -> None:
    settings.API_TOKEN_CACHE_SECONDS = 1  # type: ignore[attr-defined]
    with time_machine.travel(NOW, tick=False):
        token, key = token_create(username=staff_user.username, expires_days=1)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    with time_machine.travel(token.expiry - dt.timedelta(milliseconds=300), tick=False):
        assert client.get("/api/status/").status_code == 200
    with time_machine.travel(token.expiry + dt.timedelta(milliseconds=1), tick=False):
        assert client.get("/api/status/").status_code == 401
