"""Alerts are logged and mailed after commit; a mail server that fails changes nothing."""

import datetime as dt
import logging
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.test.utils import override_settings

from budgets.models import Alert
from budgets.tests.factories import AlertFactory, BrandFactory, BudgetFactory
from campaigns.tests.factories import CampaignFactory
from spend.alerts import alert_summary
from spend.models import SpendEvent
from spend.services import spend_record

NOW = dt.datetime(2026, 3, 10, 15, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def frozen_now() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


class BrokenBackend(BaseEmailBackend):
    def send_messages(self, email_messages: Any) -> int:
        raise ConnectionRefusedError("the mail server is down")


@pytest.mark.django_db(transaction=True)
@override_settings(EMAIL_BACKEND="spend.tests.test_alerts.BrokenBackend")
def test_a_mail_server_that_is_down_does_not_fail_the_recording(
    caplog: pytest.LogCaptureFixture,
) -> None:
    campaign = CampaignFactory.create(brand=BrandFactory.create(daily_budget=Decimal("10")))

    result = spend_record(campaign_id=campaign.pk, amount=Decimal("10"))

    assert result.created
    assert SpendEvent.objects.count() == 1
    assert Alert.objects.count() == 3
    assert "the mail server is down" in caplog.text  # logged by the robust on-commit hook


@pytest.mark.django_db(transaction=True)
def test_each_new_alert_is_logged_and_mailed_once_committed(
    caplog: pytest.LogCaptureFixture,
) -> None:
    campaign = CampaignFactory.create(
        brand=BrandFactory.create(name="Acme", daily_budget=Decimal("10"))
    )
    caplog.set_level(logging.WARNING, logger="spend.alerts")

    spend_record(campaign_id=campaign.pk, amount=Decimal("6"))
    spend_record(campaign_id=campaign.pk, amount=Decimal("1"))  # 70%: nothing new

    assert [r.getMessage() for r in caplog.records if r.name == "spend.alerts"] == [
        f"Budget alert {Alert.objects.get().pk}: Acme reached 50% of its daily budget "
        "for 2026-03-10: 6.00 of 10.00 USD"
    ]
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["adops@localhost"]
    assert "Acme reached 50%" in mail.outbox[0].body


@pytest.mark.django_db
def test_a_budget_alert_names_the_budget_and_a_monthly_one_the_month() -> None:
    budget = BudgetFactory.create(
        name="Always-on", brand=BrandFactory.create(name="Acme", currency="EUR")
    )
    alert = AlertFactory.create(
        brand=budget.brand,
        budget=budget,
        scope="budget",
        period="month",
        period_start=dt.date(2026, 3, 1),
        threshold=80,
        cap=Decimal("1000"),
        spend=Decimal("812.5"),
    )
    assert alert_summary(alert) == (
        'Shared budget "Always-on" of Acme reached 80% of its monthly limit for 2026-03: '
        "812.50 of 1,000.00 EUR"
    )
