"""feed_create, feed_revoke and token_create: a key printed once, clear refusals."""

import io

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.core.management.base import CommandError
from knox.models import AuthToken
from rest_framework.test import APIClient

from budgets.models import SettingChange
from budgets.tests.factories import BrandFactory
from campaigns.tests.factories import CampaignFactory
from credentials.models import SpendFeed

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_remembering(settings: object) -> None:
    settings.API_TOKEN_CACHE_SECONDS = 0  # type: ignore[attr-defined]


def run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue().strip()


def test_feed_create_prints_a_key_that_posts_for_its_brands() -> None:
    campaign = CampaignFactory.create()
    other = BrandFactory.create()
    key = run(
        "feed_create",
        "DV360",
        "--brand",
        str(campaign.brand_id),
        "--brand",
        str(other.pk),
        "--may-adjust",
        "--expires-days",
        "30",
    )
    feed = SpendFeed.objects.get(name="DV360")
    assert set(feed.brands.values_list("pk", flat=True)) == {campaign.brand_id, other.pk}
    assert feed.may_adjust
    assert feed.expiry_date is not None
    assert feed.hashed_key != key
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    response = client.post("/api/spend/", {"campaign": campaign.pk, "amount": "2"}, format="json")
    assert response.status_code == 201, response.json()
    assert SettingChange.objects.filter(actor="command:feed_create", field="name").count() == 2


def test_feed_create_refuses_an_unknown_brand_and_creates_nothing() -> None:
    brand = BrandFactory.create()
    with pytest.raises(CommandError, match=r"brands: No brand with id 999999\."):
        run("feed_create", "DV360", "--brand", str(brand.pk), "--brand", "999999")
    assert not SpendFeed.objects.exists()


def test_feed_create_refuses_a_duplicate_name() -> None:
    brand = BrandFactory.create()
    run("feed_create", "DV360", "--brand", str(brand.pk))
    with pytest.raises(CommandError, match='A feed named "DV360" exists already'):
        run("feed_create", "DV360", "--brand", str(brand.pk))
    assert SpendFeed.objects.count() == 1


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("user:alice", "names people's or the server's own events"),
        ("system", "names people's or the server's own events"),
        ("Simulator", "names people's or the server's own events"),
        ("bad\x07name", "control characters"),
        (" padded", "blanks"),
        ("x" * 65, "at most 64"),
    ],
)
def test_feed_create_refuses_a_bad_name(name: str, message: str) -> None:
    brand = BrandFactory.create()
    with pytest.raises(CommandError, match=message):
        run("feed_create", name, "--brand", str(brand.pk))
    assert not SpendFeed.objects.exists()


def test_feed_create_refuses_a_bad_expiry() -> None:
    brand = BrandFactory.create()
    with pytest.raises(CommandError, match="expires_days"):
        run("feed_create", "DV360", "--brand", str(brand.pk), "--expires-days", "0")
    assert not SpendFeed.objects.exists()


def test_feed_revoke_refuses_the_key_and_says_so() -> None:
    campaign = CampaignFactory.create()
    key = run("feed_create", "DV360", "--brand", str(campaign.brand_id))
    assert "is revoked" in run("feed_revoke", "DV360")
    feed = SpendFeed.objects.get()
    assert feed.revoked
    assert feed.revoked_at is not None
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    response = client.post("/api/spend/", {"campaign": campaign.pk, "amount": "2"}, format="json")
    assert response.status_code == 401
    # Revoking again changes nothing and is no error.
    assert "is revoked" in run("feed_revoke", "DV360")


def test_feed_revoke_refuses_an_unknown_feed() -> None:
    with pytest.raises(CommandError, match='No feed named "nope"'):
        run("feed_revoke", "nope")


def test_token_create_prints_a_token_that_is_stored_hashed(staff_user: User) -> None:
    key = run("token_create", staff_user.username, "--expires-days", "7")
    token = AuthToken.objects.get(user=staff_user)
    assert token.expiry is not None
    assert key not in (token.digest, token.token_key)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.get("/api/brands/").status_code == 200


def test_token_create_refuses_an_unknown_or_deactivated_user(staff_user: User) -> None:
    with pytest.raises(CommandError, match='No user named "ghost"'):
        run("token_create", "ghost")
    staff_user.is_active = False
    staff_user.save(update_fields=["is_active"])
    with pytest.raises(CommandError, match="deactivated"):
        run("token_create", staff_user.username)
    assert not AuthToken.objects.exists()
