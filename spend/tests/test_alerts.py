"""Alerts: written with the spend, delivered by the worker once per channel.

A mail server or webhook that fails or never answers changes nothing in the
recording of spend and costs the request nothing: delivery runs after commit
in the worker, with a timeout, and failures are kept on the alert.
"""

import datetime as dt
import hashlib
import hmac
import json
import logging
import socket
import threading
import time
from collections.abc import Iterator
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.test import Client
from django.test.utils import override_settings

from budgets.models import Alert
from budgets.tests.factories import AlertFactory, BrandFactory, BudgetFactory
from campaigns.tests.factories import CampaignFactory
from spend.alerts import alert_summary, alerts_deliver_now, alerts_undelivered
from spend.models import AlertDelivery, AlertWebhook, SpendEvent
from spend.services import spend_record
from spend.tasks import alerts_deliver

NOW = dt.datetime(2026, 3, 10, 15, 0, tzinfo=dt.UTC)


@pytest.fixture
def frozen_now() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


class BrokenBackend(BaseEmailBackend):
    def send_messages(self, email_messages: Any) -> int:
        raise ConnectionRefusedError("the mail server is down")


@pytest.fixture
def silent_smtp() -> Iterator[int]:
    """An SMTP server that accepts connections and never says a word."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join()
    for conn in held:
        conn.close()
    server.close()


@pytest.fixture
def webhook_server() -> Iterator[tuple[str, list[tuple[dict[str, str], bytes]]]]:
    """A local HTTP endpoint recording every POST (headers, body)."""
    received: list[tuple[dict[str, str], bytes]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((dict(self.headers.items()), body))
            self.send_response(200)
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook", received
    server.shutdown()
    server.server_close()


@pytest.mark.django_db(transaction=True)
def test_a_mail_server_that_never_answers_costs_the_request_nothing(silent_smtp: int) -> None:
    campaign = CampaignFactory.create(brand=BrandFactory.create(daily_budget=Decimal("10")))
    with override_settings(
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=silent_smtp,
        EMAIL_TIMEOUT=3,
    ):
        started = time.monotonic()
        result = spend_record(campaign_id=campaign.pk, amount=Decimal("6"))
        elapsed = time.monotonic() - started
        assert result.created
        # Mail used to be sent in the request's on-commit hook: it waited for the server.
        assert elapsed < 1.5, elapsed

        # The worker's attempt times out, is kept as a failure, and is retried later.
        alert = Alert.objects.get()
        failed = alerts_deliver_now([alert.pk])
    assert [(a, c) for a, c, _ in failed.failed] == [(alert.pk, "email")]
    delivery = AlertDelivery.objects.get()
    assert (delivery.delivered_at, delivery.attempts) == (None, 1)
    assert "timed out" in delivery.last_error

    # Once mail flows again, the same alert is delivered, once.
    assert alerts_deliver_now([alert.pk]).delivered == [(alert.pk, "email")]
    assert alerts_deliver_now([alert.pk]).delivered == []
    assert len(mail.outbox) == 1
    delivery.refresh_from_db()
    assert delivery.delivered_at is not None
    assert (delivery.attempts, delivery.last_error) == (2, "")


@pytest.mark.django_db(transaction=True)
@override_settings(EMAIL_BACKEND="spend.tests.test_alerts.BrokenBackend")
def test_a_mail_server_that_is_down_does_not_fail_the_recording() -> None:
    campaign = CampaignFactory.create(brand=BrandFactory.create(daily_budget=Decimal("10")))

    result = spend_record(campaign_id=campaign.pk, amount=Decimal("10"))

    assert result.created
    assert SpendEvent.objects.count() == 1
    assert Alert.objects.count() == 3
    delivered = alerts_deliver_now(list(Alert.objects.values_list("id", flat=True)))
    assert len(delivered.failed) == 3
    assert {e for _, _, e in delivered.failed} == {
        "ConnectionRefusedError: the mail server is down"
    }


@pytest.mark.django_db(transaction=True)
def test_each_new_alert_is_logged_and_mailed_once(
    caplog: pytest.LogCaptureFixture, frozen_now: None
) -> None:
    campaign = CampaignFactory.create(
        brand=BrandFactory.create(name="Acme", daily_budget=Decimal("10"))
    )
    caplog.set_level(logging.WARNING, logger="spend.alerts")

    spend_record(campaign_id=campaign.pk, amount=Decimal("6"))
    spend_record(campaign_id=campaign.pk, amount=Decimal("1"))  # 70%: nothing new
    alert = Alert.objects.get()
    alerts_deliver_now([alert.pk])
    alerts_deliver_now([alert.pk])  # a second deliverer (a retry, the sweep) sends nothing

    assert next(r.getMessage() for r in caplog.records if r.name == "spend.alerts") == (
        f"Budget alert {alert.pk}: Acme reached 50% of its daily budget "
        "for 2026-03-10: 6.00 of 10.00 USD"
    )
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["adops@localhost"]
    assert "Acme reached 50%" in mail.outbox[0].body


@pytest.mark.django_db(transaction=True)
@override_settings(EMAIL_BACKEND="spend.tests.test_alerts.BrokenBackend")
def test_the_task_retries_with_backoff_and_the_page_shows_the_failure(
    staff_client: Client,
) -> None:
    alert = AlertFactory.create()

    # Eager apply runs the retries at once; each one is an attempt on the row.
    outcome = alerts_deliver.apply(args=([alert.pk],))

    assert outcome.failed()
    delivery = AlertDelivery.objects.get(alert=alert)
    assert delivery.delivered_at is None
    assert delivery.attempts == 12 + 1  # the first try and max_retries retries
    page = staff_client.get(f"/alerts/{alert.pk}/").content.decode()
    assert "failing" in page
    assert "ConnectionRefusedError: the mail server is down" in page
    assert f"<td>{delivery.attempts}</td>" in page


@pytest.mark.django_db(transaction=True)
def test_webhooks_get_slack_text_signed_once_globally_and_per_brand(
    webhook_server: tuple[str, list[tuple[dict[str, str], bytes]]], staff_client: Client
) -> None:
    url, received = webhook_server
    acme = BrandFactory.create(name="Acme", daily_budget=Decimal("10"))
    other = BrandFactory.create(name="Other", daily_budget=Decimal("10"))
    AlertWebhook.objects.create(brand=acme, url=url + "/acme")
    mine = AlertFactory.create(brand=acme)
    theirs = AlertFactory.create(brand=other)

    with override_settings(ALERT_WEBHOOK_URLS=[url], ALERT_WEBHOOK_SECRET="s3cret"):
        alerts_deliver_now([mine.pk, theirs.pk])
        alerts_deliver_now([mine.pk, theirs.pk])

    paths = sorted(json.loads(body)["alert"]["brand"] for _, body in received)
    assert paths == ["Acme", "Acme", "Other"]  # the global URL twice, Acme's own once
    for headers, body in received:
        assert headers["Content-Type"] == "application/json"
        expected = hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
        assert headers["X-Adserver-Signature"] == f"sha256={expected}"
        assert json.loads(body)["text"].startswith("Budget alert: ")
    assert set(AlertDelivery.objects.values_list("alert_id", "channel")) == {
        (mine.pk, "email"),
        (mine.pk, f"webhook {url}"),
        (mine.pk, f"webhook {url}/acme"),
        (theirs.pk, "email"),
        (theirs.pk, f"webhook {url}"),
    }
    assert not AlertDelivery.objects.filter(delivered_at__isnull=True).exists()
    page = staff_client.get(f"/alerts/{mine.pk}/").content.decode()
    assert page.count("delivered ") == 3


@pytest.mark.django_db(transaction=True)
def test_a_webhook_that_never_answers_times_out(silent_smtp: int) -> None:
    alert = AlertFactory.create()
    with override_settings(
        ALERT_EMAILS=[],
        ALERT_WEBHOOK_URLS=[f"http://127.0.0.1:{silent_smtp}/"],
        ALERT_WEBHOOK_TIMEOUT=0.5,
    ):
        started = time.monotonic()
        result = alerts_deliver_now([alert.pk])
    assert time.monotonic() - started < 3
    assert len(result.failed) == 1
    assert "timed out" in AlertDelivery.objects.get().last_error


@pytest.mark.django_db(transaction=True)
def test_the_sweep_finds_alerts_a_channel_lacks_and_leaves_the_young_ones() -> None:
    now = dt.datetime.now(dt.UTC)
    old = AlertFactory.create(raised_at=now - dt.timedelta(minutes=5))
    young = AlertFactory.create(raised_at=now - dt.timedelta(seconds=10))
    AlertFactory.create(raised_at=now - dt.timedelta(days=3))  # outside the window

    assert alerts_undelivered(now=now) == [old.pk]
    alerts_deliver_now([old.pk])
    assert alerts_undelivered(now=now) == []
    assert young.pk not in alerts_undelivered(now=now)

    # A channel added later (a brand's new webhook) makes the alert pending again.
    AlertWebhook.objects.create(brand=old.brand, url="http://127.0.0.1:9/never")
    assert alerts_undelivered(now=now) == [old.pk]


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
