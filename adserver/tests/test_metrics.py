"""/metrics: Prometheus text, for internal addresses or a token only."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.test.utils import override_settings
from prometheus_client.parser import text_string_to_metric_families

from adserver.api.tests.conftest import token_client
from budgets.tests.factories import AlertFactory, BrandFactory
from campaigns.tests.factories import CampaignFactory
from spend.models import AlertDelivery
from spend.tasks import budget_check

pytestmark = pytest.mark.django_db


def _samples(client: Client, **extra: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = client.get("/metrics", **extra)  # type: ignore[arg-type]
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=0.0.4")
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(response.content.decode())
        for s in family.samples
    }


def test_outside_addresses_without_the_token_get_nothing(client: Client) -> None:
    assert client.get("/metrics", REMOTE_ADDR="203.0.113.9").status_code == 404
    with override_settings(METRICS_TOKEN="t0ken"):
        assert client.get("/metrics", REMOTE_ADDR="203.0.113.9").status_code == 404
        wrong = client.get("/metrics", REMOTE_ADDR="203.0.113.9", HTTP_AUTHORIZATION="Bearer nope")
        assert wrong.status_code == 404
        right = client.get("/metrics", REMOTE_ADDR="203.0.113.9", HTTP_AUTHORIZATION="Bearer t0ken")
        assert right.status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 200


def test_spend_refusals_ticks_alerts_and_failures_are_counted(
    client: Client, staff_user: User
) -> None:
    api = token_client(staff_user)
    campaign = CampaignFactory.create(brand=BrandFactory.create(daily_budget=Decimal("100")))
    before = _samples(client)

    assert (
        api.post(
            "/api/spend/", {"campaign": campaign.pk, "amount": "2.50"}, format="json"
        ).status_code
        == 201
    )
    assert (
        api.post(
            "/api/spend/", {"campaign": campaign.pk, "amount": "-1"}, format="json"
        ).status_code
        == 400
    )
    budget_check()
    alert = AlertFactory.create()
    AlertDelivery.objects.create(alert=alert, channel="email", attempts=3, last_error="timed out")
    AlertDelivery.objects.create(alert=alert, channel="webhook http://x", attempts=2)
    AlertDelivery.objects.filter(channel="webhook http://x").update(delivered_at=alert.raised_at)

    after = _samples(client)

    def grew(name: str, *labels: tuple[str, str]) -> float:
        return after[(name, labels)] - before.get((name, labels), 0.0)

    assert grew("adserver_spend_events_recorded_total") == 1
    assert grew("adserver_spend_amount_recorded_total") == pytest.approx(2.5)
    assert grew("adserver_requests_refused_total", ("reason", "invalid")) == 1
    assert (
        "adserver_reconcile_last_success_timestamp_seconds",
        (("task", "budget check"),),
    ) in after
    assert ("adserver_reconcile_last_duration_seconds", (("task", "budget check"),)) in after
    assert after[("adserver_reconcile_holds_changed_total", (("task", "budget check"),))] == 0
    assert after[("adserver_alerts_raised_total", ())] == 1
    assert after[("adserver_alert_delivery_failures_total", (("channel", "email"),))] == 3
    assert after[("adserver_alert_delivery_failures_total", (("channel", "webhook"),))] == 1
    assert after[("adserver_alert_deliveries_pending", (("channel", "email"),))] == 1
    assert ("adserver_celery_queue_length", ()) in after
