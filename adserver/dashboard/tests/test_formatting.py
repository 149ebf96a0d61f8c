"""Money in the brand's currency, times in the brand's zone."""

import datetime as dt
from decimal import Decimal

from django.template.loader import render_to_string

from adserver.templatetags.dashboard import (
    SHORT_REASONS,
    compact,
    exact_money,
    in_zone,
    money,
    percent,
    reason_label,
    short_reason,
)
from campaigns.models import PauseReason
from campaigns.tests.factories import CampaignFactory


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


def test_money_has_the_currencys_own_decimals() -> None:
    assert money(Decimal("1234.5"), "JPY") == "1,235 JPY"
    assert money(Decimal("1234.5"), "USD") == "1,234.50 USD"
    assert money(Decimal("1.2345"), "KWD") == "1.235 KWD"


def test_exact_money_in_a_currency_without_decimals() -> None:
    assert exact_money(Decimal("1200.000000"), "JPY") == "1,200 JPY"
    assert exact_money(Decimal("1200.5"), "JPY") == "1,200.5 JPY"


def test_axis_labels_are_compact_at_any_magnitude() -> None:
    assert compact(Decimal("100000")) == "100k"
    assert compact(Decimal("150000")) == "150k"
    assert compact(Decimal("1200000")) == "1.2M"
    assert compact(Decimal("37500")) == "37.5k"
    assert compact(Decimal("2500000000")) == "2.5B"
    assert compact(Decimal("250")) == "250"
    assert compact(Decimal("0.5")) == "0.5"


def test_every_pause_reason_has_a_short_form_for_the_badge() -> None:
    assert short_reason("manual") == "manual"
    assert short_reason("budget_daily_limit") == "shared daily limit"
    assert short_reason("brand_daily_pacing") == "even delivery"
    assert short_reason(None) == ""
    # Every reason the database may derive has its words, none falls back to its code.
    assert set(SHORT_REASONS) == set(PauseReason)


def test_a_badge_reads_once() -> None:
    campaign = CampaignFactory.build(enabled=False)
    campaign.status, campaign.pause_reason = "paused", "manual"
    html = render_to_string("dashboard/includes/_status.html", {"campaign": campaign})
    assert ">Paused · manual</span>" in html
    assert "Paused manually" not in html.split(">", 1)[1]  # the full label is the tooltip only
