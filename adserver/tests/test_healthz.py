import time
from pathlib import Path

import pytest
from django.test import Client
from django.test.utils import override_settings

from spend.tasks import tick_record

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def reconcile_ran() -> None:
    """A tick just finished: these tests are about the database and the broker."""
    tick_record("budget check", duration=0.01)


def test_healthz_reports_the_database_and_the_broker(client: Client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "database": "ok",
        "broker": "ok",
        "reconcile": "ok",
    }


@override_settings(CELERY_BROKER_URL="redis://127.0.0.1:1/0")
def test_healthz_names_an_unreachable_broker_quickly(client: Client) -> None:
    started = time.monotonic()
    response = client.get("/healthz")
    assert time.monotonic() - started < 3
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "down"
    assert body["down"] == ["broker"]
    assert body["broker"].startswith("down: ")
    assert body["database"] == "ok"


def test_healthz_checks_the_folder_of_the_embedded_broker(client: Client, tmp_path: Path) -> None:
    options = {"data_folder_in": str(tmp_path), "data_folder_out": str(tmp_path)}
    with override_settings(
        CELERY_BROKER_URL="filesystem://", CELERY_BROKER_TRANSPORT_OPTIONS=options
    ):
        assert client.get("/healthz").status_code == 200
    missing = {"data_folder_in": str(tmp_path / "gone"), "data_folder_out": str(tmp_path)}
    with override_settings(
        CELERY_BROKER_URL="filesystem://", CELERY_BROKER_TRANSPORT_OPTIONS=missing
    ):
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["down"] == ["broker"]


def test_healthz_answers_only_get(client: Client) -> None:
    assert client.post("/healthz").status_code == 405
