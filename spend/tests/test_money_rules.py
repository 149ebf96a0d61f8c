"""Money rules in time: a time zone fixed by spend, dated refunds within what was
spent, clocks that run fast, and the largest event a brand can take."""

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ValidationError

from budgets.models import Alert, Brand, Period
from budgets.services import brand_update
from budgets.tests.factories import BrandFactory, BudgetFactory
from campaigns.models import Campaign
from campaigns.tests.factories import CampaignFactory
from spend.models import BrandSpend, BudgetSpend, CampaignSpend, SpendEvent, SpendKind
from spend.recording import batch
from spend.services import (
    SpendBatchInvalid,
    SpendInput,
    SpendInvalid,
    SpendRecorded,
    spend_record,
    spend_record_batch,
)

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 10, 15, 0, tzinfo=dt.UTC)
TODAY = dt.date(2026, 3, 10)
ADJUSTMENT = SpendKind.ADJUSTMENT


@pytest.fixture
def frozen_now() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture(params=["insert", "copy"])
def batch_path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Batches of any size take the COPY path (written before the locks) with "copy"."""
    if request.param == "copy":
        monkeypatch.setattr(batch, "COPY_MIN_EVENTS", 1)
    return str(request.param)


def record(campaign: Campaign, amount: str, **kwargs: object) -> SpendRecorded:
    return spend_record(campaign_id=campaign.pk, amount=Decimal(amount), **kwargs)  # type: ignore[arg-type]


def hold(campaign: Campaign) -> str | None:
    reason: str | None = Campaign.objects.get(pk=campaign.pk).pause_reason
    return reason


def total(
    model: type[BrandSpend | BudgetSpend | CampaignSpend], day: dt.date, **owner: object
) -> Decimal:
    row = model.objects.filter(period=Period.DAY, period_start=day, **owner).first()
    return Decimal(0) if row is None else row.amount


# --- the time zone, fixed by the first spend -------------------------------------


@pytest.mark.usefixtures("frozen_now")
def test_a_brands_time_zone_may_change_before_any_spend() -> None:
    brand = BrandFactory.create()
    CampaignFactory.create(brand=brand)
    brand_update(brand_id=brand.pk, timezone="Pacific/Kiritimati")
    assert Brand.objects.get(pk=brand.pk).timezone == "Pacific/Kiritimati"


@pytest.mark.usefixtures("frozen_now")
def test_a_brands_time_zone_is_fixed_by_its_first_spend_and_its_day_stays_spent() -> None:
    brand = BrandFactory.create(daily_budget=Decimal("100"))
    campaign = CampaignFactory.create(brand=brand)
    record(campaign, "100")
    assert hold(campaign) == "brand_daily_budget"

    with pytest.raises(ValidationError) as refused:
        brand_update(brand_id=brand.pk, timezone="Pacific/Kiritimati")

    assert refused.value.message_dict == {
        "timezone": [
            "The time zone cannot change once the brand has spend: its days and months "
            "are already counted in UTC."
        ]
    }
    assert Brand.objects.get(pk=brand.pk).timezone == "UTC"
    assert hold(campaign) == "brand_daily_budget"  # not released into a "new" day
    assert record(campaign, "1").overspend
    # Other settings still change.
    brand_update(brand_id=brand.pk, daily_budget=Decimal("150"))
    assert hold(campaign) is None


def test_at_a_months_end_a_time_zone_change_cannot_open_the_next_month() -> None:
    # 23:30 UTC on 31 March: already 1 April in Kiritimati (UTC+14).
    with time_machine.travel(dt.datetime(2026, 3, 31, 23, 30, tzinfo=dt.UTC), tick=False):
        brand = BrandFactory.create(daily_budget=Decimal("900"), monthly_budget=Decimal("1000"))
        campaign = CampaignFactory.create(brand=brand)
        record(campaign, "1000")
        assert hold(campaign) == "brand_monthly_budget"

        with pytest.raises(ValidationError) as refused:
            brand_update(brand_id=brand.pk, timezone="Pacific/Kiritimati")

        assert list(refused.value.message_dict) == ["timezone"]
        assert hold(campaign) == "brand_monthly_budget"
        assert record(campaign, "5").event.local_date == dt.date(2026, 3, 31)
        assert BrandSpend.objects.get(period=Period.MONTH).amount == Decimal("1005")
        assert not BrandSpend.objects.filter(period_start=dt.date(2026, 4, 1)).exists()


# --- refunds land where the money was spent ----------------------------------------


@pytest.mark.usefixtures("frozen_now")
def test_an_adjustment_must_say_when_its_money_was_spent() -> None:
    campaign = CampaignFactory.create()
    record(campaign, "100")
    with pytest.raises(SpendInvalid) as refused:
        record(campaign, "-50", kind=ADJUSTMENT)
    assert list(refused.value.message_dict) == ["occurred_at"]
    assert "counts for that local day and month" in refused.value.message_dict["occurred_at"][0]
    assert SpendEvent.objects.count() == 1


@pytest.mark.usefixtures("frozen_now")
def test_a_refund_larger_than_the_days_spend_is_refused_with_the_total_it_would_reach() -> None:
    brand = BrandFactory.create(daily_budget=Decimal("100"))
    campaign = CampaignFactory.create(brand=brand)
    record(campaign, "100")

    with pytest.raises(SpendInvalid) as refused:
        record(campaign, "-150", kind=ADJUSTMENT, occurred_at=NOW)

    (message,) = refused.value.message_dict["amount"]
    assert "campaign's spend for 2026-03-10 to -50.000000" in message
    assert total(BrandSpend, TODAY, brand=brand) == Decimal("100")
    assert hold(campaign) == "brand_daily_budget"  # the cap was not reopened
    assert SpendEvent.objects.count() == 1


@pytest.mark.usefixtures("frozen_now")
def test_a_refund_for_a_campaign_that_spent_nothing_is_refused_though_its_brand_spent() -> None:
    brand = BrandFactory.create(monthly_budget=Decimal("1000"))
    spender, idle = CampaignFactory.create_batch(2, brand=brand)
    record(spender, "80")

    for amount in ("-1000", "-10"):
        with pytest.raises(SpendInvalid) as refused:
            record(idle, amount, kind=ADJUSTMENT, occurred_at=NOW)
        assert list(refused.value.message_dict) == ["amount"]

    assert list(BrandSpend.objects.values_list("amount", flat=True)) == [Decimal("80")] * 2
    assert not CampaignSpend.objects.filter(campaign=idle).exists()


@pytest.mark.usefixtures("frozen_now")
def test_a_refund_dated_last_week_never_touches_today() -> None:
    brand = BrandFactory.create(daily_budget=Decimal("100"))
    budget = BudgetFactory.create(brand=brand, daily_limit=Decimal("90"))
    campaign = CampaignFactory.create(brand=brand, budget=budget)
    last_week = NOW - dt.timedelta(days=7)
    record(campaign, "60", occurred_at=last_week)
    record(campaign, "100")
    assert hold(campaign) == "brand_daily_budget"

    record(campaign, "-60", kind=ADJUSTMENT, occurred_at=last_week)

    assert total(BrandSpend, last_week.date(), brand=brand) == 0
    assert total(BudgetSpend, last_week.date(), budget=budget) == 0
    assert total(BrandSpend, TODAY, brand=brand) == Decimal("100")
    assert hold(campaign) == "brand_daily_budget"


@pytest.mark.usefixtures("frozen_now")
def test_a_refund_dated_today_reopens_todays_cap_in_a_batch(batch_path: str) -> None:
    brand = BrandFactory.create(daily_budget=Decimal("100"))
    campaign = CampaignFactory.create(brand=brand)
    record(campaign, "100")
    assert hold(campaign) == "brand_daily_budget"

    spend_record_batch([SpendInput(campaign.pk, Decimal("-30"), occurred_at=NOW, kind=ADJUSTMENT)])

    assert total(BrandSpend, TODAY, brand=brand) == Decimal("70")
    assert hold(campaign) is None


@pytest.mark.usefixtures("frozen_now")
def test_in_a_batch_a_refund_before_the_spend_it_refunds_is_refused(batch_path: str) -> None:
    campaign = CampaignFactory.create()
    refund = SpendInput(campaign.pk, Decimal("-5"), occurred_at=NOW, kind=ADJUSTMENT)
    spend = SpendInput(campaign.pk, Decimal("10"))

    with pytest.raises(SpendBatchInvalid) as refused:
        spend_record_batch([refund, spend])

    assert list(refused.value.errors) == [0]
    assert "to -5.000000" in refused.value.errors[0]["amount"][0]
    assert not SpendEvent.objects.exists()
    assert not CampaignSpend.objects.filter(amount__gt=0).exists()

    spend_record_batch([spend, refund])
    assert total(CampaignSpend, TODAY, campaign=campaign) == Decimal("5")


# --- a clock that runs fast ----------------------------------------------------------

LATE = dt.datetime(2026, 3, 10, 23, 56, tzinfo=dt.UTC)  # 23:56 in a UTC brand's day
AHEAD = LATE + dt.timedelta(seconds=290)  # tomorrow by the sender's clock, within the skew


@pytest.mark.parametrize("path", ["single", "batch"])
def test_an_event_dated_ahead_of_the_servers_clock_counts_for_the_servers_now(path: str) -> None:
    with time_machine.travel(LATE, tick=False):
        brand = BrandFactory.create(daily_budget=Decimal("100"))
        campaign = CampaignFactory.create(brand=brand)
        if path == "single":
            record(campaign, "100", occurred_at=AHEAD)
        else:
            spend_record_batch([SpendInput(campaign.pk, Decimal("100"), occurred_at=AHEAD)])

        event = SpendEvent.objects.get()
        assert (event.occurred_at, event.local_date) == (LATE, TODAY)
        assert total(BrandSpend, TODAY, brand=brand) == Decimal("100")
        assert sorted(Alert.objects.values_list("period_start", "threshold")) == [
            (TODAY, 50),
            (TODAY, 80),
            (TODAY, 100),
        ]
        assert not BrandSpend.objects.filter(period_start=dt.date(2026, 3, 11)).exists()
        assert hold(campaign) == "brand_daily_budget"

    # The new day opens with nothing spent, and its first spend releases the hold.
    with time_machine.travel(dt.datetime(2026, 3, 11, 0, 1, tzinfo=dt.UTC), tick=False):
        assert record(campaign, "1").brand_daily_spend == Decimal("1")
        assert hold(campaign) is None


def test_a_replay_of_an_event_booked_at_now_is_the_same_event() -> None:
    campaign = CampaignFactory.create()
    with time_machine.travel(LATE, tick=False) as clock:
        first = record(campaign, "3", occurred_at=AHEAD, event_id="fast-1")
        clock.shift(dt.timedelta(seconds=60))  # still ahead: booked at this now
        again = record(campaign, "3", occurred_at=AHEAD, event_id="fast-1")
        clock.shift(dt.timedelta(seconds=600))  # no longer ahead
        late_again = record(campaign, "3", occurred_at=AHEAD, event_id="fast-1")
    assert (first.created, again.created, late_again.created) == (True, False, False)
    assert again.event.pk == late_again.event.pk == first.event.pk
    assert SpendEvent.objects.count() == 1


# --- the largest event a brand can take ---------------------------------------------


@pytest.mark.usefixtures("frozen_now")
def test_an_event_larger_than_its_brands_monthly_budget_is_refused_in_any_currency() -> None:
    dollars = CampaignFactory.create(
        brand=BrandFactory.create(currency="USD", monthly_budget=Decimal("3000"))
    )
    won = CampaignFactory.create(
        brand=BrandFactory.create(
            currency="KRW", daily_budget=Decimal("5000000"), monthly_budget=Decimal("90000000")
        )
    )
    with pytest.raises(SpendInvalid) as refused:
        record(dollars, "3000.01")  # far under SPEND_MAX_AMOUNT
    assert (
        "larger than the brand's whole monthly budget (3000.00)"
        in (refused.value.message_dict["amount"][0])
    )
    assert record(won, "900000").created  # a small charge in won
    assert record(dollars, "3000").created


@pytest.mark.usefixtures("frozen_now")
def test_a_batch_names_each_event_larger_than_its_brands_monthly_budget(batch_path: str) -> None:
    campaign = CampaignFactory.create(brand=BrandFactory.create(monthly_budget=Decimal("500")))
    events = [SpendInput(campaign.pk, Decimal(amount)) for amount in ("10", "500.5", "20", "999")]

    with pytest.raises(SpendBatchInvalid) as refused:
        spend_record_batch(events)

    assert sorted(refused.value.errors) == [1, 3]
    assert not SpendEvent.objects.exists()


# --- one grammar for amounts ----------------------------------------------------------

LENIENT = ["1_000", " 12.50 ", "+1.00", "1.0000000e0", "\u0661\u0662.\u0665", "12.", "1e2"]


@pytest.mark.usefixtures("frozen_now")
@pytest.mark.parametrize("amount", [*LENIENT, Decimal("1.0000000")])
def test_an_amount_outside_the_grammar_is_refused_alone_and_in_a_batch(amount: object) -> None:
    campaign = CampaignFactory.create()
    with pytest.raises(SpendInvalid) as alone:
        spend_record(campaign_id=campaign.pk, amount=amount)  # type: ignore[arg-type]
    with pytest.raises(SpendBatchInvalid) as batched:
        spend_record_batch([SpendInput(campaign.pk, Decimal(1)), SpendInput(campaign.pk, amount)])  # type: ignore[arg-type]
    assert alone.value.message_dict == batched.value.errors[1]
    assert list(alone.value.message_dict) == ["amount"]
    assert not SpendEvent.objects.exists()


@pytest.mark.usefixtures("frozen_now")
@pytest.mark.parametrize("amount", ["12.5", "-0.000001", "7", Decimal("7.250000"), 7])
def test_an_amount_in_the_grammar_is_taken_as_written(amount: object) -> None:
    campaign = CampaignFactory.create()
    record(campaign, "1")
    kind = ADJUSTMENT if str(amount).startswith("-") else SpendKind.SPEND
    result = spend_record(campaign_id=campaign.pk, amount=amount, kind=kind, occurred_at=NOW)  # type: ignore[arg-type]
    assert result.event.amount == Decimal(str(amount))
