"""The API's JSON parser: every number a Decimal, every bad value named by its field.

A view may bound its bodies (`body_limit()`: the largest body in bytes, and
whether numbers stay text until the view has counted what it received): an
over-large body is a 413 before a byte of it is parsed.
"""

import codecs
import io
import json
from collections.abc import Mapping
from decimal import Decimal
from typing import IO, Any, NamedTuple

from django.conf import settings
from rest_framework import parsers, status
from rest_framework.exceptions import APIException, ParseError


class BodyLimit(NamedTuple):
    max_bytes: int
    # Numbers stay RawNumber text, for the view to turn into Decimals
    # (`decimals_in`) once it has counted the items it will accept.
    numbers_later: bool = False


class PayloadTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "too_large"

    def __init__(self, limit: int) -> None:
        super().__init__(f"The body is larger than {limit:,} bytes, the most this endpoint takes.")
        self.limit = limit


class RawNumber(str):
    """A JSON number's text, not yet a Decimal (BodyLimit.numbers_later)."""

    __slots__ = ()


class ExponentNumber(Decimal):
    """A JSON number written with an exponent (`1e2`, `1.5E0`).

    A Decimal like any other number, marked so that a field whose grammar
    excludes exponents (a spend amount) can refuse it: the value alone does
    not tell `1.5e0` from `1.5`.
    """

    __slots__ = ()


def _json_number(text: str) -> Decimal:
    """A JSON number with a fraction or an exponent (integers are plain Decimals)."""
    if "e" in text or "E" in text:
        return ExponentNumber(text)
    return Decimal(text)


def decimals_in(value: Any) -> Any:
    """`value` with every RawNumber in it a Decimal, as the parser makes them otherwise.

    Objects and lists are changed in place: this runs once per batched event.
    """
    if type(value) is RawNumber:
        return _json_number(value)
    if isinstance(value, dict):
        for key, item in value.items():
            if type(item) is RawNumber:
                value[key] = _json_number(item)
            elif isinstance(item, dict | list):
                value[key] = decimals_in(item)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            value[index] = decimals_in(item)
    return value


def _bounded(stream: IO[Any], parser_context: Mapping[str, Any]) -> tuple[IO[Any], bool]:
    """The body, refused with a 413 when over the view's limit; and whether numbers wait.

    The declared Content-Length is checked first; a body without one
    (chunked) is read up to one byte past the limit, never further.
    """
    view = parser_context.get("view")
    body_limit = getattr(view, "body_limit", None)
    limit: BodyLimit | None = body_limit() if body_limit else None
    if limit is None:
        return stream, False
    request = parser_context.get("request")
    declared = request.META.get("CONTENT_LENGTH") if request is not None else None
    try:
        length = int(declared) if declared else None
    except ValueError:
        length = None
    if length is not None and length > limit.max_bytes:
        raise PayloadTooLarge(limit.max_bytes)
    body = stream.read(limit.max_bytes + 1)
    if len(body) > limit.max_bytes:
        raise PayloadTooLarge(limit.max_bytes)
    return io.BytesIO(body), limit.numbers_later


class JSONParser(parsers.JSONParser):
    """Parse numbers as Decimal and let NaN and Infinity reach the fields.

    Money sent as a JSON number keeps every digit it was written with (no
    binary float on the way), and a non-finite number is refused by the
    field it was sent for, so the 400 names that field.
    """

    def parse(
        self,
        stream: IO[Any],
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        parser_context = parser_context or {}
        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        try:
            # A charset may name any codec Python has: one that is no text
            # encoding (zlib, rot13, base64...) would fail in ways no JSON
            # error covers, so it is refused first, by name.
            "".encode(encoding)
        except LookupError:
            raise ParseError(
                f"JSON parse error - charset {encoding!r} is not a text encoding."
            ) from None
        stream, numbers_later = _bounded(stream, parser_context)
        try:
            text = codecs.getreader(encoding)(stream)
            if numbers_later:
                return json.load(
                    text, parse_float=RawNumber, parse_int=RawNumber, parse_constant=RawNumber
                )
            return json.load(
                text, parse_float=_json_number, parse_int=Decimal, parse_constant=Decimal
            )
        except (ValueError, RecursionError) as exc:  # RecursionError: absurd nesting
            raise ParseError(f"JSON parse error - {exc}") from exc
