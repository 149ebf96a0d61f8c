"""A database that cannot be reached answers 503 with Retry-After, never a 500.

The outage is real: the process's connection points at a port where nothing
listens (or its server process is terminated), not a mock.
"""

from collections.abc import Iterator
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.db import close_old_connections, connection
from django.test import Client
from prometheus_client import REGISTRY
from rest_framework.test import APIClient

from adserver.api.tests.conftest import token_client
from budgets.tests.factories import BrandFactory
from campaigns.tests.factories import CampaignFactory
from spend.models import SpendEvent

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def database_down() -> Iterator[None]:
    """The default connection's server goes away until the fixture ends."""
    saved = connection.settings_dict["PORT"]
    connection.close()
    connection.settings_dict["PORT"] = "1"  # nothing listens there
    yield
    connection.close()
    connection.settings_dict["PORT"] = saved


def _post(api: APIClient, campaign_id: int, event_id: str) -> object:
    return api.post(
        "/api/spend/",
        {"campaign": campaign_id, "amount": "1.50", "event_id": event_id},
        format="json",
    )


def _refused(reason: str) -> float:
    return REGISTRY.get_sample_value("adserver_requests_refused_total", {"reason": reason}) or 0.0


def test_the_api_answers_503_json_with_retry_after_and_works_once_back(
    staff_user: User,
) -> None:
    api = token_client(staff_user)
    campaign = CampaignFactory.create(brand=BrandFactory.create(daily_budget=Decimal("100")))
    before = _refused("unavailable")
    saved = connection.settings_dict["PORT"]
    connection.close()
    connection.settings_dict["PORT"] = "1"
    try:
        response = _post(api, campaign.pk, "during")
    finally:
        connection.settings_dict["PORT"] = saved
    assert response.status_code == 503  # type: ignore[attr-defined]
    assert response["Retry-After"] == "5"  # type: ignore[index]
    assert response.json() == {  # type: ignore[attr-defined]
        "detail": "The database is unreachable; retry after the delay given.",
        "code": "database_unavailable",
        "retry_after": 5,
    }
    assert _refused("unavailable") == before + 1

    # Back: the very next request succeeds.
    close_old_connections()
    assert _post(api, campaign.pk, "after").status_code == 201  # type: ignore[attr-defined]
    assert list(SpendEvent.objects.values_list("event_id", flat=True)) == ["after"]


def test_the_dashboard_answers_a_plain_503_page(staff_client: Client, database_down: None) -> None:
    response = staff_client.get("/campaigns/")
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    body = response.content.decode()
    assert "Temporarily unavailable" in body
    assert "Traceback" not in body
    assert "OperationalError" not in body


def test_a_pooled_connection_the_server_dropped_does_not_fail_the_next_spend(
    staff_user: User,
) -> None:
    """A restart of PostgreSQL ends every pooled connection; the next request reconnects."""
    api = token_client(staff_user)
    campaign = CampaignFactory.create(brand=BrandFactory.create(daily_budget=Decimal("100")))
    assert _post(api, campaign.pk, "first").status_code == 201  # type: ignore[attr-defined]
    pid = connection.connection.info.backend_pid
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    # Another session ends this process's connection, as a server restart does.
    other = connection.copy()
    with other.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    other.close()

    close_old_connections()  # what Django does when the next request starts
    response = _post(api, campaign.pk, "second")

    assert response.status_code == 201, response.content  # type: ignore[attr-defined]
    assert SpendEvent.objects.count() == 2
