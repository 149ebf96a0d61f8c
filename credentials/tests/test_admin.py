"""Feeds and tokens in the admin: agency admins create (key shown once), list, revoke."""

import re
from typing import Any

import pytest
from django.contrib.auth.models import Permission, User
from django.test import Client
from knox.models import AuthToken
from rest_framework.test import APIClient

from budgets.models import BrandMembership, Role
from budgets.staff import brand_managers_group
from campaigns.models import Campaign
from campaigns.tests.factories import CampaignFactory
from credentials.models import SpendFeed
from credentials.services import feed_create

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/credentials/spendfeed/"
TOKENS = "/admin/knox/authtoken/"


@pytest.fixture(autouse=True)
def _no_remembering(settings: Any) -> None:
    settings.API_TOKEN_CACHE_SECONDS = 0


@pytest.fixture
def campaign() -> Campaign:
    return CampaignFactory.create()


def _posts_spend(key: str, campaign: Campaign) -> int:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    body = {"campaign": campaign.pk, "amount": "1"}
    return int(client.post("/api/spend/", body, format="json").status_code)


def test_an_agency_admin_creates_a_feed_and_sees_its_key_once(
    staff_client: Client, campaign: Campaign
) -> None:
    form = {"name": "Meta", "brands": [campaign.brand_id], "may_adjust": "on", "expires_days": 30}
    response = staff_client.post(f"{CHANGELIST}add/", form, follow=True)
    assert response.redirect_chain, response.content[:2000]
    shown = [str(m) for m in response.context["messages"]]
    found = re.search(r": (\S+\.\S+)$", shown[0])
    assert found is not None, shown
    key = found.group(1)
    assert key.encode() in response.content
    feed = SpendFeed.objects.get(name="Meta")
    assert feed.may_adjust
    assert feed.expiry_date is not None
    assert list(feed.brands.values_list("pk", flat=True)) == [campaign.brand_id]
    assert _posts_spend(key, campaign) == 201
    # Never again on the feed's pages.
    assert key.encode() not in staff_client.get(CHANGELIST).content
    assert key.encode() not in staff_client.get(f"{CHANGELIST}{feed.pk}/change/").content


def test_an_agency_admin_lists_and_revokes_feeds(staff_client: Client, campaign: Campaign) -> None:
    feed, key = feed_create(name="Meta", brand_ids=[campaign.brand_id])
    listing = staff_client.get(CHANGELIST)
    assert listing.status_code == 200
    assert b"Meta" in listing.content
    response = staff_client.post(CHANGELIST, {"action": "revoke", "_selected_action": [feed.pk]})
    assert response.status_code == 302
    feed.refresh_from_db()
    assert feed.revoked
    assert feed.revoked_at is not None
    assert _posts_spend(key, campaign) == 401


def test_a_feed_cannot_be_deleted_in_the_admin(staff_client: Client, campaign: Campaign) -> None:
    feed, _key = feed_create(name="Meta", brand_ids=[campaign.brand_id])
    assert staff_client.post(f"{CHANGELIST}{feed.pk}/delete/", {"post": "yes"}).status_code == 403
    assert SpendFeed.objects.filter(pk=feed.pk).exists()


def test_a_brand_manager_may_not_manage_feeds_even_of_their_brand(campaign: Campaign) -> None:
    feed, key = feed_create(name="Meta", brand_ids=[campaign.brand_id])
    manager = User.objects.create_user("manager", is_staff=True)
    manager.groups.add(brand_managers_group())
    for codename in ("view_spendfeed", "add_spendfeed", "change_spendfeed"):
        manager.user_permissions.add(Permission.objects.get(codename=codename))
    BrandMembership.objects.create(user=manager, brand=campaign.brand, role=Role.MANAGER)
    client = Client()
    client.force_login(manager)
    assert client.get(CHANGELIST).status_code == 403
    assert client.get(f"{CHANGELIST}add/").status_code == 403
    form = {"name": "Mine", "brands": [campaign.brand_id]}
    assert client.post(f"{CHANGELIST}add/", form).status_code == 403
    refused = client.post(CHANGELIST, {"action": "revoke", "_selected_action": [feed.pk]})
    assert refused.status_code == 403
    assert list(SpendFeed.objects.values_list("name", "revoked")) == [("Meta", False)]
    assert _posts_spend(key, campaign) == 201
    assert client.get(TOKENS).status_code == 403


def test_an_agency_admin_lists_tokens_without_their_secrets_and_revokes_one(
    staff_client: Client, staff_user: User
) -> None:
    token, key = AuthToken.objects.create(user=staff_user)
    listing = staff_client.get(TOKENS)
    assert listing.status_code == 200
    assert key.encode() not in listing.content
    assert staff_user.username.encode() in listing.content
    deleted = staff_client.post(f"{TOKENS}{token.pk}/delete/", {"post": "yes"})
    assert deleted.status_code == 302
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.get("/api/brands/").status_code == 401
