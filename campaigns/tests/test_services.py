"""Manual pause and resume, and the hold writer shared by enforcement and reconcile."""

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext

from campaigns import services
from campaigns.models import Actor, Campaign, CampaignStatusChange, PauseReason, Status
from campaigns.tests.factories import CampaignFactory

pytestmark = pytest.mark.django_db


def test_manual_pause_is_recorded_with_the_user(staff_user: User) -> None:
    campaign = CampaignFactory.create()
    paused = services.campaign_pause(campaign_id=campaign.pk, user=staff_user)
    assert (paused.status, paused.pause_reason) == (Status.PAUSED, PauseReason.MANUAL)
    change = CampaignStatusChange.objects.get()
    assert (change.old_status, change.new_status, change.new_reason) == (
        "active",
        "paused",
        "manual",
    )
    assert change.actor == Actor.USER
    assert change.user == staff_user


def test_pausing_twice_changes_nothing_the_second_time() -> None:
    campaign = CampaignFactory.create()
    services.campaign_pause(campaign_id=campaign.pk)
    services.campaign_pause(campaign_id=campaign.pk)
    assert CampaignStatusChange.objects.count() == 1


def test_resume_lifts_only_the_manual_pause() -> None:
    campaign = CampaignFactory.create(enabled=False)
    Campaign.objects.filter(pk=campaign.pk).update(budget_hold="brand_daily_budget")
    resumed = services.campaign_resume(campaign_id=campaign.pk)
    assert resumed.enabled is True
    assert (resumed.status, resumed.pause_reason) == (Status.PAUSED, PauseReason.BRAND_DAILY_BUDGET)
    change = CampaignStatusChange.objects.get()
    assert (change.old_reason, change.new_reason) == ("manual", "brand_daily_budget")


def test_pause_of_an_unknown_campaign_raises_does_not_exist() -> None:
    with pytest.raises(Campaign.DoesNotExist):
        services.campaign_pause(campaign_id=987654)


def test_setting_holds_writes_history_only_for_derived_changes() -> None:
    active = CampaignFactory.create()
    manual = CampaignFactory.create(enabled=False)
    already = CampaignFactory.create()
    Campaign.objects.filter(pk=already.pk).update(budget_hold="brand_daily_budget")

    changes = services.campaigns_set_holds(
        column="budget_hold",
        desired=dict.fromkeys((active.pk, manual.pk, already.pk), "brand_daily_budget"),
        note="brand daily cap reached",
    )

    # The manual campaign's hold changed but its derived state (paused/manual)
    # did not, so it gets no history row; `already` was not touched at all.
    assert [c.campaign_id for c in changes] == [active.pk]
    assert Campaign.objects.filter(budget_hold="brand_daily_budget").count() == 3
    row = CampaignStatusChange.objects.get()
    assert (row.campaign_id, row.new_reason, row.actor) == (
        active.pk,
        "brand_daily_budget",
        "system",
    )


def test_setting_holds_twice_is_a_no_op() -> None:
    campaigns = CampaignFactory.create_batch(3)
    desired: dict[int, str | None] = {c.pk: "outside_daypart" for c in campaigns}
    services.campaigns_set_holds(column="schedule_hold", desired=desired)
    assert services.campaigns_set_holds(column="schedule_hold", desired=desired) == []
    assert CampaignStatusChange.objects.count() == 3


@pytest.mark.parametrize("size", [3, 60])
def test_setting_holds_runs_a_constant_number_of_queries(size: int) -> None:
    campaigns = CampaignFactory.create_batch(size)
    desired: dict[int, str | None] = {
        c.pk: ("ended" if i % 2 else "outside_daypart") for i, c in enumerate(campaigns)
    }
    with CaptureQueriesContext(connection) as queries:
        services.campaigns_set_holds(column="schedule_hold", desired=desired)
    # * savepoint, lock and read the facts  * one UPDATE per distinct value (2)
    # * insert the history rows of the states that moved  * release savepoint
    assert len(queries) == 6, [q["sql"] for q in queries]
    assert CampaignStatusChange.objects.count() == size
