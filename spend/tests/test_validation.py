"""Bad spend input is refused with the field named, and nothing is stored."""

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal

import pytest
import time_machine
from django.test.utils import override_settings

from campaigns.models import Campaign
from campaigns.tests.factories import CampaignFactory
from spend.models import BrandSpend, SpendEvent, SpendKind
from spend.services import SpendInvalid, spend_record

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 10, 15, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def frozen_now() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def campaign() -> Campaign:
    return CampaignFactory.create()


def refused(**fields: object) -> dict[str, list[str]]:
    with pytest.raises(SpendInvalid) as raised:
        spend_record(**fields)  # type: ignore[arg-type]
    assert not SpendEvent.objects.exists()
    assert not BrandSpend.objects.exists()
    return raised.value.message_dict


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        (Decimal("0"), "Spend must be positive"),
        (Decimal("-1"), "Spend must be positive"),
        (Decimal("NaN"), "finite"),
        (Decimal("Infinity"), "finite"),
        (Decimal("0.0000001"), "more than 6 decimal places"),
        (Decimal("1000000.01"), "must not exceed 1000000"),
        (1.5, "not a float"),
        ("twelve", "A decimal number is required"),
        (None, "A decimal number is required"),
        (True, "A decimal number is required"),
    ],
)
def test_bad_amounts_are_refused(campaign: Campaign, amount: object, message: str) -> None:
    errors = refused(campaign_id=campaign.pk, amount=amount)
    assert list(errors) == ["amount"]
    assert message in errors["amount"][0]


def test_trailing_zeros_beyond_six_places_are_still_six_places(campaign: Campaign) -> None:
    result = spend_record(campaign_id=campaign.pk, amount=Decimal("1.50000000"))
    assert result.event.amount == Decimal("1.5")


def test_amounts_given_as_strings_or_integers_are_exact(campaign: Campaign) -> None:
    spend_record(campaign_id=campaign.pk, amount="0.000001")  # type: ignore[arg-type]
    spend_record(campaign_id=campaign.pk, amount=2)  # type: ignore[arg-type]
    assert BrandSpend.objects.get(period="day").amount == Decimal("2.000001")


@override_settings(SPEND_MAX_AMOUNT="50")
def test_the_largest_amount_is_a_setting(campaign: Campaign) -> None:
    assert (
        "must not exceed 50"
        in refused(campaign_id=campaign.pk, amount=Decimal("50.01"))["amount"][0]
    )
    spend_record(campaign_id=campaign.pk, amount=Decimal("50"))


def test_an_adjustment_may_be_negative_but_not_zero(campaign: Campaign) -> None:
    errors = refused(campaign_id=campaign.pk, amount=Decimal("0"), kind=SpendKind.ADJUSTMENT)
    assert errors == {"amount": ["An adjustment must not be zero."]}
    spend_record(campaign_id=campaign.pk, amount=Decimal("-2.5"), kind=SpendKind.ADJUSTMENT)
    assert BrandSpend.objects.get(period="day").amount == Decimal("-2.5")


def test_an_unknown_kind_is_refused(campaign: Campaign) -> None:
    assert list(refused(campaign_id=campaign.pk, amount=Decimal(1), kind="refund")) == ["kind"]


@pytest.mark.parametrize("campaign_id", [999_999, 0, -1, "7", None, True, 2**63])
def test_an_unknown_or_malformed_campaign_is_refused(campaign_id: object) -> None:
    errors = refused(campaign_id=campaign_id, amount=Decimal(1))
    assert list(errors) == ["campaign"]


def test_an_unknown_campaign_is_named_in_the_message() -> None:
    assert refused(campaign_id=999_999, amount=Decimal(1)) == {
        "campaign": ["No campaign with id 999999."]
    }


@pytest.mark.parametrize(
    ("occurred_at", "message"),
    [
        (dt.datetime(2026, 3, 10, 15, 0), "UTC offset"),  # noqa: DTZ001 - the point of the test
        (dt.date(2026, 3, 10), "date and time"),
        ("2026-03-10T15:00:00Z", "date and time"),
        (NOW + dt.timedelta(seconds=301), "in the future"),
    ],
)
def test_bad_times_are_refused(campaign: Campaign, occurred_at: object, message: str) -> None:
    errors = refused(campaign_id=campaign.pk, amount=Decimal(1), occurred_at=occurred_at)
    assert list(errors) == ["occurred_at"]
    assert message in errors["occurred_at"][0]


def test_a_clock_a_little_ahead_is_tolerated(campaign: Campaign) -> None:
    result = spend_record(
        campaign_id=campaign.pk, amount=Decimal(1), occurred_at=NOW + dt.timedelta(seconds=299)
    )
    assert result.event.occurred_at == NOW + dt.timedelta(seconds=299)


def test_a_time_in_any_offset_is_stored_as_the_same_instant(campaign: Campaign) -> None:
    kolkata = dt.timezone(dt.timedelta(hours=5, minutes=30))
    result = spend_record(
        campaign_id=campaign.pk,
        amount=Decimal(1),
        occurred_at=dt.datetime(2026, 3, 10, 20, 0, tzinfo=kolkata),
    )
    assert result.event.occurred_at == dt.datetime(2026, 3, 10, 14, 30, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("event_id", "message"),
    [
        ("", "blank"),
        ("   ", "blank"),
        ("x" * 129, "at most 128"),
        ("bad\x00id", "control characters"),
        ("tab\there", "control characters"),
        (42, "must be a string"),
    ],
)
def test_bad_event_ids_are_refused(campaign: Campaign, event_id: object, message: str) -> None:
    errors = refused(campaign_id=campaign.pk, amount=Decimal(1), event_id=event_id)
    assert list(errors) == ["event_id"]
    assert message in errors["event_id"][0]


def test_an_event_id_of_128_characters_is_accepted(campaign: Campaign) -> None:
    assert spend_record(campaign_id=campaign.pk, amount=Decimal(1), event_id="é" * 128).created


def test_every_bad_field_is_reported_at_once() -> None:
    errors = refused(
        campaign_id="x", amount=Decimal("NaN"), occurred_at="yesterday", event_id="", kind="nope"
    )
    assert set(errors) == {"campaign", "amount", "occurred_at", "event_id", "kind"}


def test_a_bad_source_is_refused(campaign: Campaign) -> None:
    assert list(refused(campaign_id=campaign.pk, amount=Decimal(1), source="")) == ["source"]
    assert list(refused(campaign_id=campaign.pk, amount=Decimal(1), source="s" * 65)) == ["source"]
