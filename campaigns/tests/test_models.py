"""Campaign, daypart and status-history invariants, enforced by the database."""

import datetime as dt

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from budgets.tests.factories import BrandFactory, BudgetFactory
from campaigns.models import (
    Campaign,
    CampaignStatusChange,
    Daypart,
    PauseReason,
    Status,
    days_to_mask,
    mask_to_days,
)
from campaigns.tests.factories import CampaignFactory, DaypartFactory

pytestmark = pytest.mark.django_db


def test_flight_dates_must_be_ordered() -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        CampaignFactory.create(starts_on=dt.date(2026, 5, 2), ends_on=dt.date(2026, 5, 1))
    one_day = CampaignFactory.create(starts_on=dt.date(2026, 5, 1), ends_on=dt.date(2026, 5, 1))
    assert one_day.is_in_flight(dt.date(2026, 5, 1))
    assert not one_day.is_in_flight(dt.date(2026, 5, 2))


def test_campaign_budget_must_belong_to_the_same_brand() -> None:
    budget = BudgetFactory.create()
    other_brand = BrandFactory.create()
    with pytest.raises(IntegrityError), transaction.atomic():
        CampaignFactory.create(brand=other_brand, budget=budget)
    campaign = CampaignFactory.create(brand=budget.brand, budget=budget)
    with pytest.raises(IntegrityError), transaction.atomic():
        Campaign.objects.filter(pk=campaign.pk).update(brand=other_brand)


def test_a_budget_in_use_cannot_move_to_another_brand() -> None:
    budget = BudgetFactory.create()
    CampaignFactory.create(brand=budget.brand, budget=budget)
    with pytest.raises(IntegrityError), transaction.atomic():
        type(budget).objects.filter(pk=budget.pk).update(brand=BrandFactory.create())


def test_campaign_without_budget_is_allowed() -> None:
    assert CampaignFactory.create(budget=None).budget_id is None


def test_campaign_name_is_unique_within_a_brand() -> None:
    brand = BrandFactory.create()
    CampaignFactory.create(brand=brand, name="Search")
    CampaignFactory.create(name="Search")
    with pytest.raises(IntegrityError), transaction.atomic():
        CampaignFactory.create(brand=brand, name="Search")


def test_hold_columns_refuse_unknown_reasons() -> None:
    campaign = CampaignFactory.create()
    with pytest.raises(IntegrityError), transaction.atomic():
        Campaign.objects.filter(pk=campaign.pk).update(schedule_hold="brand_daily_budget")
    with pytest.raises(IntegrityError), transaction.atomic():
        Campaign.objects.filter(pk=campaign.pk).update(budget_hold="outside_daypart")


@pytest.mark.parametrize(
    ("enabled", "schedule_hold", "budget_hold", "status", "reason"),
    [
        (True, None, None, Status.ACTIVE, None),
        (False, None, None, Status.PAUSED, PauseReason.MANUAL),
        (False, "outside_daypart", "brand_daily_budget", Status.PAUSED, PauseReason.MANUAL),
        (True, "ended", "brand_daily_budget", Status.PAUSED, PauseReason.ENDED),
        (True, None, "budget_monthly_limit", Status.PAUSED, PauseReason.BUDGET_MONTHLY_LIMIT),
        (True, "outside_daypart", None, Status.PAUSED, PauseReason.OUTSIDE_DAYPART),
    ],
)
def test_status_and_reason_are_derived_by_the_database(
    enabled: bool,
    schedule_hold: str | None,
    budget_hold: str | None,
    status: str,
    reason: str | None,
) -> None:
    campaign = CampaignFactory.create(enabled=enabled)
    Campaign.objects.filter(pk=campaign.pk).update(
        schedule_hold=schedule_hold, budget_hold=budget_hold
    )
    campaign.refresh_from_db()
    assert (campaign.status, campaign.pause_reason) == (status, reason)
    assert Campaign.objects.filter(status=status, pause_reason=reason).count() == 1


def test_daypart_needs_at_least_one_weekday() -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        DaypartFactory.create(days=0)
    with pytest.raises(IntegrityError), transaction.atomic():
        DaypartFactory.create(days=128)


def test_overnight_daypart_is_allowed() -> None:
    part = DaypartFactory.create(
        days=days_to_mask(["fri"]), start_time=dt.time(22, 0), end_time=dt.time(2, 0)
    )
    assert part.is_overnight
    assert Daypart.objects.get(pk=part.pk).day_names == ["fri"]


def test_weekday_masks_round_trip() -> None:
    assert days_to_mask(["mon"]) == 1
    assert days_to_mask(["sun"]) == 64
    assert mask_to_days(days_to_mask(["sat", "mon", "wed"])) == ["mon", "wed", "sat"]


def _history(**fields: object) -> None:
    CampaignStatusChange.objects.create(
        **{
            "campaign": CampaignFactory.create(),
            "changed_at": timezone.now(),
            "old_status": "active",
            "old_reason": None,
            "new_status": "paused",
            "new_reason": "manual",
            "actor": "system",
            **fields,
        }
    )


@pytest.mark.parametrize(
    "fields",
    [
        {"new_status": "active", "new_reason": None},  # nothing changed
        {"old_status": "paused", "old_reason": "manual"},  # paused/manual -> paused/manual
        {"new_reason": None},  # paused without a reason
        {"old_reason": "ended"},  # active with a reason
    ],
)
def test_status_history_refuses_rows_that_say_nothing_or_contradict(
    fields: dict[str, object],
) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        _history(**fields)
    _history()
    assert CampaignStatusChange.objects.count() == 1
