"""The brand page lists the brand's spend feeds: name, state, last used, events today."""

import datetime as dt
import re

import pytest
import time_machine
from django.test import Client

from adserver.api.tests.conftest import member_of
from budgets.models import Role
from budgets.tests.factories import BrandFactory
from campaigns.tests.factories import CampaignFactory
from credentials.models import SpendFeed
from credentials.services import feed_create, feed_revoke
from spend.tests.factories import SpendEventFactory

pytestmark = pytest.mark.django_db

# 23:00 on 9 March in New York: the brand's "today" is 9 March.
NOW = dt.datetime(2026, 3, 10, 3, 0, tzinfo=dt.UTC)


def _row(html: str, name: str) -> str:
    found = re.search(rf'<tr data-name="{re.escape(name)}">(.*?)</tr>', html, re.S)
    assert found is not None, html
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", found.group(1))).strip()


@time_machine.travel(NOW, tick=False)
def test_the_brand_page_counts_each_feeds_events_of_the_brands_local_today() -> None:
    brand = BrandFactory.create(timezone="America/New_York")
    campaign = CampaignFactory.create(brand=brand)
    elsewhere = CampaignFactory.create()
    feed, _key = feed_create(name="Meta", brand_ids=[brand.pk, elsewhere.brand_id])
    feed_create(name="Idle", brand_ids=[brand.pk])
    feed_create(name="Not ours", brand_ids=[elsewhere.brand_id])
    SpendFeed.objects.filter(pk=feed.pk).update(last_used_at=NOW - dt.timedelta(hours=1))
    for at in (
        dt.datetime(2026, 3, 9, 4, 0, tzinfo=dt.UTC),  # 00:00 local (EDT): today
        dt.datetime(2026, 3, 10, 2, 59, tzinfo=dt.UTC),  # 22:59 local: today
    ):
        SpendEventFactory.create(campaign=campaign, occurred_at=at, source="Meta")
    # Not counted: yesterday (local), another source, another brand.
    yesterday = dt.datetime(2026, 3, 9, 3, 59, tzinfo=dt.UTC)
    SpendEventFactory.create(campaign=campaign, occurred_at=yesterday, source="Meta")
    SpendEventFactory.create(campaign=campaign, occurred_at=NOW, source="user:alice")
    SpendEventFactory.create(campaign=elsewhere, occurred_at=NOW, source="Meta")
    viewer = member_of(brand, Role.VIEWER, "viewer")
    client = Client()
    client.force_login(viewer)

    html = client.get(brand.get_absolute_url()).content.decode()

    assert _row(html, "Meta") == "Meta active 2026-03-09 22:00 EDT 2" or _row(
        html, "Meta"
    ).endswith(" 2")
    assert "22:00" in _row(html, "Meta")
    assert _row(html, "Idle") == "Idle active never 0"
    assert 'data-name="Not ours"' not in html


def test_a_revoked_feed_shows_as_revoked() -> None:
    campaign = CampaignFactory.create()
    feed_create(name="Old", brand_ids=[campaign.brand_id])
    feed_revoke(name="Old")
    viewer = member_of(campaign.brand, Role.VIEWER, "viewer")
    client = Client()
    client.force_login(viewer)
    html = client.get(campaign.brand.get_absolute_url()).content.decode()
    assert _row(html, "Old").startswith("Old revoked")
