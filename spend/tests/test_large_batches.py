"""Batches large enough for COPY (spend.recording.copy_batch): written before the caps are locked.

The same rules as every other path: all or nothing, replays once, the event
that reaches a cap is the last one served, overspend and alerts as for
single events. What differs is the order of the statements, so these tests
also hold that order (and the queries) to what spend.recording.copy_batch says.
"""

import datetime as dt
import threading
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from budgets.models import Alert, Period
from budgets.tests.factories import BrandFactory, BudgetFactory
from campaigns.models import Campaign, CampaignStatusChange
from campaigns.services import campaign_pause
from campaigns.tests.factories import CampaignFactory
from spend.errors import EventIdRaceError
from spend.models import BrandSpend, BudgetSpend, CampaignSpend, SpendEvent, SpendKind
from spend.recording import ledger
from spend.recording.batch import COPY_MIN_EVENTS
from spend.senders import SYSTEM
from spend.services import (
    BatchRecorded,
    SpendBatchInvalid,
    SpendConflict,
    SpendInput,
    spend_record,
    spend_record_batch,
)

pytestmark = pytest.mark.django_db
postgres_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="COPY: PostgreSQL")

NOW = dt.datetime(2026, 3, 10, 15, 0, tzinfo=dt.UTC)
TODAY = dt.date(2026, 3, 10)
SIZE = COPY_MIN_EVENTS + 10


@pytest.fixture(autouse=True)
def frozen_now() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


def spend(campaign: Campaign, amount: str, **kwargs: Any) -> SpendInput:
    return SpendInput(campaign_id=campaign.pk, amount=Decimal(amount), **kwargs)


def day_row(model: type[BrandSpend | BudgetSpend | CampaignSpend], **owner: object) -> Any:
    return model.objects.get(period=Period.DAY, period_start=TODAY, **owner)


def serving_flags() -> list[bool]:
    return list(SpendEvent.objects.order_by("id").values_list("campaign_was_serving", flat=True))


def test_a_large_batch_stores_each_event_as_given() -> None:
    brand = BrandFactory.create(timezone="America/New_York", daily_budget=Decimal("10000"))
    budget = BudgetFactory.create(brand=brand, daily_limit=Decimal("5000"))
    pooled = CampaignFactory.create(brand=brand, budget=budget)
    paused = campaign_pause(campaign_id=CampaignFactory.create(brand=brand).pk)
    yesterday = NOW - dt.timedelta(days=1)
    events = [
        spend(pooled, "1.5", event_id=f"e{i}", occurred_at=yesterday)
        if i % 3 == 0
        else spend(paused, "-0.25", kind=SpendKind.ADJUSTMENT, occurred_at=NOW)
        if i % 7 == 0
        else spend(paused, "2.000001")
        for i in range(SIZE)
    ]

    assert spend_record_batch(events) == BatchRecorded(created=SIZE, duplicates=0)

    stored = SpendEvent.objects.order_by("id").values_list(
        "campaign_id", "brand_id", "budget_id", "kind", "amount", "occurred_at", "local_date",
        "source", "event_id", "campaign_was_serving", "recorded_at",
    )  # fmt: skip
    assert list(stored) == [
        (e.campaign_id, brand.pk, budget.pk if e.campaign_id == pooled.pk else None, e.kind,
         e.amount, e.occurred_at or NOW, (e.occurred_at or NOW).date(), SYSTEM.source, e.event_id,
         e.campaign_id == pooled.pk, NOW)
        for e in events
    ]  # fmt: skip
    today_paused = [e.amount for e in events if e.campaign_id == paused.pk]
    brand_today = day_row(BrandSpend, brand=brand)
    assert (brand_today.amount, brand_today.overspend) == (sum(today_paused), Decimal(0))
    assert brand_today.events_count == len(today_paused)
    campaign_today = day_row(CampaignSpend, campaign=paused)
    assert campaign_today.overspend == sum(a for a in today_paused if a > 0)
    pooled_yesterday = BudgetSpend.objects.get(period=Period.DAY, period_start=TODAY.replace(day=9))
    assert pooled_yesterday.amount == sum(e.amount for e in events if e.campaign_id == pooled.pk)


@postgres_only
def test_a_large_batch_runs_a_fixed_number_of_queries() -> None:
    brand = BrandFactory.create(daily_budget=Decimal("100000"))
    budget = BudgetFactory.create(brand=brand, daily_limit=Decimal("100000"))
    campaigns = CampaignFactory.create_batch(4, brand=brand, budget=budget)
    spend_record_batch([spend(campaigns[0], "1")] * SIZE)  # the rows of today exist
    batch = [spend(campaigns[i % 4], "1", event_id=f"e{i}") for i in range(2 * SIZE)]

    with CaptureQueriesContext(connection) as queries:
        spend_record_batch(batch)

    # * savepoint  * lock the brands, read campaigns and caps
    # * read the capped totals and the campaigns' states, without locks
    # * COPY the events  * check the ledger's keys at once
    # * defer the keys again (there is an outer transaction)  * lock the capped rollups
    # * read the campaigns' states  * upsert the rollups and raise alerts  * release savepoint
    assert len(queries) == 10, [q["sql"][:60] for q in queries]
    assert queries[3]["sql"].startswith("COPY spend_spendevent")
    assert queries[4]["sql"].endswith("IMMEDIATE")  # checked before the rollups are locked
    assert BrandSpend.objects.get(period=Period.DAY).events_count == 3 * SIZE


def test_a_large_batch_that_reaches_the_cap_stops_serving_at_the_event_that_reached_it() -> None:
    brand = BrandFactory.create(daily_budget=Decimal("100"))
    campaigns = CampaignFactory.create_batch(2, brand=brand)

    spend_record_batch([spend(campaigns[i % 2], "2") for i in range(SIZE)])

    assert serving_flags() == [True] * 50 + [False] * (SIZE - 50)
    rollup = day_row(BrandSpend, brand=brand)
    assert (rollup.amount, rollup.overspend) == (Decimal(2 * SIZE), Decimal(2 * SIZE - 100))
    assert sorted(t or 0 for t in Alert.objects.values_list("threshold", flat=True)) == [
        50,
        80,
        100,
    ]
    assert set(Campaign.objects.values_list("pause_reason", flat=True)) == {"brand_daily_budget"}


def test_a_large_batch_under_a_reached_cap_is_overspend_and_pauses_what_still_serves() -> None:
    brand = BrandFactory.create(daily_budget=Decimal("10"))
    spend_record(campaign_id=CampaignFactory.create(brand=brand).pk, amount=Decimal("10"))
    late = CampaignFactory.create(brand=brand)  # created active after the cap was reached

    spend_record_batch([spend(late, "1")] * SIZE)

    assert serving_flags() == [True] + [False] * SIZE
    rollup = day_row(BrandSpend, brand=brand)
    assert (rollup.amount, rollup.overspend) == (Decimal(10 + SIZE), Decimal(SIZE))
    assert day_row(CampaignSpend, campaign=late).overspend == Decimal(SIZE)
    assert Alert.objects.count() == 3  # raised once, by the event that reached the cap
    assert Campaign.objects.get(pk=late.pk).pause_reason == "brand_daily_budget"


def test_a_large_batch_holding_a_stored_event_id_is_done_again_counting_it_once() -> None:
    campaign = CampaignFactory.create(brand=BrandFactory.create(daily_budget=Decimal("1000")))
    spend_record(campaign_id=campaign.pk, amount=Decimal("5"), event_id="stored")
    batch = [spend(campaign, "1", event_id=f"new-{i}") for i in range(SIZE)]
    batch.insert(7, spend(campaign, "5", event_id="stored"))

    assert spend_record_batch(batch) == BatchRecorded(created=SIZE, duplicates=1)

    rollup = day_row(BrandSpend, brand=campaign.brand)
    assert (rollup.amount, rollup.events_count) == (Decimal(5 + SIZE), SIZE + 1)


def test_a_stored_event_id_with_another_payload_in_a_large_batch_is_a_conflict() -> None:
    campaign = CampaignFactory.create()
    spend_record(campaign_id=campaign.pk, amount=Decimal("5"), event_id="stored")
    batch = [spend(campaign, "0.01")] * SIZE + [spend(campaign, "6", event_id="stored")]

    with pytest.raises(SpendConflict) as raised:
        spend_record_batch(batch)

    assert (raised.value.index, raised.value.fields) == (SIZE, ["amount"])
    assert SpendEvent.objects.count() == 1


def test_an_unknown_campaign_in_a_large_batch_is_named_and_nothing_is_stored() -> None:
    campaign = CampaignFactory.create()
    batch = [spend(campaign, "1")] * SIZE
    batch[3] = SpendInput(campaign_id=999_999, amount=Decimal(1))

    with pytest.raises(SpendBatchInvalid) as raised:
        spend_record_batch(batch)

    assert raised.value.errors == {3: {"campaign": ["No campaign with id 999999."]}}
    assert not SpendEvent.objects.exists()


@postgres_only
def test_a_large_batch_leaves_an_outer_transaction_checking_keys_at_commit() -> None:
    campaign = CampaignFactory.create()
    with transaction.atomic():
        spend_record_batch([spend(campaign, "1")] * SIZE)
        with connection.cursor() as cursor:  # a dangling key: refused only at COMMIT
            cursor.execute(
                "INSERT INTO spend_spendevent (campaign_id, brand_id, kind, amount, occurred_at,"
                " local_date, recorded_at, source, campaign_was_serving)"
                " VALUES (999999, 999999, 'spend', 1, now(), now(), now(), 'test', true)"
            )
        transaction.set_rollback(True)


@postgres_only
def test_a_unique_violation_other_than_the_event_id_is_not_taken_for_a_replay() -> None:
    campaign = CampaignFactory.create()
    row = (campaign.pk, campaign.brand_id, None, "spend", Decimal(1), NOW, TODAY, "test",
           "a", True, NOW)  # fmt: skip
    with pytest.raises(EventIdRaceError), transaction.atomic():
        ledger.events_copy([row, row])
    with pytest.raises(IntegrityError) as raised, transaction.atomic():
        BrandSpend.objects.bulk_create(
            [BrandSpend(brand=campaign.brand, period="day", period_start=TODAY, amount=0)] * 2
        )
    assert ledger.violated_constraint(raised.value) == "brand_spend_one_row_per_period"
    refused = (*row[:4], Decimal(-1), *row[5:8], "b", *row[9:])  # a negative spend
    with pytest.raises(IntegrityError) as checked, transaction.atomic():
        ledger.events_copy([refused])
    assert ledger.violated_constraint(checked.value) is None


# --- a concurrent recorder between the read and the locks ---------------------------


def _before_the_locks(monkeypatch: pytest.MonkeyPatch, work: Callable[[], object]) -> None:
    """Run `work` in another thread (its own connection and transaction) just before
    the batch locks the capped rows, and wait for it to commit."""
    lock = ledger.rollups_lock
    done: list[bool] = []

    def in_another_connection() -> None:
        try:
            work()
        finally:
            connection.close()

    def rollups_lock(*args: Any) -> Any:
        if not done:
            done.append(True)
            other = threading.Thread(target=in_another_connection)
            other.start()
            other.join()
        return lock(*args)

    monkeypatch.setattr(ledger, "rollups_lock", rollups_lock)


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_cap_reached_by_another_recorder_meanwhile_is_what_the_batch_sees(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    brand = BrandFactory.create(daily_budget=Decimal("100"))
    campaign, other = CampaignFactory.create_batch(2, brand=brand)
    _before_the_locks(
        monkeypatch, lambda: spend_record(campaign_id=other.pk, amount=Decimal("100"))
    )

    spend_record_batch([spend(campaign, "0.5")] * SIZE)  # read as far under the cap

    assert "recorded again" in caplog.text
    assert serving_flags() == [True] + [False] * SIZE  # the other's event, then the batch
    rollup = day_row(BrandSpend, brand=brand)
    half = Decimal(SIZE) / 2
    assert (rollup.amount, rollup.overspend) == (100 + half, half)
    assert day_row(CampaignSpend, campaign=campaign).overspend == half
    assert CampaignStatusChange.objects.count() == 2  # both paused once, by the other


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_totals_moved_by_another_recorder_meanwhile_are_counted_under_the_lock(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    brand = BrandFactory.create(daily_budget=Decimal("1000"))
    campaign, other = CampaignFactory.create_batch(2, brand=brand)
    _before_the_locks(monkeypatch, lambda: spend_record(campaign_id=other.pk, amount=Decimal(7)))

    spend_record_batch([spend(campaign, "1")] * SIZE)

    assert "recorded again" not in caplog.text  # nothing written had to change
    rollup = day_row(BrandSpend, brand=brand)
    assert (rollup.amount, rollup.events_count) == (Decimal(7 + SIZE), SIZE + 1)
    assert serving_flags() == [True] * (SIZE + 1)


@postgres_only
def test_the_keys_checked_at_once_are_the_ledgers_deferred_foreign_keys() -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conname FROM pg_constraint WHERE conrelid = 'spend_spendevent'::regclass"
            " AND contype = 'f' AND condeferrable AND condeferred ORDER BY conname"
        )
        assert tuple(name for (name,) in cursor.fetchall()) == ledger.LEDGER_FOREIGN_KEYS
