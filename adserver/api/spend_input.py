"""Spend events as clients send them, turned into `spend.services.SpendInput`.

One hand-written pass per event instead of a DRF serializer: a batch holds up
to 10,000 events and this is the API's hot path. It checks only what JSON
leaves open (an object, the ISO 8601 text of `occurred_at`, integral ids);
`spend.services` validates the values themselves and names the fields the
same way.
"""

import datetime as dt
from decimal import Decimal
from typing import Any

from django.utils import timezone

from adserver.api.parsers import ExponentNumber
from spend.recording.validation import clean_event
from spend.services import SpendInput

Errors = dict[str, list[str]]

# The earliest instant a client may report: every brand-local date of it
# exists, and a typo in the year cannot land a decade away.
EARLIEST = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
BIGINT_DIGITS = 19
FIELDS = ("campaign", "amount")  # required, in the order their errors are listed
REQUIRED = "This field is required."
NO_EXPONENT = (
    "Write the amount without an exponent: digits, an optional minus and at most 6 decimal "
    'places, as a JSON number or a string such as "12.50".'
)


def _integral(value: Any) -> Any:
    """The JSON parser reads every number as Decimal; ids are integers.

    Bounded by its exponent before int() is tried, so 1e999999999 is refused
    by the service instead of being expanded into a billion digits.
    """
    if isinstance(value, Decimal) and value.is_finite() and value.adjusted() < BIGINT_DIGITS:
        number = int(value)
        if number == value:
            return number
    return value


def _instant(value: Any) -> tuple[Any, str | None]:
    if value is None or not isinstance(value, str):
        return value, None  # absent: now; anything else: the service names it
    try:
        instant = dt.datetime.fromisoformat(value)
    except ValueError:
        return None, "Use ISO 8601 with a UTC offset, such as 2026-03-10T14:00:00+05:30."
    if instant.tzinfo is not None:
        try:
            if instant < EARLIEST:
                return None, "The time is before 2000: check the year."
        except OverflowError:
            return None, "The time is out of range."
    return instant, None


def spend_input(data: Any) -> tuple[SpendInput | None, Errors]:
    """One event of a request body, or its errors by field.

    A `source` in the body is ignored: the server names the sender
    (spend.senders).
    """
    if not isinstance(data, dict):
        return None, {"non_field_errors": ["Each event must be a JSON object."]}
    campaign = data.get("campaign")
    amount = data.get("amount")
    occurred_at, problem = _instant(data.get("occurred_at"))
    exponent = isinstance(amount, ExponentNumber)
    if campaign is None or amount is None or problem or exponent:
        errors: Errors = {field: [REQUIRED] for field in FIELDS if data.get(field) is None}
        if exponent:
            errors["amount"] = [NO_EXPONENT]
        if problem:
            errors["occurred_at"] = [problem]
        return None, errors
    return SpendInput(
        campaign_id=_integral(campaign),
        amount=amount,
        occurred_at=occurred_at,
        event_id=data.get("event_id"),
        kind=data.get("kind", "spend"),
    ), {}


def spend_input_errors(events: list[Any], *, source: str) -> dict[int, Errors]:
    """Every error of a batch that has some, by event index.

    Only run on the way to a 400: the service's own checks are applied to the
    events that passed the shape checks, so the client sees all at once.
    """
    errors: dict[int, Errors] = {}
    now = timezone.now()
    for index, data in enumerate(events):
        spend, problems = spend_input(data)
        if spend is not None:
            _clean, problems = clean_event(
                campaign_id=spend.campaign_id,
                amount=spend.amount,
                occurred_at=spend.occurred_at,
                event_id=spend.event_id,
                source=source,
                kind=spend.kind,
                now=now,
            )
        if problems:
            errors[index] = problems
    return errors
