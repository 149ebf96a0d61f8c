"""Formatting for the dashboard: money in a brand's currency, times in its zone.

Formatting only; what to show is decided by the views and selectors.
"""

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

from babel.numbers import format_compact_decimal, get_currency_precision
from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

from budgets.periods import zone
from campaigns.models import PauseReason

register = template.Library()


@lru_cache(maxsize=512)
def minor_digits(currency: str) -> int:
    """The currency's own decimals by ISO 4217 (CLDR's data): 2 for USD, 0 for JPY, 3 for KWD."""
    return get_currency_precision(currency) if currency else 2


@register.filter
def money(value: Decimal | None, currency: str = "") -> str:
    """1234.5 USD -> "1,234.50 USD", 1234.5 JPY -> "1,235 JPY": rounded half up to
    the currency's own decimals for display."""
    if value is None:
        return "—"
    digits = minor_digits(currency)
    amount = Decimal(value).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)
    text = f"{amount:,.{digits}f}"
    return f"{text} {currency}".strip()


@register.filter
def exact_money(value: Decimal | None, currency: str = "") -> str:
    """Every recorded digit (spend is kept to 6 places), at least to the currency's decimals."""
    if value is None:
        return "—"
    amount = Decimal(value)
    if amount == amount.quantize(Decimal(1).scaleb(-minor_digits(currency))):
        return money(amount, currency)
    text = f"{amount.normalize():,f}"
    return f"{text} {currency}".strip()


@register.filter
def compact(value: Decimal | None) -> str:
    """An axis label that fits at any magnitude: 150000 -> "150k", 1200000 -> "1.2M"."""
    if value is None:
        return ""
    text = format_compact_decimal(Decimal(value), locale="en_US", fraction_digits=2)
    # CLDR writes thousands as "K"; the dashboard reads "150k" beside "1.2M".
    return text.replace("K", "k")


@register.filter
def percent(value: Decimal | None) -> str:
    return "—" if value is None else f"{Decimal(value):.0f}%"


@register.filter
def iso_instant(value: dt.datetime | None) -> str:
    """An aware instant as the API writes it: ISO 8601 to the second, with its own offset."""
    return "" if value is None else value.replace(microsecond=0).isoformat()


@register.filter
def in_zone(value: dt.datetime | None, tz_name: str) -> SafeString | str:
    """An instant on the brand's wall clock, with the zone's abbreviation and full name."""
    if value is None:
        return "—"
    local = value.astimezone(zone(tz_name))
    return format_html(
        '<time datetime="{}" title="{}">{} {}</time>',
        value.isoformat(),
        tz_name,
        f"{local:%Y-%m-%d %H:%M}",
        local.tzname() or tz_name,
    )


@register.filter
def reason_label(value: str | None) -> str:
    if not value:
        return ""
    try:
        return str(PauseReason(value).label)
    except ValueError:
        return value


# A badge reads once: "Paused · manual", not "Paused Paused manually".
SHORT_REASONS = {
    PauseReason.MANUAL: "manual",
    PauseReason.NOT_STARTED: "not started",
    PauseReason.ENDED: "ended",
    PauseReason.OUTSIDE_DAYPART: "outside its hours",
    PauseReason.BRAND_MONTHLY_BUDGET: "brand monthly cap",
    PauseReason.BRAND_DAILY_BUDGET: "brand daily cap",
    PauseReason.BUDGET_MONTHLY_LIMIT: "shared monthly limit",
    PauseReason.BUDGET_DAILY_LIMIT: "shared daily limit",
    PauseReason.BRAND_DAILY_PACING: "even delivery",
}


@register.filter
def short_reason(value: str | None) -> str:
    if not value:
        return ""
    try:
        return SHORT_REASONS[PauseReason(value)]
    except ValueError:
        return value
