"""Bad spend input is refused with the field named, and nothing is stored."""

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal

import pytest
import time_machine
from django.test.utils import override_settings
from hypothesis import given, settings
from hypothesis import strategies as st

from campaigns.models import Campaign
from campaigns.tests.factories import CampaignFactory
from spend.models import BrandSpend, SpendEvent, SpendKind
from spend.recording.validation import clean_event, event_cleaner
from spend.senders import Sender
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


def test_trailing_zeros_beyond_six_places_are_places_too(campaign: Campaign) -> None:
    errors = refused(campaign_id=campaign.pk, amount=Decimal("1.50000000"))
    assert errors == {"amount": ["The amount has more than 6 decimal places."]}
    assert spend_record(campaign_id=campaign.pk, amount=Decimal("1.500000")).event.amount == 1.5


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
    errors = refused(
        campaign_id=campaign.pk, amount=Decimal("0"), kind=SpendKind.ADJUSTMENT, occurred_at=NOW
    )
    assert errors == {"amount": ["An adjustment must not be zero."]}
    spend_record(campaign_id=campaign.pk, amount=Decimal("4"))
    spend_record(
        campaign_id=campaign.pk, amount=Decimal("-2.5"), kind=SpendKind.ADJUSTMENT, occurred_at=NOW
    )
    assert BrandSpend.objects.get(period="day").amount == Decimal("1.5")


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


def test_a_clock_a_little_ahead_is_tolerated_and_booked_at_the_servers_now(
    campaign: Campaign,
) -> None:
    result = spend_record(
        campaign_id=campaign.pk, amount=Decimal(1), occurred_at=NOW + dt.timedelta(seconds=299)
    )
    assert result.event.occurred_at == NOW


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
    for source in ["", "s" * 161, "feed\x00"]:
        sender = Sender(source=source, may_adjust=False, brand_ids=None)
        assert list(refused(campaign_id=campaign.pk, amount=Decimal(1), sender=sender)) == [
            "source"
        ]


# --- a batch's checks: the same rule as clean_event, faster for the usual forms ---

KOLKATA = dt.timezone(dt.timedelta(hours=5, minutes=30))
LATEST = NOW + dt.timedelta(seconds=300)
usual_fields = st.fixed_dictionaries(
    {
        "campaign_id": st.integers(min_value=1, max_value=2**63 - 1),
        "amount": st.decimals(places=6, min_value=Decimal("0.000001"), max_value=Decimal(10**6)),
        "occurred_at": st.one_of(
            st.none(),
            st.datetimes(
                min_value=dt.datetime(2026, 1, 1),  # noqa: DTZ001 - hypothesis adds the zones
                max_value=dt.datetime(2026, 3, 10, 15, 5),  # noqa: DTZ001
                timezones=st.sampled_from([dt.UTC, KOLKATA]),
            ),
        ),
        "event_id": st.one_of(st.none(), st.text(alphabet=st.characters(max_codepoint=126))),
        "source": st.sampled_from(["api", "feed", " x "]),
        "kind": st.sampled_from([SpendKind.SPEND, SpendKind.ADJUSTMENT, "spend"]),
    }
)
# For each field: the boundaries of its rule first, then anything at all.
text_boundaries = ["", " ", "x" * 128, "x" * 129, "x" * 160, "x" * 161, "a\x7f", "a\x85", "é", 42]
unusual_values = {
    "campaign_id": st.one_of(
        st.sampled_from([0, -1, 1, 2**63 - 1, 2**63, True, None, "7", 7.0]),
        st.integers(),
    ),
    "amount": st.one_of(
        st.sampled_from(
            [
                *(Decimal(v) for v in ("-1", "-0.000001", "0", "-0", "1E+3", "1.50000000")),
                *(Decimal(v) for v in ("0.0000001", "1000000", "1000000.000001", "-1000000")),
                *(Decimal(v) for v in ("NaN", "sNaN", "Infinity", "-Infinity")),
                1,
                0,
                1.5,
                None,
                True,
                # Text: the documented form, its edges, what Decimal() reads but the API refuses.
                *("12.50", "-3", "0", "-0", "0.000000", "-0.000001", "1000000", "1000000.000001"),
                *("12.1234567", "1e3", "1E+3", " 12.5", "12.5 ", "+5", "1_000", "\u0661\u0662"),
                *("12.", ".5", "", "-", "NaN", "Infinity", "9" * 40, "0" * 30 + "1.5"),
            ]
        ),
        st.decimals(allow_nan=True, allow_infinity=True),
        st.decimals(places=7, min_value=-2, max_value=2),
        st.from_regex(r"-?[0-9]{1,8}(\.[0-9]{0,8})?", fullmatch=True),
        st.text(alphabet="-+.0123456789e_ ", max_size=12),
    ),
    "occurred_at": st.one_of(
        st.sampled_from(
            [
                LATEST,
                LATEST + dt.timedelta(microseconds=1),
                LATEST.astimezone(KOLKATA),
                (LATEST + dt.timedelta(microseconds=1)).astimezone(KOLKATA),
                dt.datetime(2026, 3, 10, 15, 0),  # noqa: DTZ001 - naive on purpose
                dt.date(2026, 3, 10),
                "2026-03-10T15:00:00Z",
                dt.datetime(1, 1, 1, tzinfo=KOLKATA),  # before year 1 in UTC
            ]
        ),
        st.datetimes(timezones=st.sampled_from([dt.UTC, KOLKATA])),
    ),
    "event_id": st.one_of(st.sampled_from(text_boundaries), st.text(max_size=130)),
    "source": st.one_of(st.sampled_from(text_boundaries), st.text(max_size=170)),
    "kind": st.sampled_from([SpendKind.SPEND, SpendKind.ADJUSTMENT, "refund", "", None, 1, b"s"]),
}
FIELDS = ("campaign_id", "amount", "occurred_at", "event_id", "source", "kind")


@pytest.mark.parametrize("unusual", FIELDS)
@given(data=st.data())
@settings(max_examples=150)
@override_settings(SPEND_MAX_AMOUNT="1000000")
def test_the_batch_checks_accept_exactly_what_clean_event_accepts(
    unusual: str, data: st.DataObject
) -> None:
    fields: dict[str, object] = data.draw(usual_fields)
    fields[unusual] = data.draw(unusual_values[unusual], label=unusual)
    fast = event_cleaner(NOW)(*(fields[name] for name in FIELDS))
    clean, _ = clean_event(**fields, now=NOW)

    if fast is not None:  # an answer of its own: clean_event's, to the last digit
        assert clean is not None
        assert [repr(value) for value in fast] == [repr(value) for value in clean]
    event_id, source = fields["event_id"], fields["source"]
    usual = (
        type(fields["campaign_id"]) is int
        and (type(fields["amount"]) is Decimal or type(fields["amount"]) is str)
        and (fields["occurred_at"] is None or type(fields["occurred_at"]) is dt.datetime)
        and (event_id is None or (isinstance(event_id, str) and event_id.isascii()))
        and isinstance(source, str)  # any text: a sender's name is checked once per batch
    )
    if clean is not None and usual:  # and no detour for the usual forms
        assert fast is not None


def test_the_batch_checks_leave_unusual_forms_to_clean_event() -> None:
    clean_usual = event_cleaner(NOW)
    assert clean_usual(7, "1e3", None, None, "api", "spend") is None  # not the documented text
    assert clean_usual(7, " 12.50", None, None, "api", "spend") is None
    assert clean_usual(7, 12, None, None, "api", "spend") is None  # an int
    assert clean_usual(7, Decimal(1), None, "é", "api", "spend") is None  # non-ASCII id
    event = clean_usual(7, Decimal("1.5"), None, "a", "api", SpendKind.SPEND)
    assert event is not None
    assert (event.amount.as_tuple().exponent, event.occurred_at, event.occurred_at_given) == (
        -6,
        NOW,
        False,
    )
    text = clean_usual(7, "-12.5", None, "b", "api", SpendKind.ADJUSTMENT)
    assert text is None  # an adjustment must be dated: clean_event words it
    text = clean_usual(7, "12.5", None, "b", "api", SpendKind.SPEND)  # the documented text
    assert text is not None
    assert repr(text.amount) == "Decimal('12.500000')"
