"""spend_record: the ledger, the rollups, idempotency, immediate enforcement."""

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from budgets.models import Alert, Period
from budgets.tests.factories import BrandFactory, BudgetFactory
from campaigns.models import Campaign, CampaignStatusChange
from campaigns.services import campaign_pause
from campaigns.tests.factories import CampaignFactory
from spend.alerts import alerts_deliver_now
from spend.models import BrandSpend, BudgetSpend, CampaignSpend, SpendEvent, SpendKind
from spend.senders import Sender
from spend.services import SpendConflict, SpendRecorded, spend_record

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_now")]

NOW = dt.datetime(2026, 3, 10, 15, 0, tzinfo=dt.UTC)
TODAY = dt.date(2026, 3, 10)
MONTH = dt.date(2026, 3, 1)
GOOGLE = Sender(source="google", may_adjust=False, brand_ids=None)


@pytest.fixture
def frozen_now() -> object:
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def record(campaign: Campaign, amount: str, **kwargs: object) -> SpendRecorded:
    return spend_record(campaign_id=campaign.pk, amount=Decimal(amount), **kwargs)  # type: ignore[arg-type]


def totals(model: type[BrandSpend | BudgetSpend | CampaignSpend]) -> dict[tuple[str, dt.date], str]:
    return {
        (period, start): f"{amount}/{count}/{overspend}"
        for period, start, amount, count, overspend in model.objects.values_list(
            "period", "period_start", "amount", "events_count", "overspend"
        )
    }


def states() -> dict[str, str | None]:
    return dict(Campaign.objects.values_list("name", "pause_reason"))


def test_an_event_lands_in_the_ledger_and_in_every_rollup() -> None:
    budget = BudgetFactory.create(daily_limit=Decimal("50"))
    campaign = CampaignFactory.create(brand=budget.brand, budget=budget)

    result = record(campaign, "12.345678", event_id="platform-1", sender=GOOGLE)

    event = SpendEvent.objects.get()
    assert (event.pk, event.amount, event.local_date) == (
        result.event.pk,
        Decimal("12.345678"),
        TODAY,
    )
    assert (event.brand_id, event.budget_id, event.source) == (budget.brand_id, budget.pk, "google")
    assert event.campaign_was_serving is True
    expected = {
        (Period.DAY, TODAY): "12.345678/1/0.000000",
        (Period.MONTH, MONTH): "12.345678/1/0.000000",
    }
    assert totals(BrandSpend) == totals(BudgetSpend) == totals(CampaignSpend) == expected


def test_the_answer_gives_the_brands_spend_and_remaining_for_today_and_this_month() -> None:
    brand = BrandFactory.create(daily_budget=Decimal("100"), monthly_budget=Decimal("1000"))
    campaign = CampaignFactory.create(brand=brand)
    record(campaign, "30")

    result = record(campaign, "12.5")

    assert result.created is True
    assert (result.campaign_status, result.pause_reason) == ("active", None)
    assert result.brand_daily_spend == Decimal("42.5")
    assert result.brand_monthly_spend == Decimal("42.5")
    assert result.brand_daily_remaining == Decimal("57.5")
    assert result.brand_monthly_remaining == Decimal("957.5")


def test_totals_add_up_exactly_in_decimal() -> None:
    campaign = CampaignFactory.create()
    for _ in range(10):
        record(campaign, "0.100001")
    assert BrandSpend.objects.get(period=Period.DAY).amount == Decimal("1.000010")


def test_a_replayed_event_id_is_counted_once_and_returns_the_original() -> None:
    campaign = CampaignFactory.create()
    first = record(campaign, "5", event_id="evt-9", occurred_at=NOW - dt.timedelta(hours=1))

    again = record(campaign, "5.000000", event_id="evt-9")

    assert again.created is False
    assert again.event.pk == first.event.pk
    assert again.event.occurred_at == NOW - dt.timedelta(hours=1)
    assert again.brand_daily_spend == Decimal("5")
    assert SpendEvent.objects.count() == 1
    assert BrandSpend.objects.get(period=Period.DAY).events_count == 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"amount": Decimal("6")}, "amount"),
        ({"kind": SpendKind.ADJUSTMENT}, "kind"),
        ({"occurred_at": NOW - dt.timedelta(minutes=1)}, "occurred_at"),
    ],
)
def test_a_replay_with_a_different_payload_is_a_conflict(
    change: dict[str, object], field: str
) -> None:
    campaign = CampaignFactory.create()
    record(campaign, "5", event_id="evt-9", occurred_at=NOW)
    payload: dict[str, object] = {"amount": Decimal("5"), "occurred_at": NOW, **change}

    with pytest.raises(SpendConflict) as raised:
        spend_record(campaign_id=campaign.pk, event_id="evt-9", **payload)  # type: ignore[arg-type]

    assert raised.value.fields == [field]
    assert raised.value.event_id == "evt-9"
    assert SpendEvent.objects.count() == 1
    assert BrandSpend.objects.get(period=Period.DAY).amount == Decimal("5")


def test_a_replay_for_another_campaign_is_a_conflict() -> None:
    first, second = CampaignFactory.create_batch(2)
    record(first, "5", event_id="evt-9")
    with pytest.raises(SpendConflict, match="campaign"):
        record(second, "5", event_id="evt-9")
    assert not BrandSpend.objects.filter(brand=second.brand).exists()


def test_reaching_the_brand_daily_cap_pauses_every_campaign_of_the_brand_at_once() -> None:
    brand = BrandFactory.create(daily_budget=Decimal("100"))
    budget = BudgetFactory.create(brand=brand, daily_limit=None)
    spender = CampaignFactory.create(brand=brand, name="spender")
    CampaignFactory.create(brand=brand, budget=budget, name="pooled")
    CampaignFactory.create(name="other brand")
    record(spender, "99.99")
    assert states() == {"spender": None, "pooled": None, "other brand": None}

    result = record(spender, "0.01")

    assert (result.campaign_status, result.pause_reason) == ("paused", "brand_daily_budget")
    assert result.brand_daily_remaining == 0
    assert result.event.campaign_was_serving is True  # the event that reached the cap
    assert states() == {
        "spender": "brand_daily_budget",
        "pooled": "brand_daily_budget",
        "other brand": None,
    }
    history = CampaignStatusChange.objects.filter(new_reason="brand_daily_budget")
    assert sorted(history.values_list("campaign__name", flat=True)) == ["pooled", "spender"]
    assert {h.actor for h in history} == {"system"}


def test_reaching_the_monthly_cap_pauses_with_the_monthly_reason() -> None:
    brand = BrandFactory.create(daily_budget=Decimal("500"), monthly_budget=Decimal("300"))
    campaign = CampaignFactory.create(brand=brand, name="c")
    record(campaign, "250", occurred_at=NOW - dt.timedelta(days=3))
    record(campaign, "50")
    assert states() == {"c": "brand_monthly_budget"}


def test_a_shared_budget_limit_pauses_only_the_campaigns_drawing_from_it() -> None:
    brand = BrandFactory.create(daily_budget=Decimal("1000"))
    budget = BudgetFactory.create(brand=brand, daily_limit=Decimal("20"))
    pooled = CampaignFactory.create(brand=brand, budget=budget, name="pooled")
    CampaignFactory.create(brand=brand, budget=budget, name="pooled too")
    CampaignFactory.create(brand=brand, name="outside")

    record(pooled, "20")

    assert states() == {
        "pooled": "budget_daily_limit",
        "pooled too": "budget_daily_limit",
        "outside": None,
    }


def test_spend_for_a_paused_campaign_is_recorded_and_counted_as_overspend() -> None:
    brand = BrandFactory.create(daily_budget=Decimal("10"))
    campaign = CampaignFactory.create(brand=brand)
    record(campaign, "10")

    late = record(campaign, "3.25")

    assert late.created is True
    assert late.event.campaign_was_serving is False
    assert late.overspend is True
    assert (late.campaign_status, late.pause_reason) == ("paused", "brand_daily_budget")
    assert late.brand_daily_spend == Decimal("13.25")
    assert totals(BrandSpend)[(Period.DAY, TODAY)] == "13.250000/2/3.250000"
    assert totals(CampaignSpend)[(Period.DAY, TODAY)] == "13.250000/2/3.250000"
    # Spend after the cap changes no serving state: no second history row.
    assert CampaignStatusChange.objects.count() == 1


def test_spend_for_a_manually_paused_campaign_is_recorded_and_the_pause_sticks() -> None:
    campaign = CampaignFactory.create()
    campaign_pause(campaign_id=campaign.pk)

    result = record(campaign, "4")

    assert (result.campaign_status, result.pause_reason) == ("paused", "manual")
    assert result.event.campaign_was_serving is False
    assert totals(CampaignSpend)[(Period.DAY, TODAY)] == "4.000000/1/4.000000"
    # Under the brand's caps, so no brand overspend.
    assert totals(BrandSpend)[(Period.DAY, TODAY)] == "4.000000/1/0.000000"


def test_a_refund_below_the_cap_lets_the_brand_serve_again_but_not_a_manual_pause() -> None:
    brand = BrandFactory.create(daily_budget=Decimal("10"))
    spender = CampaignFactory.create(brand=brand, name="spender")
    CampaignFactory.create(brand=brand, name="manual", enabled=False)
    record(spender, "10")
    assert states() == {"spender": "brand_daily_budget", "manual": "manual"}

    result = record(spender, "-2", kind=SpendKind.ADJUSTMENT, occurred_at=NOW)

    assert result.brand_daily_spend == Decimal("8")
    assert (result.campaign_status, result.pause_reason) == ("active", None)
    assert states() == {"spender": None, "manual": "manual"}


def test_a_new_campaign_created_after_the_cap_is_held_when_its_spend_arrives() -> None:
    brand = BrandFactory.create(daily_budget=Decimal("10"))
    record(CampaignFactory.create(brand=brand), "10")
    newcomer = CampaignFactory.create(brand=brand, name="new")
    assert newcomer.status == "active"  # nothing has told it yet

    result = record(newcomer, "1")

    assert result.event.campaign_was_serving is False
    assert Campaign.objects.get(name="new").pause_reason == "brand_daily_budget"


def test_a_late_event_for_yesterday_counts_for_yesterday_and_pauses_nothing_today() -> None:
    brand = BrandFactory.create(daily_budget=Decimal("10"))
    campaign = CampaignFactory.create(brand=brand, name="c")

    result = record(campaign, "15", occurred_at=NOW - dt.timedelta(days=1))

    assert result.event.local_date == TODAY - dt.timedelta(days=1)
    assert totals(BrandSpend) == {
        (Period.DAY, TODAY - dt.timedelta(days=1)): "15.000000/1/0.000000",
        (Period.MONTH, MONTH): "15.000000/1/0.000000",
    }
    assert result.brand_daily_spend == 0  # today
    assert result.brand_monthly_spend == Decimal("15")
    assert states() == {"c": None}
    # Yesterday's alerts are yesterday's.
    assert set(Alert.objects.values_list("period", "period_start", "threshold")) == {
        (Period.DAY, TODAY - dt.timedelta(days=1), threshold) for threshold in (50, 80, 100)
    }


def test_alerts_are_raised_once_at_50_80_and_100_percent(
    django_capture_on_commit_callbacks: object,
) -> None:
    brand = BrandFactory.create(
        name="Acme", daily_budget=Decimal("100"), monthly_budget=Decimal("10000")
    )
    campaign = CampaignFactory.create(brand=brand)
    for amount in ["49", "1", "20", "10", "25", "5", "7"]:
        with django_capture_on_commit_callbacks(execute=True):  # type: ignore[operator]
            record(campaign, amount)

    alerts = list(
        Alert.objects.order_by("threshold").values_list("scope", "period", "threshold", "spend")
    )
    assert alerts == [
        ("brand", "day", 50, Decimal("50")),
        ("brand", "day", 80, Decimal("80")),
        ("brand", "day", 100, Decimal("105")),
    ]
    # Delivered by the worker (spend.tasks.alerts_deliver), here called directly.
    alerts_deliver_now(list(Alert.objects.order_by("threshold").values_list("id", flat=True)))
    assert [m.subject for m in mail.outbox] == [
        "[Budget alert] Acme reached 50% of its daily budget for 2026-03-10: 50.00 of 100.00 USD",
        "[Budget alert] Acme reached 80% of its daily budget for 2026-03-10: 80.00 of 100.00 USD",
        "[Budget alert] Acme reached 100% of its daily budget for 2026-03-10: 105.00 of 100.00 USD",
    ]


def test_one_event_past_several_thresholds_raises_each_of_them() -> None:
    budget = BudgetFactory.create(daily_limit=Decimal("10"), monthly_limit=Decimal("100"))
    record(CampaignFactory.create(brand=budget.brand, budget=budget), "85")
    raised = set(Alert.objects.values_list("scope", "period", "threshold"))
    assert raised == {
        ("budget", "day", 50),
        ("budget", "day", 80),
        ("budget", "day", 100),
        ("budget", "month", 50),
        ("budget", "month", 80),
        ("brand", "day", 80),  # 85 of the brand's 100
        ("brand", "day", 50),
    }


def test_no_delivery_is_queued_when_the_transaction_is_rolled_back(
    django_capture_on_commit_callbacks: Any,
) -> None:
    campaign = CampaignFactory.create(brand=BrandFactory.create(daily_budget=Decimal("10")))
    with django_capture_on_commit_callbacks() as committed:
        record(campaign, "9")
    assert Alert.objects.count() == 2
    assert len(committed) == 1  # one hand-over to the worker, once the transaction commits

    def crossed_then_rolled_back() -> None:
        with transaction.atomic():
            record(campaign, "1")  # 100%
            raise RuntimeError("rolled back")

    with django_capture_on_commit_callbacks() as rolled_back, pytest.raises(RuntimeError):
        crossed_then_rolled_back()
    assert rolled_back == []
    assert mail.outbox == []


def test_a_serving_event_costs_a_constant_four_queries() -> None:
    budget = BudgetFactory.create(daily_limit=Decimal("1000"))
    campaign = CampaignFactory.create(brand=budget.brand, budget=budget)
    record(campaign, "1")  # the rollup rows of today exist from here on
    with CaptureQueriesContext(connection) as queries:
        record(campaign, "1")
    # * savepoint  * lock the brand, read the campaign and caps
    # * lock the capped rollups, append the event, upsert the rollups, raise alerts
    # * release savepoint
    assert len(queries) == 4, [q["sql"][:60] for q in queries.captured_queries]


def test_the_first_event_of_a_day_creates_the_rollup_rows_before_locking_them() -> None:
    campaign = CampaignFactory.create()
    with CaptureQueriesContext(connection) as queries:
        record(campaign, "1")
    # * savepoint  * lock the brand  * the one statement (finds no rows to lock)
    # * create the brand's rollup rows  * the one statement again  * release
    assert len(queries) == 6
    assert BrandSpend.objects.get(period=Period.DAY).events_count == 1
