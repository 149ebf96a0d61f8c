"""The API's JSON parser: every number a Decimal, every bad value named by its field."""

import codecs
import json
from collections.abc import Mapping
from decimal import Decimal
from typing import IO, Any

from django.conf import settings
from rest_framework import parsers
from rest_framework.exceptions import ParseError


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
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            # A charset may name any codec Python has: one that is no text
            # encoding (zlib, rot13, base64...) would fail in ways no JSON
            # error covers, so it is refused first, by name.
            "".encode(encoding)
        except LookupError:
            raise ParseError(
                f"JSON parse error - charset {encoding!r} is not a text encoding."
            ) from None
        try:
            text = codecs.getreader(encoding)(stream)
            return json.load(
                text, parse_float=_json_number, parse_int=Decimal, parse_constant=Decimal
            )
        except (ValueError, RecursionError) as exc:  # RecursionError: absurd nesting
            raise ParseError(f"JSON parse error - {exc}") from exc
