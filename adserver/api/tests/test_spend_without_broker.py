"""Recording spend over the API needs the database only: with the broker down it
still records and still enforces caps (enforcement is in the transaction)."""

from collections.abc import Iterator
from decimal import Decimal

import kombu.pools
import pytest
from django.core import mail
from kombu.exceptions import OperationalError
from rest_framework.test import APIClient

from adserver.celery import app as celery_app
from budgets.models import Alert
from budgets.tests.factories import BrandFactory
from campaigns.models import Campaign
from campaigns.tests.factories import CampaignFactory
from spend.alerts import alerts_undelivered
from spend.models import BrandSpend, SpendEvent

CLOSED_PORT_BROKER = "redis://127.0.0.1:1/0"


def _drop_broker_connections() -> None:
    # Pooled connections would still reach the real broker. Celery's app pool
    # is kombu's process-wide pool for the URL, so closing it alone would leave
    # a closed pool in kombu's registry for every later test of this process
    # ("Acquire on closed pool"): reset the registry, then Celery's references
    # (kept in private attributes; it has no public way to drop them).
    kombu.pools.reset()
    setattr(celery_app, "_pool", None)  # noqa: B010
    setattr(celery_app.amqp, "_producer_pool", None)  # noqa: B010


@pytest.fixture
def broker_down(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """CELERY_BROKER_URL at a closed port (Celery reads the variable first)."""
    monkeypatch.setenv("CELERY_BROKER_URL", CLOSED_PORT_BROKER)
    monkeypatch.setattr(celery_app.conf, "broker_url", CLOSED_PORT_BROKER)
    _drop_broker_connections()
    yield
    monkeypatch.undo()
    _drop_broker_connections()


@pytest.mark.django_db(transaction=True)  # commits for real: on-commit work runs too
@pytest.mark.usefixtures("broker_down")
def test_spend_is_recorded_and_enforced_while_the_broker_is_down(
    api: APIClient, caplog: pytest.LogCaptureFixture
) -> None:
    with pytest.raises(OperationalError), celery_app.connection_for_write() as connection:
        connection.ensure_connection(max_retries=1)  # the broker really is unreachable

    brand = BrandFactory.create(daily_budget=Decimal("10"))
    campaign, sibling = CampaignFactory.create_batch(2, brand=brand)

    single = api.post("/api/spend/", {"campaign": campaign.pk, "amount": "6"}, format="json")
    events = [{"campaign": sibling.pk, "amount": "2", "event_id": f"b{i}"} for i in range(3)]
    batch = api.post("/api/spend/batch/", {"events": events}, format="json")

    assert (single.status_code, batch.status_code) == (201, 201)
    assert SpendEvent.objects.count() == 4
    assert BrandSpend.objects.get(brand=brand, period="day").amount == Decimal("12")
    assert set(Campaign.objects.values_list("pause_reason", flat=True)) == {"brand_daily_budget"}
    # The alerts could not be queued: logged, and left to the sweep.
    assert "not queued (the broker is unreachable)" in caplog.text
    alerts = sorted(Alert.objects.values_list("id", flat=True))
    assert len(alerts) == 3
    assert alerts_undelivered(settle_seconds=0) == alerts
    assert mail.outbox == []
