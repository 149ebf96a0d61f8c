"""simulate_spend: a simulated month keeps every cap, and the command behaves."""

import datetime as dt
import io
import json
import os
import signal
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.db.models import Sum

from budgets.models import Period
from budgets.periods import day_start_utc, local_date
from budgets.tests.factories import BrandFactory, BudgetFactory
from campaigns.models import Campaign, CampaignStatusChange, days_to_mask
from campaigns.services import campaign_pause
from campaigns.tests.factories import CampaignFactory, DaypartFactory
from spend.models import BrandSpend, BudgetSpend, SpendEvent
from spend.simulation.engine import SimulationOptions, Simulator
from spend.simulation.report import simulation_summary

# The largest single event the simulator sends: CPM 12.00 on 400 impressions.
LARGEST_EVENT = Decimal("4.80")
DAILY_HOLDS = {"brand_daily_budget", "budget_daily_limit"}
# Fifteen-minute ticks: every daypart edge below and every zone's midnight
# (offsets of :00, :30 and :45) falls on one, so they are exact.
TICK = dt.timedelta(minutes=15)


def _world() -> dict[str, Campaign]:
    new_york = BrandFactory.create(
        name="NY", timezone="America/New_York", daily_budget="40.00", monthly_budget="460.00"
    )
    kolkata = BrandFactory.create(
        name="Kolkata", timezone="Asia/Kolkata", daily_budget="30.00", monthly_budget="5000.00"
    )
    chatham = BrandFactory.create(
        name="Chatham", timezone="Pacific/Chatham", daily_budget="50.00", monthly_budget="5000.00"
    )
    pool = BudgetFactory.create(brand=kolkata, daily_limit=Decimal("12.00"), monthly_limit=None)
    campaigns = {
        "ny always": CampaignFactory.create(brand=new_york, name="always"),
        "ny evenings": CampaignFactory.create(brand=new_york, name="evenings"),
        "ny manual": CampaignFactory.create(brand=new_york, name="manual"),
        "kolkata pooled": CampaignFactory.create(brand=kolkata, budget=pool, name="pooled"),
        "kolkata free": CampaignFactory.create(brand=kolkata, name="free"),
        "chatham nights": CampaignFactory.create(brand=chatham, name="nights"),
        "chatham days": CampaignFactory.create(brand=chatham, name="days"),
    }
    DaypartFactory.create(
        campaign=campaigns["ny evenings"],
        days=days_to_mask(["mon", "tue", "wed", "thu", "fri"]),
        start_time=dt.time(18, 0),
        end_time=dt.time(23, 0),
    )
    DaypartFactory.create(
        campaign=campaigns["chatham nights"],
        days=days_to_mask(["fri", "sat"]),
        start_time=dt.time(21, 45),
        end_time=dt.time(2, 15),
    )
    DaypartFactory.create(
        campaign=campaigns["chatham days"],
        days=days_to_mask(["mon", "tue", "wed", "thu", "fri", "sat", "sun"]),
        start_time=dt.time(7, 30),
        end_time=dt.time(19, 0),
    )
    campaign_pause(campaign_id=campaigns["ny manual"].pk, note="creative review")
    return campaigns


@pytest.mark.slow
@pytest.mark.django_db
def test_a_simulated_month_keeps_every_cap_and_resets_in_each_zone() -> None:
    campaigns = _world()
    # 15 September to 15 October 2026: a month boundary everywhere, and
    # Chatham's daylight-saving start (27 September).
    options = SimulationOptions(
        start=dt.datetime(2026, 9, 15, 0, 0, tzinfo=dt.UTC),
        end=dt.datetime(2026, 10, 15, 0, 0, tzinfo=dt.UTC),
        rate_per_hour=12,
        retry_ratio=0.05,
        late_ratio=0.0,
        tick_minutes=15,
        seed=7,
        run_id="month",
    )
    stats = Simulator(options).run()
    summary = simulation_summary(stats=stats, options=options, after_change_id=0)

    # The summary's totals are the ledger's.
    ledger = SpendEvent.objects.aggregate(total=Sum("amount"))["total"]
    assert summary.ledger_amount == summary.amount_sent == {"USD": ledger}
    assert summary.ledger_events == summary.events_sent == SpendEvent.objects.count()
    assert summary.duplicates == summary.retries > 0

    # No brand-day or budget-day goes over its cap by more than the one
    # event that crossed it, and nothing is recorded after the crossing.
    capped_days = 0
    for row in BrandSpend.objects.select_related("brand").filter(period=Period.DAY):
        assert row.overspend == 0, row
        assert row.amount - row.brand.daily_budget < LARGEST_EVENT, row
        capped_days += row.amount >= row.brand.daily_budget
    for pool in BudgetSpend.objects.select_related("budget").filter(period=Period.DAY):
        assert pool.overspend == 0, pool
        assert pool.budget.daily_limit is not None
        assert pool.amount - pool.budget.daily_limit < LARGEST_EVENT, pool
    assert capped_days >= 20, "the simulation should reach the daily caps most days"
    # New York's monthly cap (460) is reached in September and in October.
    ny_months = BrandSpend.objects.filter(brand__name="NY", period=Period.MONTH)
    assert ny_months.count() == 2
    for month in ny_months:
        assert month.amount >= Decimal("460.00")
        assert month.amount - Decimal("460.00") < LARGEST_EVENT
    assert summary.pauses.get("brand_monthly_budget", 0) >= 1

    # Every campaign held by a daily cap serves again (or changes reason)
    # at its brand's next local midnight, at the first tick.
    for change in CampaignStatusChange.objects.select_related("campaign__brand").filter(
        new_reason__in=DAILY_HOLDS
    ):
        tz = change.campaign.brand.timezone
        midnight = day_start_utc(local_date(change.changed_at, tz) + dt.timedelta(days=1), tz)
        if midnight >= options.end:
            continue
        following = (
            CampaignStatusChange.objects.filter(
                campaign=change.campaign, changed_at__gt=change.changed_at
            )
            .order_by("changed_at", "id")
            .first()
        )
        assert following is not None, change
        assert following.changed_at <= midnight + TICK, (change, following)

    # The manual pause was never lifted, and its campaign never spent.
    manual = Campaign.objects.get(pk=campaigns["ny manual"].pk)
    assert manual.pause_reason == "manual"
    assert not CampaignStatusChange.objects.filter(old_reason="manual").exists()
    assert not SpendEvent.objects.filter(campaign=manual).exists()
    # Dayparts held: nothing was spent by the evening campaign outside 18-23 local.
    for occurred in SpendEvent.objects.filter(campaign=campaigns["ny evenings"]).values_list(
        "occurred_at", flat=True
    ):
        local = occurred.astimezone(ZoneInfo("America/New_York"))
        assert dt.time(18) <= local.time() < dt.time(23), local
        assert local.weekday() < 5


@pytest.mark.django_db
def test_late_events_are_recorded_and_reported_as_overspend_when_after_the_cap() -> None:
    brand = BrandFactory.create(daily_budget="5.00", monthly_budget="1000.00")
    CampaignFactory.create(brand=brand)
    options = SimulationOptions(
        start=dt.datetime(2026, 9, 1, 10, tzinfo=dt.UTC),
        end=dt.datetime(2026, 9, 1, 16, tzinfo=dt.UTC),
        rate_per_hour=60,
        retry_ratio=0,
        late_ratio=0.5,
        max_late_minutes=90,
        tick_minutes=5,
        seed=3,
        run_id="late",
    )
    stats = Simulator(options).run()
    day = BrandSpend.objects.get(period=Period.DAY)
    assert stats.late > 0
    assert day.amount == SpendEvent.objects.aggregate(total=Sum("amount"))["total"]
    # Late deliveries after the crossing are money spent all the same: kept and shown.
    assert day.overspend > 0
    assert stats.recorded_while_paused > 0


def _run(*args: str) -> dict[str, object]:
    out = io.StringIO()
    call_command("simulate_spend", *args, "--json", "--no-progress", stdout=out)
    data: dict[str, object] = json.loads(out.getvalue())
    return data


@pytest.mark.django_db
def test_command_prints_a_json_summary_that_matches_the_ledger() -> None:
    brand = BrandFactory.create(daily_budget="10.00", demo=True)
    CampaignFactory.create_batch(2, brand=brand)
    data = _run("--simulated-days", "0.5", "--rate", "30", "--seed", "1", "--tick-minutes", "5")
    assert data["mode"] == "accelerated"
    assert data["events_sent"] == SpendEvent.objects.count() > 0
    assert data["ledger_amount"] == {"USD": str(SpendEvent.objects.aggregate(t=Sum("amount"))["t"])}
    periods = data["periods"]
    assert isinstance(periods, list)
    assert {p["period"] for p in periods} >= {"day", "month"}


@pytest.mark.django_db
def test_text_summary_names_brands_and_caps() -> None:
    brand = BrandFactory.create(name="Acme Widgets", daily_budget="3.00", demo=True)
    CampaignFactory.create(brand=brand)
    out = io.StringIO()
    call_command(
        "simulate_spend",
        "--simulated-days",
        "0.25",
        "--rate",
        "120",
        "--seed",
        "2",
        "--no-progress",
        stdout=out,
    )
    text = out.getvalue()
    assert "Acme Widgets" in text
    assert "Events recorded" in text
    assert "Brand daily budget spent" in text
    assert "brand_daily_budget" not in text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--simulated-days", "0"], "--simulated-days"),
        (["--simulated-days", "400"], "--simulated-days"),
        (["--minutes", "-1"], "--minutes"),
        (["--simulated-days", "1", "--rate", "-3"], "--rate"),
        (["--simulated-days", "1", "--rate", "nan"], "--rate"),
        (["--simulated-days", "1", "--retry-ratio", "1.5"], "--retry-ratio"),
        (["--simulated-days", "1", "--tick-minutes", "0"], "--tick-minutes"),
        (["--simulated-days", "1", "--brand", "999999"], "999999"),
    ],
)
@pytest.mark.django_db
def test_bad_options_are_refused_with_a_clear_message(args: list[str], message: str) -> None:
    with pytest.raises(CommandError, match=message):
        call_command("simulate_spend", *args, "--no-progress")
    assert not SpendEvent.objects.exists()


def test_both_modes_at_once_is_refused() -> None:
    result = subprocess.run(
        [sys.executable, "manage.py", "simulate_spend", "--minutes", "1", "--simulated-days", "1"],
        capture_output=True,
        text=True,
        check=False,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert result.returncode != 0
    assert "not allowed with argument" in result.stderr


@pytest.mark.django_db
def test_real_time_mode_records_with_the_real_clock() -> None:
    CampaignFactory.create(brand=BrandFactory.create(daily_budget="1000.00", demo=True))
    data = _run("--minutes", "0.05", "--rate", "20000", "--seed", "5")
    assert data["mode"] == "real time"
    assert data["ticks"] == 0
    assert data["events_sent"] == SpendEvent.objects.count() > 0


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_ctrl_c_stops_cleanly_and_prints_the_summary_so_far() -> None:
    CampaignFactory.create_batch(3, brand=BrandFactory.create(daily_budget="100000.00", demo=True))
    settings = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": (
            f"postgres://{settings['USER']}@{settings['HOST']}:{settings['PORT']}/{settings['NAME']}"
        ),
    }
    process = subprocess.Popen(
        [sys.executable, "manage.py", "simulate_spend", "--simulated-days", "300", "--json",
         "--no-progress", "--rate", "60"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=Path(__file__).resolve().parents[2],
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while not SpendEvent.objects.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(1)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert "Interrupted" in err
    data = json.loads(out)
    assert data["interrupted"] is True
    assert data["events_sent"] == data["ledger_events"] == SpendEvent.objects.count() > 0
