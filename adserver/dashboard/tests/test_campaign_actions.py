"""Pause and Resume on a campaign's page: a person's intent, recorded with their name."""

import pytest
from django.contrib.auth.models import User
from django.test import Client

from campaigns.models import Actor, Campaign, CampaignStatusChange
from campaigns.tests.factories import CampaignFactory

pytestmark = pytest.mark.django_db


def test_pause_is_a_manual_pause_recorded_with_the_user(
    staff_client: Client, staff_user: User
) -> None:
    campaign = CampaignFactory.create()

    response = staff_client.post(f"/campaigns/{campaign.pk}/pause/", follow=True)

    campaign.refresh_from_db()
    assert (campaign.enabled, campaign.status, campaign.pause_reason) == (False, "paused", "manual")
    change = CampaignStatusChange.objects.get(campaign=campaign)
    assert (change.actor, change.user_id) == (Actor.USER, staff_user.pk)
    assert response.redirect_chain[-1][0] == campaign.get_absolute_url()
    assert "is paused until someone resumes it" in response.content.decode()
    assert 'id="resume"' in response.content.decode()


def test_resume_lifts_only_the_manual_pause(staff_client: Client) -> None:
    campaign = CampaignFactory.create(enabled=False)
    Campaign.objects.filter(pk=campaign.pk).update(budget_hold="brand_daily_budget")

    response = staff_client.post(f"/campaigns/{campaign.pk}/resume/", follow=True)

    campaign.refresh_from_db()
    assert campaign.enabled is True
    assert (campaign.status, campaign.pause_reason) == ("paused", "brand_daily_budget")
    assert "still held: brand daily budget spent" in response.content.decode()


def test_resume_of_a_campaign_nothing_else_holds_serves_again(staff_client: Client) -> None:
    campaign = CampaignFactory.create(enabled=False)

    response = staff_client.post(f"/campaigns/{campaign.pk}/resume/", follow=True)

    campaign.refresh_from_db()
    assert campaign.status == "active"
    assert "is serving again" in response.content.decode()


def test_pause_asks_first_and_resume_refuses_get(staff_client: Client) -> None:
    campaign = CampaignFactory.create()

    asked = staff_client.get(f"/campaigns/{campaign.pk}/pause/")
    assert asked.status_code == 200
    assert 'id="confirm-pause"' in asked.content.decode()
    assert 'name="note"' in asked.content.decode()
    assert staff_client.get(f"/campaigns/{campaign.pk}/resume/").status_code == 405
    campaign.refresh_from_db()
    assert campaign.enabled is True


def test_pause_needs_a_logged_in_user_and_changes_nothing_otherwise(client: Client) -> None:
    campaign = CampaignFactory.create()

    response = client.post(f"/campaigns/{campaign.pk}/pause/")

    assert response.status_code == 302
    assert response["Location"].startswith("/login/")
    campaign.refresh_from_db()
    assert campaign.enabled is True
    assert not CampaignStatusChange.objects.exists()


def test_pause_needs_the_csrf_token(staff_user: User) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(staff_user)
    campaign = CampaignFactory.create()

    assert client.post(f"/campaigns/{campaign.pk}/pause/").status_code == 403
    campaign.refresh_from_db()
    assert campaign.enabled is True


def test_pause_of_an_unknown_campaign_is_not_found(staff_client: Client) -> None:
    assert staff_client.post("/campaigns/999999/pause/").status_code == 404


def test_pause_with_a_note_shows_it_in_the_history_and_the_badge_reads_once(
    staff_client: Client,
) -> None:
    campaign = CampaignFactory.create()

    response = staff_client.post(
        f"/campaigns/{campaign.pk}/pause/",
        {"note": "Client asked to hold until Monday"},
        follow=True,
    )

    change = CampaignStatusChange.objects.get(campaign=campaign)
    assert change.note == "Client asked to hold until Monday"
    html = response.content.decode()
    assert "Client asked to hold until Monday" in html
    assert ">Paused · manual</span>" in html
    assert "Paused Paused" not in html


def test_a_note_longer_than_the_history_keeps_is_refused_and_nothing_changes(
    staff_client: Client,
) -> None:
    campaign = CampaignFactory.create()

    response = staff_client.post(f"/campaigns/{campaign.pk}/pause/", {"note": "x" * 256})

    assert response.status_code == 400
    assert "at most 255 characters" in response.content.decode()
    campaign.refresh_from_db()
    assert campaign.enabled is True
    assert not CampaignStatusChange.objects.exists()
