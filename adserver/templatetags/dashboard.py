"""Formatting for the dashboard: money in a brand's currency, times in its zone.

Formatting only; what to show is decided by the views and selectors.
"""

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

from budgets.periods import zone
from campaigns.models import PauseReason

register = template.Library()

CENT = Decimal("0.01")


@register.filter
def money(value: Decimal | None, currency: str = "") -> str:
    """1234.5 -> "1,234.50 USD"; totals are rounded half up to the cent for display."""
    if value is None:
        return "—"
    amount = Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)
    text = f"{amount:,.2f}"
    return f"{text} {currency}".strip()


@register.filter
def exact_money(value: Decimal | None, currency: str = "") -> str:
    """Every recorded digit (spend is kept to 6 places), at least to the cent."""
    if value is None:
        return "—"
    amount = Decimal(value)
    if amount == amount.quantize(CENT):
        return money(amount, currency)
    text = f"{amount.normalize():,f}"
    return f"{text} {currency}".strip()


@register.filter
def percent(value: Decimal | None) -> str:
    return "—" if value is None else f"{Decimal(value):.0f}%"


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
}


@register.filter
def short_reason(value: str | None) -> str:
    if not value:
        return ""
    try:
        return SHORT_REASONS[PauseReason(value)]
    except ValueError:
        return value
