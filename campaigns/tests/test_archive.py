"""Archiving: what has spend leaves the lists and takes no new spend, its history kept."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from budgets.models import SettingChange
from budgets.tests.factories import BrandFactory
from campaigns import archive, services
from campaigns.models import Campaign, CampaignStatusChange
from campaigns.tests.factories import CampaignFactory
from spend.archived import spend_refuse_archived
from spend.models import BrandSpend, SpendEvent
from spend.services import SpendArchived, SpendInput, spend_record, spend_record_batch

pytestmark = pytest.mark.django_db


def _spend(campaign: Campaign, amount: str = "1.00") -> None:
    spend_record(campaign_id=campaign.pk, amount=Decimal(amount))


def test_archiving_a_campaign_pauses_it_and_records_who_and_why() -> None:
    campaign = CampaignFactory.create()
    _spend(campaign)
    archived = archive.campaign_archive(campaign_id=campaign.pk)
    assert archived.archived_at is not None
    assert (archived.enabled, archived.status, archived.pause_reason) == (False, "paused", "manual")
    change = CampaignStatusChange.objects.get(campaign=campaign)
    assert change.note == archive.CAMPAIGN_ARCHIVED_NOTE
    trail = SettingChange.objects.get(object_type="campaign", field="archived")
    assert (trail.object_id, trail.before, trail.after) == (campaign.pk, "no", "yes")
    # The history stays: its spend is still there.
    assert SpendEvent.objects.filter(campaign=campaign).count() == 1


def test_archiving_twice_changes_nothing_the_second_time() -> None:
    campaign = CampaignFactory.create()
    first = archive.campaign_archive(campaign_id=campaign.pk).archived_at
    assert archive.campaign_archive(campaign_id=campaign.pk).archived_at == first
    assert SettingChange.objects.filter(field="archived").count() == 1


def test_an_unarchived_campaign_stays_paused_until_a_person_resumes_it() -> None:
    campaign = CampaignFactory.create()
    archive.campaign_archive(campaign_id=campaign.pk)
    back = archive.campaign_unarchive(campaign_id=campaign.pk)
    assert back.archived_at is None
    assert back.status == "paused"
    assert services.campaign_resume(campaign_id=campaign.pk).status == "active"
    trail = SettingChange.objects.filter(field="archived").order_by("id")
    assert list(trail.values_list("before", "after")) == [("no", "yes"), ("yes", "no")]


def test_an_archived_campaign_cannot_be_resumed() -> None:
    campaign = CampaignFactory.create()
    archive.campaign_archive(campaign_id=campaign.pk)
    with pytest.raises(ValidationError) as refused:
        services.campaign_resume(campaign_id=campaign.pk)
    assert "archived" in refused.value.message_dict["enabled"][0]
    with pytest.raises(ValidationError):
        services.campaign_update(campaign_id=campaign.pk, enabled=True)
    # A bulk resume passes over it.
    services.campaigns_set_enabled(campaign_ids=[campaign.pk], enabled=True)
    assert Campaign.objects.get(pk=campaign.pk).enabled is False
    # And the database holds it paused whatever writes it.
    with pytest.raises(IntegrityError), transaction.atomic():
        Campaign.objects.filter(pk=campaign.pk).update(enabled=True)


def test_archiving_a_brand_pauses_its_campaigns_and_keeps_manual_notes() -> None:
    brand = BrandFactory.create()
    serving = CampaignFactory.create(brand=brand)
    paused_by_hand = CampaignFactory.create(brand=brand)
    services.campaign_pause(campaign_id=paused_by_hand.pk, note="creative review")
    other = CampaignFactory.create()
    archive.brand_archive(brand_id=brand.pk)
    assert brand.campaigns.filter(enabled=True).count() == 0
    notes = CampaignStatusChange.objects.filter(campaign__brand=brand).values_list(
        "campaign_id", "note"
    )
    assert set(notes) == {
        (serving.pk, archive.BRAND_ARCHIVED_NOTE),
        (paused_by_hand.pk, "creative review"),
    }
    assert Campaign.objects.get(pk=other.pk).enabled is True
    trail = SettingChange.objects.get(object_type="brand", field="archived")
    assert (trail.object_id, trail.after) == (brand.pk, "yes")
    # Its campaigns cannot come back while it is archived.
    with pytest.raises(ValidationError, match="brand"):
        services.campaign_resume(campaign_id=serving.pk)


def test_a_campaign_of_an_archived_brand_is_not_unarchived_alone() -> None:
    campaign = CampaignFactory.create()
    archive.campaign_archive(campaign_id=campaign.pk)
    archive.brand_archive(brand_id=campaign.brand_id)
    with pytest.raises(ValidationError) as refused:
        archive.campaign_unarchive(campaign_id=campaign.pk)
    assert "unarchive the brand first" in refused.value.message_dict["archived"][0]
    assert Campaign.objects.get(pk=campaign.pk).archived_at is not None
    archive.brand_unarchive(brand_id=campaign.brand_id)
    assert archive.campaign_unarchive(campaign_id=campaign.pk).archived_at is None


def test_spend_for_an_archived_campaign_is_refused_and_nothing_is_stored() -> None:
    campaign = CampaignFactory.create()
    _spend(campaign, "2.00")
    archive.campaign_archive(campaign_id=campaign.pk)
    before = list(BrandSpend.objects.values_list("id", "amount"))
    with pytest.raises(SpendArchived) as refused:
        _spend(campaign, "3.00")
    assert refused.value.campaign_id == campaign.pk
    assert refused.value.index is None
    assert f"Campaign {campaign.pk} ({campaign.name}) is archived" in str(refused.value)
    assert SpendEvent.objects.count() == 1
    assert list(BrandSpend.objects.values_list("id", "amount")) == before


def test_spend_for_a_campaign_of_an_archived_brand_is_refused() -> None:
    campaign = CampaignFactory.create()
    archive.brand_archive(brand_id=campaign.brand_id)
    with pytest.raises(SpendArchived, match=f"Brand {campaign.brand_id} "):
        _spend(campaign)
    assert not SpendEvent.objects.exists()


def test_a_batch_with_one_archived_campaign_is_refused_whole_naming_the_event() -> None:
    live = CampaignFactory.create()
    gone = CampaignFactory.create()
    archive.campaign_archive(campaign_id=gone.pk)
    now = dt.datetime.now(dt.UTC)
    events = [
        SpendInput(campaign_id=live.pk, amount=Decimal("1.00"), occurred_at=now),
        SpendInput(campaign_id=live.pk, amount=Decimal("1.00"), occurred_at=now),
        SpendInput(campaign_id=gone.pk, amount=Decimal("1.00"), occurred_at=now),
    ]
    with pytest.raises(SpendArchived) as refused:
        spend_record_batch(events)
    assert refused.value.index == 2
    assert not SpendEvent.objects.exists()
    # Once unarchived it takes spend again.
    archive.campaign_unarchive(campaign_id=gone.pk)
    assert spend_record_batch(events).created == 3


def test_a_replay_of_spend_recorded_before_the_archive_is_answered_as_before() -> None:
    campaign = CampaignFactory.create()
    first = spend_record(campaign_id=campaign.pk, amount=Decimal("2.00"), event_id="dsp-1")
    archive.campaign_archive(campaign_id=campaign.pk)
    again = spend_record(campaign_id=campaign.pk, amount=Decimal("2.00"), event_id="dsp-1")
    assert not again.created
    assert again.event.pk == first.event.pk
    assert SpendEvent.objects.count() == 1


def test_the_check_made_where_the_database_does_not_refuse_names_the_same() -> None:
    live = CampaignFactory.create()
    gone = CampaignFactory.create()
    archive.brand_archive(brand_id=gone.brand_id)
    spend_refuse_archived([live.pk], batch=True)  # nothing archived: no refusal
    with pytest.raises(SpendArchived) as refused:
        spend_refuse_archived([live.pk, gone.pk], batch=True)
    assert refused.value.index == 1
    assert refused.value.archived == f"Brand {gone.brand_id} ({gone.brand.name})"
