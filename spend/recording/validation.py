"""Checks on spend input, each error named after the field to fix.

Nothing here touches the database except to look campaigns up (in the
service), so a bad event is refused before anything is stored.
"""

import datetime as dt
import re
from collections.abc import Callable, Iterable
from decimal import Context, Decimal, InvalidOperation, Rounded
from functools import lru_cache
from typing import NamedTuple, TypeVar

from django.conf import settings
from django.utils import timezone

from spend.models import AMOUNT_DECIMALS, SOURCE_MAX_LENGTH, SpendKind

Errors = dict[str, list[str]]

EVENT_ID_MAX_LENGTH = 128
BIGINT_MAX = 2**63 - 1
AMOUNT_QUANTUM = Decimal(1).scaleb(-AMOUNT_DECIMALS)
# The ledger column holds 18 digits, 6 of them decimals.
AMOUNT_CEILING = Decimal("999999999999.999999")
KINDS = frozenset(SpendKind.values)
SPEND = SpendKind.SPEND.value
# Quantizing to 6 places in this context raises when it would drop any
# written place, a zero too (1.0000000): one call checks the written places.
SIX_PLACES = Context(traps=[Rounded, InvalidOperation])
T = TypeVar("T")
# Unicode category Cc: C0 controls, DEL and C1 controls.
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# The one form of an amount written as text: ASCII digits, an optional minus,
# at most 6 decimals. No blanks, "+", "_", exponent, or digits of other scripts
# (Python's Decimal() would read all of those).
AMOUNT_TEXT = re.compile(rf"-?[0-9]+(?:\.[0-9]{{1,{AMOUNT_DECIMALS}}})?")
AMOUNT_TEXT_ERROR = (
    "A decimal number is required: digits with an optional leading minus and at most "
    f'{AMOUNT_DECIMALS} decimal places, such as "12.50" or "-3".'
)


class CleanEvent(NamedTuple):
    """A spend event whose fields are all valid (the campaign may still be unknown).

    A named tuple: a batch makes one per event, and a tuple is made several
    times faster than a frozen dataclass.
    """

    campaign_id: int
    amount: Decimal
    occurred_at: dt.datetime
    occurred_at_given: bool
    event_id: str | None
    source: str
    kind: str


class CleanEvents:
    """Valid events, one list per field: a batch keeps no object per event.

    Ten thousand events held as tuples are ten thousand objects for Python's
    garbage collector to track, and to scan again in every full collection
    while they live; as columns they are seven lists.
    """

    __slots__ = ("amounts", "campaign_ids", "event_ids", "given", "instants", "kinds", "sources")

    def __init__(self, events: Iterable[CleanEvent] = ()) -> None:
        self.campaign_ids: list[int] = []
        self.amounts: list[Decimal] = []
        self.instants: list[dt.datetime] = []
        self.given: list[bool] = []
        self.event_ids: list[str | None] = []
        self.sources: list[str] = []
        self.kinds: list[str] = []
        for event in events:
            self.append(event)

    def __len__(self) -> int:
        return len(self.campaign_ids)

    def __getitem__(self, index: int) -> CleanEvent:
        return CleanEvent(
            self.campaign_ids[index],
            self.amounts[index],
            self.instants[index],
            self.given[index],
            self.event_ids[index],
            self.sources[index],
            self.kinds[index],
        )

    def append(self, event: CleanEvent) -> None:
        self.campaign_ids.append(event.campaign_id)
        self.amounts.append(event.amount)
        self.instants.append(event.occurred_at)
        self.given.append(event.occurred_at_given)
        self.event_ids.append(event.event_id)
        self.sources.append(event.source)
        self.kinds.append(event.kind)

    def events(self) -> list[CleanEvent]:
        fields = (self.campaign_ids, self.amounts, self.instants, self.given, self.event_ids,
                  self.sources, self.kinds)  # fmt: skip
        return [CleanEvent(*values) for values in zip(*fields, strict=True)]


def max_amount() -> Decimal:
    return _max_amount(settings.SPEND_MAX_AMOUNT)


@lru_cache(maxsize=8)
def _max_amount(setting: object) -> Decimal:
    """Converted once per setting's value, not once per event of a batch."""
    return min(Decimal(str(setting)), AMOUNT_CEILING)


Parsed = tuple[T | None, str | None]


def amount_of_text(text: str) -> Decimal | None:
    """The amount a text writes in the one form (AMOUNT_TEXT): finite, at most six
    places; None for any other text."""
    return Decimal(text) if AMOUNT_TEXT.fullmatch(text) else None


def _parse_amount(value: object, kind: str) -> "Parsed[Decimal]":
    if isinstance(value, float):
        return None, 'Give the amount as a decimal string such as "12.50", not a float.'
    if isinstance(value, bool) or not isinstance(value, Decimal | int | str):
        return None, "A decimal number is required."
    if isinstance(value, str):
        text_amount = amount_of_text(value)
        if text_amount is None:
            return None, AMOUNT_TEXT_ERROR
        amount = text_amount
    else:
        amount = value if isinstance(value, Decimal) else Decimal(value)
    if not amount.is_finite():
        return None, "The amount must be a finite number."
    limit = max_amount()
    if abs(amount) > limit:
        return None, f"The amount must not exceed {limit} in absolute value."
    try:  # written places count, zeros too: 1.0000000 has seven
        quantized = amount.quantize(AMOUNT_QUANTUM, context=SIX_PLACES)
    except (Rounded, InvalidOperation):
        return None, f"The amount has more than {AMOUNT_DECIMALS} decimal places."
    if kind == SpendKind.SPEND and amount <= 0:
        return None, "Spend must be positive; record a refund as an adjustment."
    if amount == 0:
        return None, "An adjustment must not be zero."
    return quantized, None


def _parse_occurred_at(value: object, now: dt.datetime, kind: str) -> "Parsed[dt.datetime]":
    if value is None:
        if kind == SpendKind.ADJUSTMENT:
            return None, (
                "An adjustment must say when the money it corrects was spent: "
                "it counts for that local day and month."
            )
        return now, None
    if not isinstance(value, dt.datetime):
        return None, "A date and time with a UTC offset is required."
    if timezone.is_naive(value):
        return None, "The time must carry a UTC offset (for example 2026-03-10T14:00:00+05:30)."
    skew = dt.timedelta(seconds=settings.SPEND_MAX_CLOCK_SKEW_SECONDS)
    try:
        instant = value.astimezone(dt.UTC)
    except OverflowError:
        return None, "The time is out of range."
    if instant > now + skew:
        return None, f"The time is in the future (more than {skew.seconds} s ahead of the server)."
    # A sender's clock running fast: booked at the server's now, so that its
    # local day (and alerts) are never those of a day that has not begun.
    return min(instant, now), None


def _printable(value: str) -> bool:
    return _CONTROL_CHARACTERS.search(value) is None


def _parse_event_id(value: object) -> "Parsed[str]":
    if value is None:
        return None, None
    if not isinstance(value, str):
        return None, "The event id must be a string."
    if not value.strip():
        return None, "The event id must not be blank; leave it out instead."
    if len(value) > EVENT_ID_MAX_LENGTH:
        return None, f"The event id must be at most {EVENT_ID_MAX_LENGTH} characters."
    if not _printable(value):
        return None, "The event id must not contain control characters."
    return value, None


def _parse_source(value: object) -> "Parsed[str]":
    if not isinstance(value, str) or not value.strip():
        return None, "The source must be a non-empty string."
    if len(value) > SOURCE_MAX_LENGTH or not _printable(value):
        return None, f"The source must be at most {SOURCE_MAX_LENGTH} printable characters."
    return value, None


def _parse_campaign(value: object) -> "Parsed[int]":
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= BIGINT_MAX:
        return None, "A campaign id (a positive integer) is required."
    return value, None


def clean_event(
    *,
    campaign_id: object,
    amount: object,
    occurred_at: object,
    event_id: object,
    source: object,
    kind: object,
    now: dt.datetime,
) -> tuple[CleanEvent | None, Errors]:
    """The event with its defaults filled in, or the errors by field."""
    errors: Errors = {}
    dating = kind
    if not isinstance(kind, str) or kind not in KINDS:
        errors["kind"] = [f"Unknown kind; use one of: {', '.join(SpendKind.values)}."]
        kind, dating = SpendKind.ADJUSTMENT, SpendKind.SPEND  # still check the other fields' form
    campaign, campaign_error = _parse_campaign(campaign_id)
    value, amount_error = _parse_amount(amount, kind)
    instant, occurred_at_error = _parse_occurred_at(occurred_at, now, str(dating))
    parsed_event_id, event_id_error = _parse_event_id(event_id)
    parsed_source, source_error = _parse_source(source)
    if (
        errors or event_id_error is not None or campaign is None or value is None
        or instant is None or parsed_source is None
    ):  # fmt: skip
        return None, errors | _named(
            campaign=campaign_error, amount=amount_error, occurred_at=occurred_at_error,
            event_id=event_id_error, source=source_error,
        )  # fmt: skip
    return CleanEvent(
        campaign_id=campaign,
        amount=value,
        occurred_at=instant,
        occurred_at_given=occurred_at is not None,
        event_id=parsed_event_id,
        source=parsed_source,
        kind=kind,
    ), {}


def _named(**messages: str | None) -> Errors:
    """The errors by field, of the fields that have one."""
    return {name: [message] for name, message in messages.items() if message is not None}


# The checks of clean_event, inlined for the forms a feed sends: taking an
# event's fields, returning the CleanEvent or None ("ask clean_event").
EventCleaner = Callable[[object, object, object, object, object, object], CleanEvent | None]


def event_cleaner(now: dt.datetime) -> EventCleaner:
    """clean_event for the events of one batch, for their usual forms only.

    The returned function takes (campaign_id, amount, occurred_at, event_id,
    source, kind) and gives the CleanEvent that clean_event would give when
    every field has its usual form and is valid: an int campaign id, a
    Decimal amount or its text ("12.50", the form the API documents), no
    time or an aware datetime, a printable ASCII event id, and any valid
    source (a login may be any text; it is the sender's, checked once per
    batch). For anything else it gives None, and clean_event decides (and
    words the errors): what it accepts is clean_event's rule, checked here
    with the settings read once per batch instead of once per event.
    """
    return _UsualForms(now)


class _UsualForms:
    """event_cleaner's function: the settings read once, the sources checked once each."""

    __slots__ = ("latest", "limit", "lowest", "now", "sources")

    def __init__(self, now: dt.datetime) -> None:
        self.now = now
        self.limit = max_amount()
        self.lowest = -self.limit
        self.latest = now + dt.timedelta(seconds=settings.SPEND_MAX_CLOCK_SKEW_SECONDS)
        self.sources: set[str] = set()  # checked already: a feed sends the same few

    def __call__(
        self, campaign_id: object, amount: object, occurred_at: object,
        event_id: object, source: object, kind: object,
    ) -> CleanEvent | None:  # fmt: skip
        # Conditions, not calls, where they are short: this runs for every
        # event of a batch, and a Python call costs more than most checks.
        if (
            type(campaign_id) is not int
            or not 0 < campaign_id <= BIGINT_MAX
            or not isinstance(kind, str)
            or kind not in KINDS
            or (value := self.amount(amount, kind)) is None
            or (instant := self.instant(occurred_at, kind)) is None
        ):
            return None
        if event_id is not None and not (
            type(event_id) is str and 0 < len(event_id) <= EVENT_ID_MAX_LENGTH and _plain(event_id)
        ):
            return None
        if type(source) is not str or not (source in self.sources or self.source_valid(source)):
            return None
        return CleanEvent(
            campaign_id, value, instant, occurred_at is not None, event_id, source, kind
        )

    def amount(self, amount: object, kind: str) -> Decimal | None:
        if type(amount) is str:  # the documented form, "12.50": _parse_amount's rule for text
            amount = amount_of_text(amount)
            if amount is None:
                return None
        elif type(amount) is not Decimal or not amount.is_finite():
            return None
        if not self.lowest <= amount <= self.limit:
            return None
        if not (amount > 0 or (amount != 0 and kind != SPEND)):
            return None
        if amount.same_quantum(AMOUNT_QUANTUM):  # the usual form: six places written
            return amount
        try:  # positional: keyword arguments cost C's slow path here
            return amount.quantize(AMOUNT_QUANTUM, None, SIX_PLACES)
        except (Rounded, InvalidOperation):
            return None

    def instant(self, occurred_at: object, kind: str) -> dt.datetime | None:
        if occurred_at is None:
            return self.now if kind == SPEND else None  # an adjustment must be dated
        if type(occurred_at) is not dt.datetime or occurred_at.utcoffset() is None:
            return None
        try:
            instant = occurred_at.astimezone(dt.UTC)
        except OverflowError:
            return None
        if instant <= self.now:
            return instant
        return self.now if instant <= self.latest else None

    def source_valid(self, source: str) -> bool:
        """_parse_source's rule, asked once per source: a feed sends the same few."""
        if _parse_source(source)[1] is not None:
            return False
        self.sources.add(source)
        return True


def _plain(value: str) -> bool:
    """Printable ASCII and not blank: free of control characters, with something to see."""
    return value.isascii() and value.isprintable() and bool(value) and not value.isspace()
