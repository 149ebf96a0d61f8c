"""spend_record_batch: all or nothing, replays once, the same rules as single events."""

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext, override_settings

from budgets.models import Period
from budgets.tests.factories import BrandFactory, BudgetFactory
from campaigns.models import Campaign, CampaignStatusChange
from campaigns.tests.factories import CampaignFactory
from spend.models import BrandSpend, BudgetSpend, CampaignSpend, SpendEvent, SpendKind
from spend.services import (
    BatchRecorded,
    SpendBatchInvalid,
    SpendConflict,
    SpendInput,
    spend_record,
    spend_record_batch,
)

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 10, 15, 0, tzinfo=dt.UTC)
TODAY = dt.date(2026, 3, 10)


@pytest.fixture(autouse=True)
def frozen_now() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


def spend(campaign: Campaign, amount: str, **kwargs: object) -> SpendInput:
    return SpendInput(campaign_id=campaign.pk, amount=Decimal(amount), **kwargs)  # type: ignore[arg-type]


def day_total(model: type[BrandSpend | BudgetSpend | CampaignSpend], **owner: object) -> Decimal:
    return model.objects.get(period=Period.DAY, period_start=TODAY, **owner).amount


def test_a_batch_lands_in_the_ledger_and_the_rollups_of_each_owner() -> None:
    brand = BrandFactory.create(daily_budget=Decimal("1000"))
    budget = BudgetFactory.create(brand=brand, daily_limit=Decimal("500"))
    pooled = CampaignFactory.create(brand=brand, budget=budget)
    alone = CampaignFactory.create(brand=brand)

    result = spend_record_batch(
        [spend(pooled, "1.5"), spend(alone, "2.25"), spend(pooled, "0.000001", event_id="x")]
    )

    assert result == BatchRecorded(created=3, duplicates=0)
    assert SpendEvent.objects.count() == 3
    assert day_total(BrandSpend, brand=brand) == Decimal("3.750001")
    assert day_total(BudgetSpend, budget=budget) == Decimal("1.500001")
    assert day_total(CampaignSpend, campaign=alone) == Decimal("2.25")
    assert BrandSpend.objects.get(period=Period.MONTH).events_count == 3


def test_one_bad_event_refuses_the_whole_batch_and_names_it() -> None:
    campaign = CampaignFactory.create()
    events = [
        spend(campaign, "1"),
        SpendInput(campaign_id=campaign.pk, amount=Decimal("1.0000001")),
        spend(campaign, "2", occurred_at=NOW + dt.timedelta(hours=1)),
        SpendInput(campaign_id=999_999, amount=Decimal("1")),
    ]

    with pytest.raises(SpendBatchInvalid) as raised:
        spend_record_batch(events)

    assert set(raised.value.errors) == {1, 2}
    assert list(raised.value.errors[1]) == ["amount"]
    assert list(raised.value.errors[2]) == ["occurred_at"]
    assert SpendEvent.objects.count() == 0


def test_unknown_campaigns_are_named_by_their_index_and_nothing_is_stored() -> None:
    campaign = CampaignFactory.create()
    with pytest.raises(SpendBatchInvalid) as raised:
        spend_record_batch(
            [spend(campaign, "1"), SpendInput(campaign_id=999_999, amount=Decimal(1))]
        )
    assert raised.value.errors == {1: {"campaign": ["No campaign with id 999999."]}}
    assert not SpendEvent.objects.exists()
    assert not BrandSpend.objects.exists()


@override_settings(SPEND_BATCH_MAX_EVENTS=3)
def test_a_batch_over_the_limit_is_refused_whole() -> None:
    campaign = CampaignFactory.create()
    with pytest.raises(SpendBatchInvalid, match="at most 3 events; this one has 4") as raised:
        spend_record_batch([spend(campaign, "1")] * 4)
    assert raised.value.errors == {}
    assert not SpendEvent.objects.exists()


def test_an_empty_batch_records_nothing() -> None:
    assert spend_record_batch([]) == BatchRecorded(created=0, duplicates=0)


def test_replays_inside_a_batch_and_of_stored_events_count_once() -> None:
    campaign = CampaignFactory.create()
    spend_record(campaign_id=campaign.pk, amount=Decimal("5"), event_id="stored")

    result = spend_record_batch(
        [
            spend(campaign, "1", event_id="a"),
            spend(campaign, "1", event_id="a"),
            spend(campaign, "5", event_id="stored"),
            spend(campaign, "2"),
        ]
    )

    assert result == BatchRecorded(created=2, duplicates=2)
    assert day_total(BrandSpend, brand=campaign.brand) == Decimal("8")
    assert BrandSpend.objects.get(period=Period.DAY).events_count == 3


def test_a_repeated_event_id_with_another_payload_in_one_batch_is_invalid() -> None:
    campaign = CampaignFactory.create()
    with pytest.raises(SpendBatchInvalid) as raised:
        spend_record_batch([spend(campaign, "1", event_id="a"), spend(campaign, "2", event_id="a")])
    assert raised.value.errors == {
        1: {"event_id": ["Repeats the event_id of event 0 with another payload."]}
    }
    assert not SpendEvent.objects.exists()


def test_a_batch_with_replays_of_stored_events_is_done_again_with_one_more_read() -> None:
    campaign = CampaignFactory.create()
    spend_record_batch([spend(campaign, "1", event_id="old")])
    batch = [spend(campaign, "1", event_id="old"), spend(campaign, "2", event_id="new")]

    with CaptureQueriesContext(connection) as queries:
        assert spend_record_batch(batch) == BatchRecorded(created=1, duplicates=1)

    # First try, without reading stored ids: * savepoint  * lock brands  * lock rollups
    # * campaign states  * insert (meets "old")  * rollback to  * release savepoint.
    # Then the whole batch again with one more query: * read the stored ids.
    assert len(queries) == 7 + 8
    assert BrandSpend.objects.get(period=Period.DAY).amount == Decimal("3")


def test_a_stored_event_id_with_another_payload_is_a_conflict_and_stores_nothing() -> None:
    campaign = CampaignFactory.create()
    spend_record(campaign_id=campaign.pk, amount=Decimal("5"), event_id="stored")

    with pytest.raises(SpendConflict) as raised:
        spend_record_batch([spend(campaign, "1"), spend(campaign, "6", event_id="stored")])

    assert (raised.value.index, raised.value.fields) == (1, ["amount"])
    assert SpendEvent.objects.count() == 1


def test_crossing_the_cap_midway_pauses_and_counts_the_rest_as_overspend() -> None:
    brand = BrandFactory.create(daily_budget=Decimal("10"))
    first = CampaignFactory.create(brand=brand, name="first")
    second = CampaignFactory.create(brand=brand, name="second")

    spend_record_batch(
        [spend(first, "6"), spend(second, "4"), spend(first, "2.5"), spend(second, "1")]
    )

    serving = list(SpendEvent.objects.order_by("id").values_list("campaign_was_serving", flat=True))
    assert serving == [True, True, False, False]
    rollup = BrandSpend.objects.get(period=Period.DAY)
    assert (rollup.amount, rollup.overspend) == (Decimal("13.5"), Decimal("3.5"))
    assert CampaignSpend.objects.get(campaign=first, period=Period.DAY).overspend == Decimal("2.5")
    assert set(Campaign.objects.values_list("pause_reason", flat=True)) == {"brand_daily_budget"}
    assert CampaignStatusChange.objects.count() == 2


def test_events_of_several_brands_and_days_in_one_batch() -> None:
    kolkata = CampaignFactory.create(brand=BrandFactory.create(timezone="Asia/Kolkata"))
    new_york = CampaignFactory.create(brand=BrandFactory.create(timezone="America/New_York"))
    late = NOW - dt.timedelta(days=1)

    spend_record_batch(
        [spend(kolkata, "1"), spend(new_york, "2"), spend(kolkata, "4", occurred_at=late)]
    )

    keys = set(
        BrandSpend.objects.values_list("brand__timezone", "period", "period_start", "amount")
    )
    assert keys == {
        ("Asia/Kolkata", "day", dt.date(2026, 3, 10), Decimal("1")),
        ("Asia/Kolkata", "day", dt.date(2026, 3, 9), Decimal("4")),
        ("Asia/Kolkata", "month", dt.date(2026, 3, 1), Decimal("5")),
        ("America/New_York", "day", dt.date(2026, 3, 10), Decimal("2")),
        ("America/New_York", "month", dt.date(2026, 3, 1), Decimal("2")),
    }


def test_adjustments_in_a_batch_may_be_negative() -> None:
    campaign = CampaignFactory.create()
    spend_record_batch(
        [spend(campaign, "10"), spend(campaign, "-3.5", kind=SpendKind.ADJUSTMENT, occurred_at=NOW)]
    )
    assert day_total(BrandSpend, brand=campaign.brand) == Decimal("6.5")


@pytest.mark.parametrize("events", [1, 40])
def test_a_batch_costs_the_same_queries_whatever_its_size(events: int) -> None:
    brand = BrandFactory.create(daily_budget=Decimal("100000"))
    budget = BudgetFactory.create(brand=brand, daily_limit=Decimal("100000"))
    campaigns = CampaignFactory.create_batch(4, brand=brand, budget=budget)
    spend_record_batch([spend(campaigns[0], "1")])  # today's rollup rows exist
    batch = [spend(campaigns[i % 4], "1", event_id=f"e{i}") for i in range(events)]

    with CaptureQueriesContext(connection) as queries:
        spend_record_batch(batch)

    # * savepoint  * lock the brands, read campaigns and caps  * lock the capped rollups
    # * read campaign states  * insert the events  * upsert the rollups and raise alerts
    # * release savepoint
    assert len(queries) == 7
    assert BrandSpend.objects.get(period=Period.DAY).events_count == events + 1
