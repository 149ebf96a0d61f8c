"""adserver.api.spend_input: spend events as clients send them, read by hand.

It stands in for a serializer per event on the API's hot path, so it is held
to a plain reading of the same rules, whatever a client sends; and a bad
event is answered with the same errors alone or in a batch.
"""

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from hypothesis import example, given
from hypothesis import strategies as st
from rest_framework.test import APIClient

from adserver.api.spend_input import EARLIEST, spend_input
from campaigns.tests.factories import CampaignFactory
from spend.models import SpendEvent
from spend.services import SpendInput

NOW = dt.datetime(2026, 3, 10, 15, 0, tzinfo=dt.UTC)


def _plain_instant(value: Any) -> tuple[Any, str | None]:
    if not isinstance(value, str):
        return value, None
    try:
        instant = dt.datetime.fromisoformat(value)
    except ValueError:
        return None, "Use ISO 8601 with a UTC offset, such as 2026-03-10T14:00:00+05:30."
    if instant.tzinfo is None:
        return instant, None  # the service says it needs an offset
    try:
        before_2000 = instant < EARLIEST
    except OverflowError:
        return None, "The time is out of range."
    return (None, "The time is before 2000: check the year.") if before_2000 else (instant, None)


def plain_spend_input(data: Any) -> tuple[SpendInput | None, dict[str, list[str]]]:
    """The rules one at a time, as first written."""
    if not isinstance(data, dict):
        return None, {"non_field_errors": ["Each event must be a JSON object."]}
    errors = {
        field: ["This field is required."]
        for field in ("campaign", "amount")
        if data.get(field) is None
    }
    occurred_at, problem = _plain_instant(data.get("occurred_at"))
    if problem:
        errors["occurred_at"] = [problem]
    if errors:
        return None, errors
    campaign = data["campaign"]
    if (
        isinstance(campaign, Decimal)
        and campaign.is_finite()
        and campaign == campaign.to_integral_value()
        and campaign.adjusted() < 19
    ):
        campaign = int(campaign)
    return SpendInput(
        campaign_id=campaign,
        amount=data["amount"],
        occurred_at=occurred_at,
        event_id=data.get("event_id"),
        kind=data.get("kind", "spend"),
    ), {}


# What the API's JSON parser can produce: every number a Decimal (NaN and
# Infinity included), strings, and nested lists and objects.
NUMBERS = st.one_of(
    st.decimals(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(10**25), max_value=10**25).map(Decimal),
    st.sampled_from(["1e999999999", "-1e-999999999", "12.0", "1E+3", "-0", "1e18", "1e19"]).map(
        Decimal
    ),
)
INSTANTS = st.datetimes(timezones=st.none() | st.timezones()).map(dt.datetime.isoformat)
SCALARS = st.one_of(st.none(), st.booleans(), NUMBERS, st.text(max_size=30), INSTANTS)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=5,
)
FIELDS = ["campaign", "amount", "occurred_at", "event_id", "source", "kind", "extra"]
EVENTS = st.one_of(
    st.fixed_dictionaries(
        {"campaign": NUMBERS, "amount": NUMBERS | st.text(max_size=10)},
        optional=dict.fromkeys(FIELDS[2:], VALUES) | {"occurred_at": INSTANTS},
    ),
    st.dictionaries(st.sampled_from(FIELDS), VALUES),
    VALUES,
)


def _typed(read: tuple[SpendInput | None, dict[str, list[str]]]) -> object:
    """What was read, with the type of every value (1 == Decimal(1), but only one is an id)."""
    spend, errors = read
    if spend is None:
        return errors
    return [(name, type(value), value) for name, value in vars(spend).items()]


@given(EVENTS)
@example({"campaign": Decimal("1E+19"), "amount": "1"})
@example({"campaign": Decimal("9.9E+18"), "amount": "1"})
@example({"campaign": Decimal("1E+999999999"), "amount": "1"})
@example({"campaign": Decimal("12.0"), "amount": "1", "occurred_at": "0001-01-01T00:00:00+14:00"})
@example({"campaign": Decimal("NaN"), "amount": "1", "occurred_at": "1999-12-31T23:59:59-01:00"})
def test_an_event_is_read_as_the_plain_rules_read_it(data: Any) -> None:
    assert _typed(spend_input(data)) == _typed(plain_spend_input(data))


BAD_EVENTS = [
    {"amount": "1"},
    {"campaign": "{campaign}"},
    {},
    {"campaign": "{campaign}", "amount": "NaN"},
    {"campaign": "{campaign}", "amount": "Infinity"},
    {"campaign": "{campaign}", "amount": "1.0000001"},
    {"campaign": "{campaign}", "amount": "-5"},
    {"campaign": "{campaign}", "amount": "0", "kind": "adjustment"},
    {"campaign": "{campaign}", "amount": True},
    {"campaign": "{campaign}", "amount": "99999999999"},
    {"campaign": "{campaign}", "amount": "1", "kind": "refund"},
    {"campaign": "{campaign}", "amount": "1", "occurred_at": "yesterday"},
    {"campaign": "{campaign}", "amount": "1", "occurred_at": "2026-03-10T14:00:00"},
    {"campaign": "{campaign}", "amount": "1", "occurred_at": "1999-12-31T23:00:00Z"},
    {"campaign": "{campaign}", "amount": "1", "occurred_at": "2026-03-11T15:00:00Z"},
    {"campaign": "{campaign}", "amount": "1", "occurred_at": 20260310},
    {"campaign": "{campaign}", "amount": "1", "event_id": 7},
    {"campaign": "{campaign}", "amount": "1", "event_id": " "},
    {"campaign": "{campaign}", "amount": "1", "event_id": "x" * 129},
    {"campaign": "{campaign}", "amount": "1", "event_id": "a\u0007b"},
    {"campaign": "abc", "amount": "1"},
    {"campaign": 1.5, "amount": "1"},
    {"campaign": -3, "amount": "1"},
    {"campaign": True, "amount": "1"},
    {"campaign": 10**30, "amount": "1"},
    {"campaign": 999999999, "amount": "1"},
    {"campaign": [1], "amount": {"a": 1}, "occurred_at": [], "event_id": {}, "kind": None},
]


def _with_campaign(event: dict[str, Any], campaign_id: int) -> dict[str, Any]:
    return {key: campaign_id if value == "{campaign}" else value for key, value in event.items()}


@pytest.mark.django_db
@pytest.mark.parametrize("event", BAD_EVENTS)
def test_a_bad_event_gets_the_same_errors_alone_and_in_a_batch(
    api: APIClient, event: dict[str, Any]
) -> None:
    body = _with_campaign(event, CampaignFactory.create().pk)
    with time_machine.travel(NOW, tick=False):
        alone = api.post("/api/spend/", body, format="json")
        in_batch = api.post("/api/spend/batch/", {"events": [body]}, format="json")
    assert alone.status_code == in_batch.status_code == 400, alone.json()
    assert in_batch.json() == {"events": {"0": alone.json()}}
    assert not SpendEvent.objects.exists()
