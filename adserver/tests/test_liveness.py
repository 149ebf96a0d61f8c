"""A stopped beat or worker is seen at once: /healthz turns stale, the dashboard says so."""

import datetime as dt
from collections.abc import Iterator

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings

from spend.models import ReconcileTick
from spend.tasks import budget_check, dayparting

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 10, 15, 0, tzinfo=dt.UTC)
BANNER = "campaigns are not resumed or paused by schedule until the worker and beat run"


@pytest.fixture
def clock() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def test_every_tick_records_when_it_finished(clock: time_machine.Traveller) -> None:
    budget_check()
    clock.shift(dt.timedelta(minutes=1))
    dayparting()
    ticks = {t.name: t.finished_at for t in ReconcileTick.objects.all()}
    assert ticks == {"budget check": NOW, "dayparting": NOW + dt.timedelta(minutes=1)}


def test_healthz_turns_stale_when_no_tick_finished_lately(
    client: Client, clock: time_machine.Traveller
) -> None:
    assert client.get("/healthz").json()["reconcile"] == "stale"  # never ran
    budget_check()
    response = client.get("/healthz")
    assert (response.status_code, response.json()["reconcile"]) == (200, "ok")

    clock.shift(dt.timedelta(seconds=181))  # the default limit is 180 s
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["reconcile"] == "stale"
    assert response.json()["down"] == ["reconcile"]
    with override_settings(HEALTH_RECONCILE_MAX_AGE_SECONDS=600):
        assert client.get("/healthz").status_code == 200


def test_every_dashboard_page_shows_the_banner_while_stale(
    staff_client: Client, clock: time_machine.Traveller
) -> None:
    budget_check()
    for url in ("/", "/campaigns/", "/alerts/", "/spend/"):
        assert BANNER not in staff_client.get(url).content.decode()

    clock.shift(dt.timedelta(minutes=14))
    for url in ("/", "/campaigns/", "/alerts/", "/spend/"):
        page = staff_client.get(url).content.decode()
        assert (
            "Budget checks last ran 14 minutes ago: campaigns are not resumed or paused "
            "by schedule until the worker and beat run" in page
        ), url

    budget_check()  # beat and the worker are back: the next tick clears it
    assert BANNER not in staff_client.get("/").content.decode()


def test_the_banner_costs_one_query_and_none_on_the_login_page(
    client: Client, staff_client: Client
) -> None:
    with CaptureQueriesContext(connection) as queries:
        staff_client.get("/spend/")
    assert [q["sql"] for q in queries if "spend_reconciletick" in q["sql"]] != []
    assert len([q for q in queries if "spend_reconciletick" in q["sql"]]) == 1
    client.logout()
    with CaptureQueriesContext(connection) as queries:
        page = client.get("/login/").content.decode()
    assert not [q for q in queries if "spend_reconciletick" in q["sql"]]
    assert BANNER not in page
