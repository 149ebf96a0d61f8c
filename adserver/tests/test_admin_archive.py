"""The admin archives instead of deleting what has spend, and its lists leave the archived out."""

import pytest
from django.contrib.auth.models import User
from django.contrib.messages import get_messages
from django.test import Client

from budgets.models import Brand, BrandMembership, Role, SettingChange
from budgets.staff import brand_managers_group
from budgets.tests.factories import BrandFactory
from campaigns import archive
from campaigns.models import Campaign
from campaigns.tests.factories import CampaignFactory
from spend.tests.factories import SpendEventFactory

pytestmark = pytest.mark.django_db


def _messages(response: object) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]  # type: ignore[attr-defined]


def _manager_client(brand: Brand) -> Client:
    user = User.objects.create_user("manager-a", password="x", is_staff=True)
    user.groups.add(brand_managers_group())
    BrandMembership.objects.create(user=user, brand=brand, role=Role.MANAGER)
    client = Client()
    client.force_login(user)
    return client


def test_deleting_a_brand_with_spend_is_refused_in_words(staff_client: Client) -> None:
    event = SpendEventFactory.create()
    url = f"/admin/budgets/brand/{event.brand_id}/delete/"
    for response in (staff_client.get(url), staff_client.post(url, {"post": "yes"})):
        assert response.status_code == 302
        assert response["Location"].endswith(f"/admin/budgets/brand/{event.brand_id}/change/")
        message = _messages(response)[-1]
        assert "has recorded spend, which is never deleted; archive it instead" in message
        assert "permission" not in message
    assert Brand.objects.filter(pk=event.brand_id).exists()


def test_deleting_a_campaign_with_spend_is_refused_in_words(staff_client: Client) -> None:
    event = SpendEventFactory.create()
    response = staff_client.post(
        f"/admin/campaigns/campaign/{event.campaign_id}/delete/", {"post": "yes"}
    )
    assert response.status_code == 302
    assert "archive it instead" in _messages(response)[0]
    assert Campaign.objects.filter(pk=event.campaign_id).exists()


def test_a_brand_without_spend_is_still_deleted_after_confirmation(staff_client: Client) -> None:
    brand = BrandFactory.create()
    url = f"/admin/budgets/brand/{brand.pk}/delete/"
    assert staff_client.get(url).status_code == 200
    assert staff_client.post(url, {"post": "yes"}).status_code == 302
    assert not Brand.objects.filter(pk=brand.pk).exists()


def test_lists_leave_the_archived_out_unless_the_filter_asks(staff_client: Client) -> None:
    live = CampaignFactory.create(name="Live campaign", brand__name="Live brand")
    gone = CampaignFactory.create(name="Gone campaign", brand__name="Gone brand")
    archive.brand_archive(brand_id=gone.brand_id)

    def names(url: str) -> str:
        response = staff_client.get(url)
        assert response.status_code == 200
        return response.content.decode()

    page = names("/admin/budgets/brand/")
    assert "Live brand" in page
    assert "Gone brand" not in page
    page = names("/admin/budgets/brand/?archived=yes")
    assert "Gone brand" in page
    assert "Live brand" not in page
    page = names("/admin/budgets/brand/?archived=all")
    assert "Gone brand" in page
    assert "Live brand" in page
    page = names("/admin/campaigns/campaign/")
    assert live.name in page
    assert gone.name not in page
    assert gone.name in names("/admin/campaigns/campaign/?archived=yes")
    # The archived object keeps its page.
    assert staff_client.get(f"/admin/budgets/brand/{gone.brand_id}/change/").status_code == 200


def test_an_agency_admin_archives_brands_from_the_list(staff_client: Client) -> None:
    brand = BrandFactory.create()
    response = staff_client.post(
        "/admin/budgets/brand/",
        {"action": "archive_selected", "_selected_action": [str(brand.pk)]},
    )
    assert response.status_code == 302
    assert Brand.objects.get(pk=brand.pk).archived_at is not None
    assert SettingChange.objects.filter(object_id=brand.pk, field="archived").exists()


def test_a_manager_archives_campaigns_but_not_brands() -> None:
    campaign = CampaignFactory.create()
    client = _manager_client(campaign.brand)
    assert "archive_selected" not in client.get("/admin/budgets/brand/").content.decode()
    client.post(
        "/admin/budgets/brand/",
        {"action": "archive_selected", "_selected_action": [str(campaign.brand_id)]},
    )
    assert Brand.objects.get(pk=campaign.brand_id).archived_at is None

    response = client.post(
        "/admin/campaigns/campaign/",
        {"action": "archive_selected", "_selected_action": [str(campaign.pk)]},
    )
    assert response.status_code == 302
    assert Campaign.objects.get(pk=campaign.pk).archived_at is not None
