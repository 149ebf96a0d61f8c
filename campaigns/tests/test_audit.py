"""The audit trail of campaign, flight, pause and daypart settings."""

import datetime as dt

import pytest

from budgets import audit
from budgets.models import SettingChange, Via
from budgets.tests.factories import BrandFactory, BudgetFactory, UserFactory
from campaigns import services
from campaigns.tests.factories import CampaignFactory

pytestmark = pytest.mark.django_db


def trail(campaign_brand_id: int) -> list[tuple[str, str, str | None, str | None, str]]:
    return [
        (change.object_type, change.field, change.before, change.after, change.actor)
        for change in SettingChange.objects.filter(brand_id=campaign_brand_id).order_by("id")
    ]


def test_budget_and_flight_changes_are_recorded() -> None:
    brand = BrandFactory.create()
    budget = BudgetFactory.create(brand=brand, name="Search")
    campaign = CampaignFactory.create(brand=brand, name="Spring")

    services.campaign_update(
        campaign_id=campaign.pk,
        budget=budget,
        starts_on=dt.date(2026, 3, 1),
        ends_on=dt.date(2026, 3, 31),
    )

    assert trail(brand.pk) == [
        ("campaign", "budget", None, "Search", "system"),
        ("campaign", "starts_on", None, "2026-03-01", "system"),
        ("campaign", "ends_on", None, "2026-03-31", "system"),
    ]


def test_a_pause_and_a_resume_are_recorded_with_the_person() -> None:
    brand = BrandFactory.create()
    campaign = CampaignFactory.create(brand=brand)
    person = UserFactory.create(username="cy")

    with audit.acting_as(audit.actor_for(None, Via.API)):
        services.campaign_pause(campaign_id=campaign.pk, user=person)
        services.campaign_pause(campaign_id=campaign.pk, user=person)  # already paused
        services.campaign_resume(campaign_id=campaign.pk, user=person)

    assert trail(brand.pk) == [
        ("campaign", "enabled", "yes", "no", "cy"),
        ("campaign", "enabled", "no", "yes", "cy"),
    ]
    assert set(SettingChange.objects.values_list("via", "user")) == {(Via.API, person.pk)}


def test_a_bulk_pause_records_each_campaign() -> None:
    brand = BrandFactory.create()
    campaigns = CampaignFactory.create_batch(3, brand=brand)

    services.campaigns_set_enabled(campaign_ids=[c.pk for c in campaigns], enabled=False)

    recorded = SettingChange.objects.filter(field="enabled").order_by("object_id")
    assert [change.object_id for change in recorded] == [c.pk for c in campaigns]
    assert {change.after for change in recorded} == {"no"}


def test_daypart_windows_are_recorded_as_one_setting() -> None:
    brand = BrandFactory.create()
    campaign = CampaignFactory.create(brand=brand)

    daypart = services.daypart_create(
        campaign=campaign, days=["mon", "tue"], start_time=dt.time(9), end_time=dt.time(17)
    )
    services.daypart_update(daypart_id=daypart.pk, end_time=dt.time(2))
    services.daypart_delete(daypart_id=daypart.pk)

    assert [row[1:4] for row in trail(brand.pk)] == [
        ("window", None, "mon,tue 09:00-17:00"),
        ("window", "mon,tue 09:00-17:00", "mon,tue 09:00-02:00"),
        ("window", "mon,tue 09:00-02:00", None),
    ]


def test_a_campaign_deleted_leaves_its_settings_in_the_trail() -> None:
    brand = BrandFactory.create()
    campaign = CampaignFactory.create(brand=brand, name="Old")

    services.campaign_delete(campaign_id=campaign.pk)

    assert ("campaign", "name", "Old", None, "system") in trail(brand.pk)
