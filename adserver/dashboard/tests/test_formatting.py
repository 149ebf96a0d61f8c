"""Money in the brand's currency, times in the brand's zone."""

import datetime as dt
from decimal import Decimal

from django.template.loader import render_to_string

from adserver.templatetags.dashboard import (
    SHORT_REASONS,
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


def test_every_pause_reason_has_a_short_form_for_the_badge() -> None:
    assert short_reason("manual") == "manual"
    assert short_reason("budget_daily_limit") == "shared daily limit"
    assert short_reason(None) == ""
    # Every reason the database may derive has its words, none falls back to its code.
    assert set(SHORT_REASONS) == set(PauseReason)


def test_a_badge_reads_once() -> None:
    campaign = CampaignFactory.build(enabled=False)
    campaign.status, campaign.pause_reason = "paused", "manual"
    html = render_to_string("dashboard/includes/_status.html", {"campaign": campaign})
    assert ">Paused · manual</span>" in html
    assert "Paused manually" not in html.split(">", 1)[1]  # the full label is the tooltip only
