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

from spend.services import SpendInput
from spend.validation import clean_event

Errors = dict[str, list[str]]

# The earliest instant a client may report: every brand-local date of it
# exists, and a typo in the year cannot land a decade away.
EARLIEST = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
BIGINT_DIGITS = 19
REQUIRED = ("campaign", "amount")


def _integral(value: Any) -> Any:
    """The JSON parser reads every number as Decimal; ids are integers."""
    if (
        isinstance(value, Decimal)
        and value.is_finite()
        and value == value.to_integral_value()
        and value.adjusted() < BIGINT_DIGITS
    ):
        return int(value)
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


def spend_input(data: Any, *, source: str = "api") -> tuple[SpendInput | None, Errors]:
    """One event of a request body, or its errors by field."""
    if not isinstance(data, dict):
        return None, {"non_field_errors": ["Each event must be a JSON object."]}
    errors: Errors = {
        field: ["This field is required."] for field in REQUIRED if data.get(field) is None
    }
    occurred_at, problem = _instant(data.get("occurred_at"))
    if problem:
        errors["occurred_at"] = [problem]
    if errors:
        return None, errors
    return SpendInput(
        campaign_id=_integral(data["campaign"]),
        amount=data["amount"],
        occurred_at=occurred_at,
        event_id=data.get("event_id"),
        source=data.get("source", source),
        kind=data.get("kind", "spend"),
    ), {}


def spend_input_errors(events: list[Any]) -> dict[int, Errors]:
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
                source=spend.source,
                kind=spend.kind,
                now=now,
            )
        if problems:
            errors[index] = problems
    return errors
