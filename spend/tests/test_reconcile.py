"""The reconcile tick: resets at each brand's local midnight and month start,
repair after missed ticks, manual pauses kept, constant queries, concurrency."""

import datetime as dt
import threading
from collections.abc import Callable
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext

import spend.reconcile
from budgets.models import Brand, Period
from budgets.signals import serving_facts_changed
from budgets.tests.factories import BrandFactory
from campaigns.models import ALL_DAYS_MASK, Campaign, CampaignStatusChange, Daypart
from campaigns.services import StateChange
from campaigns.tests.factories import CampaignFactory, DaypartFactory
from spend.reconcile import (
    ReconcileResult,
    reconcile,
    write_set_based,
    write_through_set_holds,
)
from spend.tests.factories import BrandSpendFactory


def _spent_whole_day(brand: Brand, day: dt.date) -> None:
    BrandSpendFactory.create(brand=brand, period_start=day, amount=brand.daily_budget)


def _spent_whole_month(brand: Brand, first: dt.date) -> None:
    BrandSpendFactory.create(
        brand=brand, period=Period.MONTH, period_start=first, amount=brand.monthly_budget
    )


def _tick_at(instant: dt.datetime) -> ReconcileResult:
    with time_machine.travel(instant, tick=False):
        return reconcile()


def _state(campaign: Campaign) -> tuple[str, str | None]:
    campaign.refresh_from_db()
    return campaign.status, campaign.pause_reason


def _midnight(day: dt.date, tz: str) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=ZoneInfo(tz))


@pytest.mark.django_db
def test_each_brand_resumes_at_its_own_local_midnight() -> None:
    day = dt.date(2026, 3, 10)
    zones = ["Pacific/Chatham", "Asia/Kolkata", "America/New_York"]  # midnights in this order
    campaigns = {}
    for tz in zones:
        brand = BrandFactory.create(timezone=tz)
        _spent_whole_day(brand, day)
        campaigns[tz] = CampaignFactory.create(brand=brand)
    _tick_at(_midnight(day, "America/New_York") + dt.timedelta(hours=2))
    assert {tz: _state(c) for tz, c in campaigns.items()} == dict.fromkeys(
        zones, ("paused", "brand_daily_budget")
    )

    for reset, tz in enumerate(zones):
        next_midnight = _midnight(day + dt.timedelta(days=1), tz)
        _tick_at(next_midnight - dt.timedelta(seconds=1))
        assert _state(campaigns[tz]) == ("paused", "brand_daily_budget")
        _tick_at(next_midnight)
        assert _state(campaigns[tz]) == ("active", None)
        # Brands whose midnight has not come yet stay held.
        for later in zones[reset + 1 :]:
            assert _state(campaigns[later]) == ("paused", "brand_daily_budget")


@pytest.mark.django_db
def test_month_end_lifts_the_monthly_hold_at_the_local_first() -> None:
    # Chatham (+13:45 in March) starts April at 10:15 UTC on 31 March.
    brand = BrandFactory.create(timezone="Pacific/Chatham")
    _spent_whole_month(brand, dt.date(2026, 3, 1))
    campaign = CampaignFactory.create(brand=brand)
    april = _midnight(dt.date(2026, 4, 1), "Pacific/Chatham")
    assert april == dt.datetime(2026, 3, 31, 10, 15, tzinfo=dt.UTC)

    _tick_at(_midnight(dt.date(2026, 3, 31), "Pacific/Chatham"))  # a new day, same month
    assert _state(campaign) == ("paused", "brand_monthly_budget")
    _tick_at(april - dt.timedelta(minutes=1))
    assert _state(campaign) == ("paused", "brand_monthly_budget")
    _tick_at(april)
    assert _state(campaign) == ("active", None)


@pytest.mark.django_db
def test_a_tick_after_beat_was_down_three_hours_over_midnight_repairs_everything() -> None:
    tz = "America/New_York"
    brand = BrandFactory.create(timezone=tz)
    campaign = CampaignFactory.create(brand=brand)
    DaypartFactory.create(
        campaign=campaign, days=ALL_DAYS_MASK, start_time=dt.time(6), end_time=dt.time(23)
    )
    day = dt.date(2026, 3, 10)
    _spent_whole_day(brand, day)
    ny = ZoneInfo(tz)
    _tick_at(dt.datetime(2026, 3, 10, 22, 30, tzinfo=ny))
    assert _state(campaign) == ("paused", "brand_daily_budget")

    # Beat is down from 22:30 to 01:30: no tick at 23:00 nor at midnight.
    after_outage = _tick_at(dt.datetime(2026, 3, 11, 1, 30, tzinfo=ny))
    campaign.refresh_from_db()
    assert (campaign.schedule_hold, campaign.budget_hold) == ("outside_daypart", None)
    assert after_outage.summary() == {
        "schedule_changes": 1,
        "budget_changes": 0,
        "pacing_changes": 0,
    }

    _tick_at(dt.datetime(2026, 3, 11, 6, 0, tzinfo=ny))
    assert _state(campaign) == ("active", None)
    history = list(
        CampaignStatusChange.objects.order_by("id").values_list("new_status", "new_reason")
    )
    assert history == [
        ("paused", "brand_daily_budget"),
        ("paused", "outside_daypart"),
        ("active", None),
    ]


@pytest.mark.django_db
def test_a_manual_pause_is_kept_through_daily_and_monthly_resets() -> None:
    brand = BrandFactory.create(timezone="Asia/Kolkata")
    _spent_whole_day(brand, dt.date(2026, 3, 31))
    _spent_whole_month(brand, dt.date(2026, 3, 1))
    paused = CampaignFactory.create(brand=brand, enabled=False)
    serving = CampaignFactory.create(brand=brand)
    _tick_at(_midnight(dt.date(2026, 3, 31), "Asia/Kolkata") + dt.timedelta(hours=12))
    assert _state(serving) == ("paused", "brand_monthly_budget")

    _tick_at(_midnight(dt.date(2026, 4, 1), "Asia/Kolkata"))
    assert _state(serving) == ("active", None)
    assert _state(paused) == ("paused", "manual")
    assert paused.enabled is False
    assert paused.budget_hold is None  # the fact follows; the person's pause stays
    assert not CampaignStatusChange.objects.filter(campaign=paused).exists()


@pytest.mark.django_db
def test_a_tick_run_twice_changes_nothing_the_second_time() -> None:
    brand = BrandFactory.create()
    _spent_whole_day(brand, dt.date(2026, 3, 10))
    CampaignFactory.create(brand=brand)
    CampaignFactory.create(brand=brand, starts_on=dt.date(2026, 4, 1))
    noon = dt.datetime(2026, 3, 10, 12, tzinfo=dt.UTC)
    first = _tick_at(noon)
    assert first.summary() == {
        "schedule_changes": 1,
        "budget_changes": 1,
        "pacing_changes": 0,
    }
    history = CampaignStatusChange.objects.count()
    assert _tick_at(noon) == ReconcileResult()
    assert CampaignStatusChange.objects.count() == history


def _brands_needing_every_kind_of_change(count: int, day: dt.date) -> None:
    for _ in range(count):
        brand = BrandFactory.create(timezone="Asia/Kolkata")
        _spent_whole_day(brand, day)
        CampaignFactory.create(brand=brand, starts_on=day + dt.timedelta(days=1))
        CampaignFactory.create(brand=brand, ends_on=day - dt.timedelta(days=1))
        DaypartFactory.create(
            campaign=CampaignFactory.create(brand=brand),
            start_time=dt.time(1),
            end_time=dt.time(2),
        )
        CampaignFactory.create(brand=brand)


def _statements_of_one_tick(instant: dt.datetime) -> list[str]:
    with time_machine.travel(instant, tick=False), CaptureQueriesContext(connection) as queries:
        reconcile()
    return [q["sql"] for q in queries.captured_queries if "SAVEPOINT" not in q["sql"]]


@pytest.mark.django_db
@pytest.mark.parametrize("brands", [3, 30])
def test_a_tick_runs_the_same_queries_for_3_and_30_brands(brands: int) -> None:
    day = dt.date(2026, 3, 10)
    _brands_needing_every_kind_of_change(brands, day)
    noon = dt.datetime.combine(day, dt.time(12), tzinfo=ZoneInfo("Asia/Kolkata"))

    with_changes = _statements_of_one_tick(noon)
    # * zones, then schedule differences; * zones, then budget differences
    # * zones, then pacing differences (none)
    # * lock the brands that have any
    # * zones, then one statement that selects the schedule differences again
    #   under the lock, locks those campaigns, updates them and inserts history
    # * zones, then the same for the budget differences
    assert len(with_changes) == 6 + 1 + 2 + 2, with_changes
    assert Campaign.objects.filter(status="active").count() == 0
    assert CampaignStatusChange.objects.count() == 4 * brands

    nothing_to_do = _statements_of_one_tick(noon)
    # * zones, then schedule differences; * zones, then budget differences
    # * zones, then pacing differences
    assert len(nothing_to_do) == 6, nothing_to_do


@pytest.mark.django_db
@pytest.mark.parametrize("writer", [write_set_based, write_through_set_holds])
def test_both_ways_of_writing_the_differences_agree(
    writer: Callable[..., list[StateChange]],
) -> None:
    day = dt.date(2026, 3, 10)
    _brands_needing_every_kind_of_change(2, day)
    manual = CampaignFactory.create(brand=Brand.objects.first(), enabled=False)
    noon = dt.datetime.combine(day, dt.time(12), tzinfo=ZoneInfo("Asia/Kolkata"))
    with transaction.atomic():
        schedule = writer("schedule_hold", brand_ids=None, now=noon)
        budget = writer("budget_hold", brand_ids=None, now=noon)
    holds = Campaign.objects.order_by("id").values_list("schedule_hold", "budget_hold")
    assert list(holds) == 2 * [
        ("not_started", "brand_daily_budget"),
        ("ended", "brand_daily_budget"),
        ("outside_daypart", "brand_daily_budget"),
        (None, "brand_daily_budget"),
    ] + [(None, "brand_daily_budget")]
    # History for derived states that moved only: not for the manual pause.
    assert len(schedule) == 6
    assert len(budget) == 2
    assert not CampaignStatusChange.objects.filter(campaign=manual).exists()
    assert all(change.new_status == "paused" for change in [*schedule, *budget])
    rows = CampaignStatusChange.objects.values_list("campaign", "old_reason", "new_reason")
    assert {(c.campaign_id, c.old_reason, c.new_reason) for c in [*schedule, *budget]} == set(rows)


@pytest.mark.django_db
def test_a_large_brand_scope_is_kept_when_every_brand_is_computed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Past WHOLE_TABLE_ABOVE brands the statements run over every brand and
    # the result is narrowed to the scope afterwards.
    monkeypatch.setattr(spend.reconcile, "WHOLE_TABLE_ABOVE", 1)
    day = dt.date(2026, 3, 10)
    _brands_needing_every_kind_of_change(3, day)
    first, second, outside = Brand.objects.order_by("id")
    noon = dt.datetime.combine(day, dt.time(12), tzinfo=ZoneInfo("Asia/Kolkata"))
    with time_machine.travel(noon, tick=False):
        result = reconcile(brand_ids=[first.pk, second.pk])
    assert result.summary() == {
        "schedule_changes": 6,
        "budget_changes": 2,
        "pacing_changes": 0,
    }
    assert not Campaign.objects.filter(brand=outside).exclude(status="active").exists()
    assert Campaign.objects.filter(brand__in=[first, second], status="active").count() == 0


@pytest.mark.django_db
def test_only_the_chosen_half_runs() -> None:
    brand = BrandFactory.create()
    _spent_whole_day(brand, dt.date(2026, 3, 10))
    campaign = CampaignFactory.create(brand=brand, starts_on=dt.date(2026, 4, 1))
    noon = dt.datetime(2026, 3, 10, 12, tzinfo=dt.UTC)
    reconcile(now=noon, schedule=False)
    campaign.refresh_from_db()
    assert (campaign.schedule_hold, campaign.budget_hold) == (None, "brand_daily_budget")
    reconcile(now=noon, budget=False)
    campaign.refresh_from_db()
    assert campaign.schedule_hold == "not_started"


@transaction.atomic
def _edit_then_fail(daypart: Daypart, end: dt.time, seen: list[tuple[str, str | None]]) -> None:
    Daypart.objects.filter(pk=daypart.pk).update(end_time=end)
    serving_facts_changed.send(sender=Daypart, brand_ids=frozenset({daypart.campaign.brand_id}))
    seen.append(_state(daypart.campaign))
    raise RuntimeError("the edit is rolled back")


@pytest.mark.django_db
def test_an_edit_signalled_by_a_service_takes_effect_in_the_same_transaction() -> None:
    campaign = CampaignFactory.create()
    daypart = DaypartFactory.create(campaign=campaign, start_time=dt.time(9), end_time=dt.time(17))
    untouched = CampaignFactory.create()
    DaypartFactory.create(campaign=untouched, start_time=dt.time(9), end_time=dt.time(17))
    with time_machine.travel(dt.datetime(2026, 3, 10, 18, tzinfo=dt.UTC), tick=False):
        with transaction.atomic():
            Daypart.objects.filter(pk=daypart.pk).update(end_time=dt.time(17, 30))
            serving_facts_changed.send(sender=Daypart, brand_ids=frozenset({campaign.brand_id}))
            assert _state(campaign) == ("paused", "outside_daypart")
        assert _state(untouched) == ("active", None)  # left to the tick

        seen_inside: list[tuple[str, str | None]] = []
        with pytest.raises(RuntimeError, match="rolled back"):
            _edit_then_fail(daypart, dt.time(19), seen_inside)
        assert seen_inside == [("active", None)]
        assert _state(campaign) == ("paused", "outside_daypart")


@pytest.mark.django_db(transaction=True)
def test_concurrent_ticks_change_each_campaign_once() -> None:
    day = dt.date(2026, 3, 10)
    _brands_needing_every_kind_of_change(12, day)
    noon = dt.datetime.combine(day, dt.time(12), tzinfo=ZoneInfo("Asia/Kolkata"))
    barrier = threading.Barrier(4)
    results: list[ReconcileResult] = []
    errors: list[BaseException] = []

    def tick() -> None:
        try:
            barrier.wait(timeout=10)
            results.append(reconcile(now=noon))
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=tick) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    changed = [c.campaign_id for r in results for c in [*r.schedule, *r.budget]]
    # Every campaign paused exactly once, by whichever tick got the locks first.
    assert len(changed) == len(set(changed)) == Campaign.objects.count() == 48
    assert CampaignStatusChange.objects.count() == 48
    assert reconcile(now=noon) == ReconcileResult()
