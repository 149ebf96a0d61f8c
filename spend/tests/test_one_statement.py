"""One event outside any transaction: one statement that commits by itself.

When it cannot finish alone (campaigns to hold or release, brand settings
changed since they were read) it aborts itself and the event is recorded in
a transaction instead. These tests run without the test transaction, as a
worker or a request without ATOMIC_REQUESTS does.
"""

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from budgets.models import Alert, Period
from budgets.tests.factories import BrandFactory, BudgetFactory
from campaigns.models import Campaign, CampaignStatusChange
from campaigns.tests.factories import CampaignFactory
from spend.errors import UnknownCampaignsError
from spend.models import BrandSpend, BudgetSpend, SpendEvent
from spend.recording import placing, single
from spend.recording.validation import clean_event
from spend.senders import SYSTEM
from spend.services import SpendConflict, spend_record

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL only"),
]

NOW = dt.datetime(2026, 3, 10, 15, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def frozen_now() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


def test_a_serving_event_is_one_read_and_one_statement_with_no_transaction_around() -> None:
    campaign = CampaignFactory.create(brand=BrandFactory.create(daily_budget=Decimal("100")))
    spend_record(campaign_id=campaign.pk, amount=Decimal("1"))  # today's rows exist now
    single._CONTEXTS.pop(single._context_key(campaign.pk), None)  # as in a fresh process

    with CaptureQueriesContext(connection) as queries:
        result = spend_record(campaign_id=campaign.pk, amount=Decimal("2"))

    # * read the campaign and its caps  * the one statement (commits by itself)
    assert len(queries) == 2
    assert (result.created, result.campaign_status, result.brand_daily_spend) == (
        True,
        "active",
        Decimal("3"),
    )


def test_the_next_event_of_a_campaign_is_one_statement_alone() -> None:
    campaign = CampaignFactory.create(brand=BrandFactory.create(daily_budget=Decimal("100")))
    spend_record(campaign_id=campaign.pk, amount=Decimal("1"))  # remembers the campaign

    with CaptureQueriesContext(connection) as queries:
        result = spend_record(campaign_id=campaign.pk, amount=Decimal("2"))

    # * the one statement, with the campaign's context remembered from the first event
    assert len(queries) == 1
    assert (result.created, result.brand_daily_spend) == (True, Decimal("3"))


def test_a_remembered_campaign_whose_brand_changed_is_recorded_with_the_new_settings() -> None:
    brand = BrandFactory.create(timezone="UTC", daily_budget=Decimal("100"))
    campaign = CampaignFactory.create(brand=brand)
    spend_record(campaign_id=campaign.pk, amount=Decimal("1"))  # remembers UTC, 100
    # 15:00 UTC is already 05:00 on the 11th in Kiritimati; the cap falls to 3
    type(brand).objects.filter(pk=brand.pk).update(
        timezone="Pacific/Kiritimati", daily_budget=Decimal("3")
    )

    result = spend_record(campaign_id=campaign.pk, amount=Decimal("4"))

    assert result.event.local_date == dt.date(2026, 3, 11)
    assert (result.brand_daily_spend, result.campaign_status) == (Decimal("4"), "paused")
    assert result.pause_reason == "brand_daily_budget"
    again = spend_record(campaign_id=campaign.pk, amount=Decimal("1"))
    assert again.brand_daily_spend == Decimal("5")
    assert again.event.campaign_was_serving is False


def test_a_remembered_campaign_moved_to_another_budget_counts_against_the_new_one() -> None:
    first = BudgetFactory.create(daily_limit=Decimal("100"))
    second = BudgetFactory.create(brand=first.brand, daily_limit=Decimal("100"))
    campaign = CampaignFactory.create(brand=first.brand, budget=first)
    spend_record(campaign_id=campaign.pk, amount=Decimal("1"))  # remembers the first budget
    Campaign.objects.filter(pk=campaign.pk).update(budget=second)

    result = spend_record(campaign_id=campaign.pk, amount=Decimal("2"))

    assert result.event.budget_id == second.pk
    assert BudgetSpend.objects.get(budget=second, period=Period.DAY).amount == Decimal("2")
    assert BudgetSpend.objects.get(budget=first, period=Period.DAY).amount == Decimal("1")


def test_reaching_a_cap_takes_the_transaction_and_pauses_the_brand() -> None:
    brand = BrandFactory.create(daily_budget=Decimal("10"))
    first = CampaignFactory.create(brand=brand, name="first")
    CampaignFactory.create(brand=brand, name="second")
    spend_record(campaign_id=first.pk, amount=Decimal("9"))

    with CaptureQueriesContext(connection) as queries:
        result = spend_record(campaign_id=first.pk, amount=Decimal("1"))

    # * read  * the statement, which refuses to commit alone; then the transaction:
    # * lock the brand  * the statement  * enforcement (its own queries)
    assert len(queries) > 4
    assert (result.campaign_status, result.pause_reason) == ("paused", "brand_daily_budget")
    assert result.event.campaign_was_serving is True
    assert set(Campaign.objects.values_list("pause_reason", flat=True)) == {"brand_daily_budget"}
    assert CampaignStatusChange.objects.count() == 2
    day = BrandSpend.objects.get(period=Period.DAY)
    assert (day.amount, day.events_count) == (Decimal("10"), 2)  # counted once, not twice


def test_spend_after_the_cap_commits_alone_as_overspend() -> None:
    campaign = CampaignFactory.create(brand=BrandFactory.create(daily_budget=Decimal("10")))
    spend_record(campaign_id=campaign.pk, amount=Decimal("10"))

    with CaptureQueriesContext(connection) as queries:
        result = spend_record(campaign_id=campaign.pk, amount=Decimal("2"))

    # * read (the first event took the transaction, which remembers nothing)
    # * the one statement  * the campaign's state for the answer
    assert len(queries) == 3
    assert result.event.campaign_was_serving is False
    assert BrandSpend.objects.get(period=Period.DAY).overspend == Decimal("2")


def test_replays_and_conflicts_outside_a_transaction() -> None:
    campaign = CampaignFactory.create()
    first = spend_record(campaign_id=campaign.pk, amount=Decimal("5"), event_id="e")

    again = spend_record(campaign_id=campaign.pk, amount=Decimal("5"), event_id="e")
    with pytest.raises(SpendConflict):
        spend_record(campaign_id=campaign.pk, amount=Decimal("6"), event_id="e")

    assert (again.created, again.event.pk) == (False, first.event.pk)
    assert SpendEvent.objects.count() == 1
    assert BrandSpend.objects.get(period=Period.DAY).amount == Decimal("5")


def test_the_first_spend_of_a_new_day_releases_yesterdays_hold() -> None:
    budget = BudgetFactory.create(daily_limit=Decimal("5"))
    campaign = CampaignFactory.create(brand=budget.brand, budget=budget)
    spend_record(
        campaign_id=campaign.pk, amount=Decimal("5"), occurred_at=NOW - dt.timedelta(hours=16)
    )
    with time_machine.travel(NOW - dt.timedelta(hours=16), tick=False):
        spend_record(campaign_id=campaign.pk, amount=Decimal("0.01"))  # yesterday, at the cap
    assert Campaign.objects.get().pause_reason == "budget_daily_limit"

    result = spend_record(campaign_id=campaign.pk, amount=Decimal("1"))

    assert (result.campaign_status, result.pause_reason) == ("active", None)
    assert result.event.campaign_was_serving is False  # it was held when the spend came


def test_the_statement_refuses_to_commit_alone_when_the_brand_changed_meanwhile() -> None:
    campaign = CampaignFactory.create(brand=BrandFactory.create(timezone="UTC"))
    spend_record(campaign_id=campaign.pk, amount=Decimal("1"))
    event, _ = clean_event(
        campaign_id=campaign.pk,
        amount=Decimal("1"),
        occurred_at=None,
        event_id=None,
        source="test",
        kind="spend",
        now=NOW,
    )
    assert event is not None
    placed = placing.place([event], NOW, sender=SYSTEM, lock=False)
    params = single.one_event_params(placed[0], NOW, alone=True)
    params["timezone"] = "Asia/Kolkata"  # what a stale read would have seen

    with pytest.raises(single.NeedsTransactionError):
        single.event_record_postgres(params)

    assert SpendEvent.objects.count() == 1
    assert BrandSpend.objects.get(period=Period.DAY).amount == Decimal("1")


def test_the_first_event_of_a_day_creates_the_rows_and_commits_alone() -> None:
    campaign = CampaignFactory.create(brand=BudgetFactory.create().brand)
    with CaptureQueriesContext(connection) as queries:
        spend_record(campaign_id=campaign.pk, amount=Decimal("1"))
    # * read  * the statement (no rows to lock)  * create the brand's rows  * the statement
    assert len(queries) == 4
    assert BrandSpend.objects.get(period=Period.DAY).events_count == 1


def test_a_campaign_deleted_after_it_was_read_is_reported_unknown_not_a_crash() -> None:
    campaign = CampaignFactory.create()
    event, _ = clean_event(
        campaign_id=campaign.pk,
        amount=Decimal("1"),
        occurred_at=None,
        event_id=None,
        source="test",
        kind="spend",
        now=NOW,
    )
    assert event is not None
    placed = placing.place([event], NOW, sender=SYSTEM, lock=False)
    Campaign.objects.filter(pk=campaign.pk).delete()

    with pytest.raises(UnknownCampaignsError):
        single.one_statement(placed, NOW, alone=True)

    assert not SpendEvent.objects.exists()


def test_the_statement_raises_the_alert_levels_it_is_given(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """ALERT_THRESHOLDS reach the SQL as a parameter: other levels, other alerts."""
    campaign = CampaignFactory.create(brand=BrandFactory.create(daily_budget=Decimal("100")))
    spend_record(campaign_id=campaign.pk, amount=Decimal("1"))  # today's rows exist now
    monkeypatch.setattr(single, "THRESHOLDS", "{80}")  # not 50, the level it crosses too

    with CaptureQueriesContext(connection) as queries:
        result = spend_record(campaign_id=campaign.pk, amount=Decimal("89"))

    assert len(queries) == 1  # the statement alone raised it
    assert result.brand_daily_spend == Decimal("90")
    daily = Alert.objects.filter(brand=campaign.brand, period=Period.DAY)
    assert list(daily.values_list("threshold", flat=True)) == [80]
