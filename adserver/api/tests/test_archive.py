"""Archive through the API: who may, what the lists show, and the 409 on spend."""

import pytest
from rest_framework.test import APIClient

from adserver.api.tests.conftest import World
from budgets.models import Brand
from campaigns import archive
from campaigns.models import Campaign
from spend.models import SpendEvent

pytestmark = pytest.mark.django_db


def _ids(response: object) -> set[int]:
    assert response.status_code == 200, response.content  # type: ignore[attr-defined]
    return {row["id"] for row in response.json()["results"]}  # type: ignore[attr-defined]


def test_a_manager_archives_a_campaign_and_it_leaves_the_list(world: World) -> None:
    campaign = world.a.campaign
    response = world.manager.post(f"/api/campaigns/{campaign.pk}/archive/")
    assert response.status_code == 200
    assert response.json()["archived_at"] is not None
    assert response.json()["status"] == "paused"
    assert campaign.pk not in _ids(world.manager.get("/api/campaigns/"))
    assert _ids(world.manager.get("/api/campaigns/", {"archived": "true"})) == {campaign.pk}
    # It keeps its page and its spend.
    assert world.manager.get(f"/api/campaigns/{campaign.pk}/").status_code == 200
    assert world.manager.get("/api/spend/", {"campaign": campaign.pk}).json()["count"] == 1

    response = world.manager.post(f"/api/campaigns/{campaign.pk}/unarchive/")
    assert response.status_code == 200
    assert response.json()["archived_at"] is None
    assert campaign.pk in _ids(world.manager.get("/api/campaigns/"))


def test_a_viewer_may_not_archive_a_campaign(world: World) -> None:
    response = world.viewer.post(f"/api/campaigns/{world.a.campaign.pk}/archive/")
    assert response.status_code == 403
    assert Campaign.objects.get(pk=world.a.campaign.pk).archived_at is None
    # Another brand's campaign does not exist for them.
    assert world.manager.post(f"/api/campaigns/{world.b.campaign.pk}/archive/").status_code == 404
    assert Campaign.objects.get(pk=world.b.campaign.pk).archived_at is None


def test_only_an_agency_admin_archives_a_brand(world: World) -> None:
    brand = world.a.brand
    refused = world.manager.post(f"/api/brands/{brand.pk}/archive/")
    assert refused.status_code == 403
    assert Brand.objects.get(pk=brand.pk).archived_at is None

    response = world.agency_admin.post(f"/api/brands/{brand.pk}/archive/")
    assert response.status_code == 200
    assert response.json()["archived_at"] is not None
    assert brand.pk not in _ids(world.agency_admin.get("/api/brands/"))
    assert _ids(world.agency_admin.get("/api/brands/", {"archived": "true"})) == {brand.pk}
    # Its campaigns leave the campaign list with it.
    assert world.a.campaign.pk not in _ids(world.agency_admin.get("/api/campaigns/"))
    assert world.manager.get(f"/api/brands/{brand.pk}/").status_code == 200


def test_spend_for_an_archived_campaign_is_a_409_naming_the_archive(world: World) -> None:
    campaign = world.a.campaign
    archive.campaign_archive(campaign_id=campaign.pk)
    before = SpendEvent.objects.count()
    response = world.manager.post(
        "/api/spend/", {"campaign": campaign.pk, "amount": "1.00"}, format="json"
    )
    assert response.status_code == 409
    body = response.json()
    assert body["archived"] == f"Campaign {campaign.pk} ({campaign.name})"
    assert body["campaign"] == campaign.pk
    assert "is archived" in body["detail"]
    assert SpendEvent.objects.count() == before


def test_a_batch_with_spend_for_an_archived_brand_is_a_409_with_its_index(
    world: World, api: APIClient
) -> None:
    archive.brand_archive(brand_id=world.b.brand.pk)
    before = SpendEvent.objects.count()
    events = [
        {"campaign": world.a.campaign.pk, "amount": "1.00"},
        {"campaign": world.b.campaign.pk, "amount": "1.00"},
    ]
    response = api.post("/api/spend/batch/", {"events": events}, format="json")
    assert response.status_code == 409
    body = response.json()
    assert body["index"] == 1
    assert body["archived"] == f"Brand {world.b.brand.pk} ({world.b.brand.name})"
    assert SpendEvent.objects.count() == before


def test_deleting_a_brand_with_spend_says_to_archive_it(api: APIClient, world: World) -> None:
    response = api.delete(f"/api/brands/{world.a.brand.pk}/")
    assert response.status_code == 409
    assert "archive it instead" in response.json()["detail"]
    response = api.delete(f"/api/campaigns/{world.a.campaign.pk}/")
    assert response.status_code == 409
    assert "archive it instead" in response.json()["detail"]
