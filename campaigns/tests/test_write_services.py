"""Campaign and daypart writes: validated, naming the field, and announced."""

import datetime as dt

import pytest
import time_machine
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError

from budgets.services import DeletionRefused
from budgets.tests.factories import BrandFactory, BudgetFactory
from campaigns import services
from campaigns.models import Campaign, CampaignStatusChange, Daypart
from campaigns.tests.factories import CampaignFactory, DaypartFactory
from spend.tests.factories import SpendEventFactory

pytestmark = pytest.mark.django_db


def _fields(excinfo: pytest.ExceptionInfo[ValidationError]) -> set[str]:
    return set(excinfo.value.message_dict)


@time_machine.travel(dt.datetime(2026, 3, 10, 12, 0, tzinfo=dt.UTC), tick=False)
def test_a_new_campaign_is_announced_so_its_holds_are_set(
    announced: list[frozenset[int]],
) -> None:
    budget = BudgetFactory.create()
    campaign = services.campaign_create(
        brand=budget.brand,
        budget=budget,
        name="Spring",
        starts_on=dt.date(2026, 3, 1),
        ends_on=dt.date(2026, 3, 31),
    )
    assert (campaign.status, campaign.pause_reason) == ("active", None)
    assert announced == [frozenset({budget.brand_id})]
    later = services.campaign_create(
        brand=budget.brand, name="Summer", starts_on=dt.date(2026, 6, 1)
    )
    assert (later.status, later.pause_reason) == ("paused", "not_started")


def test_a_campaign_cannot_draw_from_another_brands_budget() -> None:
    foreign = BudgetFactory.create()
    with pytest.raises(ValidationError) as excinfo:
        services.campaign_create(brand=BrandFactory.create(), budget=foreign, name="x")
    assert _fields(excinfo) == {"budget"}
    assert not Campaign.objects.exists()


def test_flight_dates_must_be_ordered() -> None:
    with pytest.raises(ValidationError) as excinfo:
        services.campaign_create(
            brand=BrandFactory.create(),
            name="x",
            starts_on=dt.date(2026, 3, 2),
            ends_on=dt.date(2026, 3, 1),
        )
    assert _fields(excinfo) == {"ends_on"}


def test_flight_dates_are_checked_against_the_stored_ones_on_update() -> None:
    campaign = CampaignFactory.create(starts_on=dt.date(2026, 3, 10))
    with pytest.raises(ValidationError) as excinfo:
        services.campaign_update(campaign_id=campaign.pk, ends_on=dt.date(2026, 3, 9))
    assert _fields(excinfo) == {"ends_on"}
    assert Campaign.objects.get(pk=campaign.pk).ends_on is None


def test_campaign_names_are_unique_within_a_brand() -> None:
    existing = CampaignFactory.create(name="Spring")
    with pytest.raises(ValidationError) as excinfo:
        services.campaign_create(brand=existing.brand, name="Spring")
    assert _fields(excinfo) == {"name"}


def test_a_campaign_cannot_move_to_another_brand() -> None:
    campaign = CampaignFactory.create()
    with pytest.raises(ValidationError) as excinfo:
        services.campaign_update(campaign_id=campaign.pk, brand=BrandFactory.create())
    assert _fields(excinfo) == {"brand"}


def test_changing_the_budget_is_announced_and_renaming_is_not(
    announced: list[frozenset[int]],
) -> None:
    campaign = CampaignFactory.create()
    services.campaign_update(campaign_id=campaign.pk, name="Renamed")
    assert announced == []
    budget = BudgetFactory.create(brand=campaign.brand)
    updated = services.campaign_update(campaign_id=campaign.pk, budget=budget)
    assert updated.budget == budget
    assert announced == [frozenset({campaign.brand_id})]


def test_disabling_through_update_is_a_manual_pause_by_that_user(staff_user: User) -> None:
    campaign = CampaignFactory.create()
    updated = services.campaign_update(campaign_id=campaign.pk, enabled=False, user=staff_user)
    assert (updated.status, updated.pause_reason) == ("paused", "manual")
    change = CampaignStatusChange.objects.get()
    assert (change.actor, change.user) == ("user", staff_user)


def test_a_campaign_with_spend_cannot_be_deleted() -> None:
    event = SpendEventFactory.create()
    with pytest.raises(DeletionRefused, match="recorded spend"):
        services.campaign_delete(campaign_id=event.campaign_id)
    assert Campaign.objects.filter(pk=event.campaign_id).exists()


def test_deleting_a_campaign_removes_its_dayparts() -> None:
    daypart = DaypartFactory.create()
    services.campaign_delete(campaign_id=daypart.campaign_id)
    assert not Campaign.objects.exists()
    assert not Daypart.objects.exists()


@pytest.mark.parametrize("days", [[], ["mon", "funday"]])
def test_a_daypart_needs_known_weekdays(days: list[str]) -> None:
    campaign = CampaignFactory.create()
    with pytest.raises(ValidationError) as excinfo:
        services.daypart_create(
            campaign=campaign, days=days, start_time=dt.time(9), end_time=dt.time(17)
        )
    assert _fields(excinfo) == {"days"}
    assert not Daypart.objects.exists()


def test_daypart_writes_are_announced(announced: list[frozenset[int]]) -> None:
    campaign = CampaignFactory.create()
    daypart = services.daypart_create(
        campaign=campaign, days=["fri", "sun"], start_time=dt.time(22), end_time=dt.time(2)
    )
    assert daypart.days == 16 + 64
    assert daypart.is_overnight
    services.daypart_update(daypart_id=daypart.pk, days=["sat"])
    assert Daypart.objects.get(pk=daypart.pk).day_names == ["sat"]
    services.daypart_delete(daypart_id=daypart.pk)
    assert not Daypart.objects.exists()
    assert announced == [frozenset({campaign.brand_id})] * 3


def test_a_daypart_cannot_move_to_another_campaign() -> None:
    daypart = DaypartFactory.create()
    with pytest.raises(ValidationError) as excinfo:
        services.daypart_update(daypart_id=daypart.pk, campaign=CampaignFactory.create())
    assert _fields(excinfo) == {"campaign"}


def test_an_unchanged_daypart_update_announces_nothing(announced: list[frozenset[int]]) -> None:
    daypart = DaypartFactory.create()
    services.daypart_update(
        daypart_id=daypart.pk, days=daypart.day_names, start_time=daypart.start_time
    )
    assert announced == []
