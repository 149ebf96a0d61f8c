"""The Celery app's configuration and the beat schedule in django-celery-beat.

Beat's scheduler (django-celery-beat's DatabaseScheduler) upserts
settings.CELERY_BEAT_SCHEDULE when it starts.
These tests start it the way `celery beat` does (the scheduler's constructor)
and check what an operator relies on: entries are updated in place, staff's
"disabled" survives a restart, and after an outage the ticks are due at once.

The scheduler commits and closes stale connections as it reads, so these
tests use the transactional database.
"""

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
import time_machine
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django_celery_beat.models import PeriodicTask

from adserver.beat import Scheduler
from adserver.celery import app as celery_app

pytestmark = pytest.mark.django_db(transaction=True)

DECLARED = {
    "budget check": ("spend.tasks.budget_check", "*", "*"),
    "dayparting": ("spend.tasks.dayparting", "*", "*"),
    "alert delivery sweep": ("spend.tasks.alerts_sweep", "*", "*"),
    "daily reset": ("spend.tasks.daily_reset", "0,15,30,45", "*"),
    "monthly reset": ("spend.tasks.monthly_reset", "0,15,30,45", "1,28-31"),
    "pacing alerts": ("spend.tasks.pacing_alerts", "5,20,35,50", "*"),
}


@pytest.fixture
def start_beat() -> Iterator[Any]:
    started: list[Any] = []

    def start() -> Any:
        scheduler = Scheduler(app=celery_app)
        started.append(scheduler)
        return scheduler

    yield start
    for scheduler in started:
        # Its finaliser would otherwise sync at some later garbage collection,
        # inside whatever test runs then.
        scheduler._finalize.cancel()


def test_the_worker_settings_survive_a_lost_worker_and_never_redeliver_a_running_task() -> None:
    conf = celery_app.conf
    assert (conf.task_serializer, conf.accept_content) == ("json", ["json"])
    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    assert conf.task_soft_time_limit < conf.task_time_limit
    if conf.broker_url.startswith("redis"):
        assert conf.broker_transport_options["visibility_timeout"] > conf.task_time_limit
    assert conf.beat_scheduler == "adserver.beat:Scheduler"
    # A beat killed right after a send must not send it again on restart.
    assert conf.beat_sync_every == 1
    assert (str(conf.timezone), conf.enable_utc) == ("UTC", True)


def test_every_scheduled_task_is_registered() -> None:
    celery_app.loader.import_default_modules()
    for entry in settings.CELERY_BEAT_SCHEDULE.values():
        assert entry["task"] in celery_app.tasks


def test_starting_beat_writes_the_declared_schedule_in_utc(start_beat: Any) -> None:
    start_beat()
    rows = {
        task.name: (task.task, task.crontab.minute, task.crontab.day_of_month)
        for task in PeriodicTask.objects.select_related("crontab")
    }
    assert rows == DECLARED  # and no celery.backend_cleanup: there is no result backend
    assert {str(t.crontab.timezone) for t in PeriodicTask.objects.select_related("crontab")} == {
        "UTC"
    }
    assert set(PeriodicTask.objects.values_list("expire_seconds", flat=True)) == {50, 600}


def test_restarting_beat_updates_in_place_and_keeps_what_staff_disabled(
    start_beat: Any, staff_client: Client
) -> None:
    start_beat()
    ids = dict(PeriodicTask.objects.values_list("name", "id"))
    last_run = dt.datetime(2026, 3, 10, 12, 0, tzinfo=dt.UTC)
    PeriodicTask.objects.filter(name="budget check").update(last_run_at=last_run)
    # Staff disable the dayparting entry with the admin's action.
    response = staff_client.post(
        reverse("admin:django_celery_beat_periodictask_changelist"),
        {"action": "disable_tasks", "_selected_action": [ids["dayparting"]]},
    )
    assert response.status_code == 302
    assert PeriodicTask.objects.get(name="dayparting").enabled is False

    restarted = start_beat()

    assert dict(PeriodicTask.objects.values_list("name", "id")) == ids  # not recreated
    assert PeriodicTask.objects.get(name="dayparting").enabled is False
    assert PeriodicTask.objects.get(name="budget check").last_run_at == last_run
    assert "dayparting" not in restarted.schedule
    assert "budget check" in restarted.schedule


def test_after_beat_was_down_three_hours_every_tick_is_due_at_once(start_beat: Any) -> None:
    start_beat()
    back_up = dt.datetime(2026, 3, 11, 1, 30, tzinfo=dt.UTC)
    PeriodicTask.objects.update(last_run_at=back_up - dt.timedelta(hours=3))
    with time_machine.travel(back_up, tick=False):
        entries = start_beat().schedule
        due = {name: entries[name].is_due()[0] for name in entries}
    assert due == {
        "budget check": True,
        "dayparting": True,
        "alert delivery sweep": True,
        "daily reset": True,
        "monthly reset": False,  # the 11th: not a day a local month starts on
        "pacing alerts": True,
    }
