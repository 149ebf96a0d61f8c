"""Money in the brand's currency, times in the brand's zone."""

import datetime as dt
from decimal import Decimal

from adserver.templatetags.dashboard import exact_money, in_zone, money, percent, reason_label


def test_money_rounds_half_up_to_the_cent_with_the_currency() -> None:
    assert money(Decimal("1234.005"), "USD") == "1,234.01 USD"
    assert money(Decimal("-3.5"), "EUR") == "-3.50 EUR"
    assert money(Decimal("0"), "INR") == "0.00 INR"
    assert money(None, "USD") == "—"


def test_exact_money_keeps_every_recorded_digit() -> None:
    assert exact_money(Decimal("0.001250"), "USD") == "0.00125 USD"
    assert exact_money(Decimal("1250.500000"), "USD") == "1,250.50 USD"


def test_times_are_shown_on_the_brands_wall_clock_with_its_zone() -> None:
    instant = dt.datetime(2026, 7, 1, 12, 0, tzinfo=dt.UTC)

    shown = str(in_zone(instant, "America/New_York"))

    assert ">2026-07-01 08:00 EDT</time>" in shown
    assert 'title="America/New_York"' in shown
    assert 'datetime="2026-07-01T12:00:00+00:00"' in shown


def test_percent_and_reason_labels() -> None:
    assert percent(Decimal("79.6")) == "80%"
    assert percent(None) == "—"
    assert reason_label("budget_daily_limit") == "Shared budget daily limit spent"
    assert reason_label(None) == ""
