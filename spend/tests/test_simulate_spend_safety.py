"""simulate_spend cannot hurt real data: it refuses brands seed_demo did not
make unless told, --dry-run keeps nothing, its alerts are never sent, and its
report keeps every currency apart."""

import datetime as dt
import io
import json
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models import Sum
from django.test.utils import override_settings

from budgets.models import Alert, Brand
from budgets.tests.factories import BrandFactory
from campaigns.models import CampaignStatusChange
from campaigns.tests.factories import CampaignFactory
from spend.alerts import alerts_deliver_now, alerts_undelivered
from spend.models import BrandSpend, SpendEvent
from spend.services import spend_record

NOW = dt.datetime(2026, 3, 10, 15, 0, tzinfo=dt.UTC)
# Small caps and a high rate: a few simulated hours cross them all.
FAST = ("--simulated-days", "0.25", "--rate", "120", "--tick-minutes", "5", "--no-progress")


@pytest.fixture
def frozen_now() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


def _simulate(*args: str) -> dict[str, Any]:
    out = io.StringIO()
    call_command("simulate_spend", *FAST, *args, "--json", stdout=out)
    data: dict[str, Any] = json.loads(out.getvalue())
    return data


def _demo_brand(**fields: Any) -> Brand:
    brand = BrandFactory.create(demo=True, daily_budget="3.00", **fields)
    CampaignFactory.create(brand=brand)
    return brand


def _state() -> tuple[list[Any], list[Any], int, int]:
    """Everything a run could change, compared before and after."""
    return (
        list(SpendEvent.objects.order_by("id").values_list("id", "amount")),
        list(BrandSpend.objects.order_by("id").values_list("id", "amount", "overspend")),
        CampaignStatusChange.objects.count(),
        Alert.objects.count(),
    )


@pytest.mark.django_db
def test_it_refuses_a_database_holding_brands_seed_demo_did_not_make(frozen_now: None) -> None:
    _demo_brand(name="Demo one")
    real = BrandFactory.create(name="Real Client Ltd")
    CampaignFactory.create(brand=real)
    before = _state()
    with pytest.raises(CommandError) as refused:
        call_command("simulate_spend", *FAST)
    message = str(refused.value)
    assert "Real Client Ltd" in message
    assert "seed_demo did not create" in message
    assert "--brand" in message
    assert "--write-real-data" in message
    assert _state() == before


@pytest.mark.django_db
def test_it_refuses_a_dry_run_on_real_data_too(frozen_now: None) -> None:
    CampaignFactory.create(brand=BrandFactory.create(name="Real Client Ltd"))
    with pytest.raises(CommandError, match="seed_demo did not create"):
        call_command("simulate_spend", *FAST, "--dry-run")
    assert not SpendEvent.objects.exists()


@pytest.mark.django_db
def test_brands_named_with_brand_are_the_only_ones_written(frozen_now: None) -> None:
    named = BrandFactory.create(name="Real but named", daily_budget="3.00")
    CampaignFactory.create(brand=named)
    other = BrandFactory.create(name="Real Client Ltd")
    CampaignFactory.create(brand=other)
    data = _simulate("--brand", str(named.pk), "--seed", "4")
    assert data["events_sent"] > 0
    assert set(SpendEvent.objects.values_list("brand_id", flat=True)) == {named.pk}


@pytest.mark.django_db
def test_write_real_data_writes_to_every_brand(frozen_now: None) -> None:
    real = BrandFactory.create(name="Real Client Ltd", daily_budget="3.00")
    CampaignFactory.create(brand=real)
    demo = _demo_brand(name="Demo one")
    _simulate("--write-real-data", "--seed", "4")
    assert set(SpendEvent.objects.values_list("brand_id", flat=True)) == {real.pk, demo.pk}


@pytest.mark.django_db
def test_dry_run_keeps_nothing_and_prints_the_report_of_the_real_run(frozen_now: None) -> None:
    brand = _demo_brand(name="Demo one")
    _demo_brand(name="Demo two", currency="NOK")
    # Spend from before the run, which must stay as it was.
    spend_record(
        campaign_id=brand.campaigns.get().pk,
        amount=Decimal("1.25"),
        occurred_at=NOW - dt.timedelta(days=2),
    )
    before = _state()

    dry = _simulate("--dry-run", "--seed", "9")

    assert _state() == before
    assert dry["dry_run"] is True
    assert dry["events_sent"] > 0
    assert dry["alerts_withheld"] > 0
    assert sum(dry["pauses"].values()) > 0
    # The same run for real gives the same report, apart from the flag.
    real = _simulate("--seed", "9")
    assert real["dry_run"] is False
    assert SpendEvent.objects.count() == len(before[0]) + real["events_sent"]
    assert {**dry, "dry_run": False} == real


@pytest.mark.django_db
def test_dry_run_in_real_time_is_refused(frozen_now: None) -> None:
    _demo_brand()
    with pytest.raises(CommandError, match="--dry-run needs --simulated-days"):
        call_command("simulate_spend", "--minutes", "1", "--dry-run", "--no-progress")
    assert not SpendEvent.objects.exists()


@pytest.mark.django_db
def test_the_report_keeps_two_currencies_apart(frozen_now: None) -> None:
    dollars = _demo_brand(name="Dollar brand", currency="USD")
    kroner = _demo_brand(name="Krone brand", currency="NOK")
    out = io.StringIO()
    call_command("simulate_spend", *FAST, "--seed", "5", "--dry-run", stdout=out)
    text = out.getvalue()
    currency_rows = [line for line in text.splitlines() if line[:4] in ("USD ", "NOK ")]
    assert len(currency_rows) == 2
    assert "Brand daily budget spent" in text
    assert "brand_daily_budget" not in text
    assert "Used: " in text
    assert "Overspend: " in text
    assert "Subject:" not in text

    data = _simulate("--seed", "5")
    for brand in (dollars, kroner):
        total = SpendEvent.objects.filter(brand=brand).aggregate(t=Sum("amount"))["t"]
        assert total > 0
        assert data["amount_sent"][brand.currency] == str(total)
        assert data["ledger_amount"][brand.currency] == str(total)
    assert set(data["amount_sent"]) == set(data["ledger_amount"]) == {"USD", "NOK"}
    assert set(data["overspend"]) == {"USD", "NOK"}


@pytest.mark.django_db
@override_settings(ALERT_EMAILS=["adops@example.com"], ALERT_WEBHOOK_URLS=[])
def test_alerts_of_simulated_spend_are_kept_and_counted_but_never_sent(
    frozen_now: None, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    _demo_brand(name="Demo one")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        data = _simulate("--seed", "6")
    alerts = list(Alert.objects.all())
    assert alerts
    assert all(alert.simulated for alert in alerts)
    assert data["alerts_withheld"] == len(alerts)
    # Nothing was handed to the worker, the sweep never picks them up, and
    # even asked by id the deliverer sends nothing.
    assert callbacks == []
    assert alerts_undelivered(now=NOW + dt.timedelta(minutes=5)) == []
    assert alerts_deliver_now([alert.pk for alert in alerts]).delivered == []
    assert mail.outbox == []


@pytest.mark.django_db
@override_settings(ALERT_EMAILS=["adops@example.com"], ALERT_WEBHOOK_URLS=[])
def test_alerts_of_real_spend_are_still_sent(frozen_now: None) -> None:
    brand = BrandFactory.create(daily_budget="3.00")
    campaign = CampaignFactory.create(brand=brand)
    spend_record(campaign_id=campaign.pk, amount=Decimal("3.00"), occurred_at=NOW)
    alerts = list(Alert.objects.all())
    assert alerts
    assert not any(alert.simulated for alert in alerts)
    assert alerts_undelivered(now=NOW + dt.timedelta(minutes=5)) == sorted(a.pk for a in alerts)
    assert len(alerts_deliver_now([alert.pk for alert in alerts]).delivered) == len(alerts)
    assert len(mail.outbox) == len(alerts)
