"""The dashboard's lists leave archived brands and campaigns out; a filter shows them."""

import pytest
from django.test import Client

from budgets.tests.factories import BrandFactory
from campaigns import archive
from campaigns.tests.factories import CampaignFactory

pytestmark = pytest.mark.django_db


def _page(client: Client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def test_archived_brands_leave_the_brand_list(staff_client: Client) -> None:
    BrandFactory.create(name="Live brand")
    gone = BrandFactory.create(name="Gone brand")
    archive.brand_archive(brand_id=gone.pk)
    page = _page(staff_client, "/brands/")
    assert "Live brand" in page
    assert "Gone brand" not in page
    page = _page(staff_client, "/brands/?archived=on")
    assert "Gone brand" in page
    assert "Live brand" not in page
    detail = _page(staff_client, gone.get_absolute_url())
    assert 'id="archived"' in detail


def test_archived_campaigns_and_those_of_archived_brands_leave_the_campaign_list(
    staff_client: Client,
) -> None:
    live = CampaignFactory.create(name="Live campaign")
    alone = CampaignFactory.create(name="Archived campaign")
    with_brand = CampaignFactory.create(name="Campaign of an archived brand")
    archive.campaign_archive(campaign_id=alone.pk)
    archive.brand_archive(brand_id=with_brand.brand_id)
    page = _page(staff_client, "/campaigns/")
    assert live.name in page
    assert alone.name not in page
    assert with_brand.name not in page
    page = _page(staff_client, "/campaigns/?archived=on")
    assert alone.name in page
    assert with_brand.name in page
    assert live.name not in page
    assert 'id="archived"' in _page(staff_client, alone.get_absolute_url())
