"""The ticks on a real Celery worker, through the real Redis broker.

The worker is a subprocess (`celery -A adserver worker`) on the test
database, consuming a queue of its own; tasks are sent through Redis exactly
as beat sends them. No eager mode.
"""

import datetime as dt
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from budgets.periods import local_date
from budgets.tests.factories import BrandFactory
from campaigns.models import Campaign, CampaignStatusChange
from campaigns.tests.factories import CampaignFactory
from spend.tasks import brand_reconcile, budget_check, daily_reset, dayparting
from spend.tests.factories import BrandSpendFactory

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 30.0


def _wait_for(condition: Callable[[], bool], what: str, timeout: float = TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


@dataclass
class Worker:
    process: subprocess.Popen[bytes]
    queue: str
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def succeeded(self) -> int:
        return self.output().count(" succeeded in ")


def _test_database_url() -> str:
    db = connection.settings_dict
    credentials = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgres://{credentials}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


def _start_worker(log: Path, *, pool: str, concurrency: int) -> Worker:
    broker = settings.CELERY_BROKER_URL
    assert broker.startswith("redis://"), "these tests need the real Redis broker"
    queue = f"test-{uuid.uuid4().hex}"
    env = {**os.environ, "DATABASE_URL": _test_database_url(), "CELERY_BROKER_URL": broker}
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                sys.executable, "-m", "celery", "-A", "adserver", "worker",
                "--pool", pool, "--concurrency", str(concurrency), "--queues", queue,
                "--hostname", f"{queue}@%h", "--loglevel", "INFO",
                "--without-gossip", "--without-mingle", "--without-heartbeat",
            ],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    worker = Worker(process=process, queue=queue, log=log)
    _wait_for(lambda: "ready." in worker.output() or process.poll() is not None, "the worker")
    assert process.poll() is None, worker.output()
    return worker


def _stop(worker: Worker) -> None:
    if worker.process.poll() is None:
        worker.process.send_signal(signal.SIGTERM)
        try:
            worker.process.wait(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            worker.process.kill()
            worker.process.wait()
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    # Forget the worker's queue, and a killed worker's unacknowledged message.
    client.delete(worker.queue)
    for key in client.scan_iter(match=f"*{worker.queue}*"):
        client.delete(key)
    for key in client.scan_iter(match="_kombu.binding*"):
        if client.type(key) == b"set":
            stale = [m for m in client.smembers(key) if worker.queue.encode() in m]
            if stale:
                client.srem(key, *stale)
    for tag, payload in client.hgetall("unacked").items():
        if worker.queue.encode() in payload:
            client.hdel("unacked", tag)
            client.zrem("unacked_index", tag)


@pytest.fixture(scope="module")
def worker(django_db_setup: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Worker]:
    """One prefork worker with two processes, shared by the tests of this module."""
    log = tmp_path_factory.mktemp("worker") / "worker.log"
    started = _start_worker(log, pool="prefork", concurrency=2)
    yield started
    _stop(started)


def _local_today(tz: str) -> dt.date:
    return local_date(timezone.now(), tz)


def test_a_tick_sent_through_redis_changes_campaign_state_in_postgres(worker: Worker) -> None:
    brand = BrandFactory.create(timezone="Asia/Kolkata")
    later = CampaignFactory.create(
        brand=brand, starts_on=_local_today("Asia/Kolkata") + dt.timedelta(days=3)
    )
    dayparting.apply_async(queue=worker.queue)
    _wait_for(lambda: Campaign.objects.get(pk=later.pk).pause_reason == "not_started", "the tick")
    change = CampaignStatusChange.objects.get(campaign=later)
    assert (change.actor, change.new_reason) == ("system", "not_started")


def test_the_per_brand_task_reconciles_only_that_brand(worker: Worker) -> None:
    today = _local_today("UTC")
    spent, other = BrandFactory.create(), BrandFactory.create()
    for brand in (spent, other):
        BrandSpendFactory.create(brand=brand, period_start=today, amount=brand.daily_budget)
    held = CampaignFactory.create(brand=spent)
    untouched = CampaignFactory.create(brand=other)
    done = worker.succeeded()
    brand_reconcile.apply_async(args=(spent.pk,), queue=worker.queue)
    _wait_for(lambda: worker.succeeded() > done, "the task")
    assert Campaign.objects.get(pk=held.pk).budget_hold == "brand_daily_budget"
    assert Campaign.objects.get(pk=untouched.pk).budget_hold is None


def test_concurrent_ticks_on_the_worker_change_each_campaign_once(worker: Worker) -> None:
    today = _local_today("UTC")
    for _ in range(10):
        brand = BrandFactory.create()
        BrandSpendFactory.create(brand=brand, period_start=today, amount=brand.daily_budget)
        CampaignFactory.create_batch(3, brand=brand)
        CampaignFactory.create(brand=brand, starts_on=today + dt.timedelta(days=3))
    done = worker.succeeded()
    for _ in range(3):
        budget_check.apply_async(queue=worker.queue)
        dayparting.apply_async(queue=worker.queue)
    _wait_for(lambda: worker.succeeded() >= done + 6, "six ticks")
    assert "Traceback" not in worker.output()
    assert Campaign.objects.filter(status="active").count() == 0
    assert Campaign.objects.filter(pause_reason="not_started").count() == 10
    # Each transition is written once: whichever tick came second found it done.
    transitions = list(
        CampaignStatusChange.objects.values_list("campaign", "old_reason", "new_reason")
    )
    assert len(transitions) == len(set(transitions))
    budget_only = Campaign.objects.filter(starts_on__isnull=True)
    assert CampaignStatusChange.objects.filter(campaign__in=budget_only).count() == 30


def _blocked_tick_backend() -> tuple[int, bool] | None:
    with connection.cursor() as cursor:
        # Inside a transaction the activity view is a snapshot: refresh it.
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT pid, backend_xid IS NOT NULL FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid() "
            "AND wait_event_type = 'Lock'"
        )
        row = cursor.fetchone()
    return (row[0], row[1]) if row else None


def _backend_gone(pid: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", [pid])
        row = cursor.fetchone()
    return row is not None and row[0] == 0


def test_a_worker_killed_in_the_middle_of_a_tick_leaves_nothing_half_done(
    worker: Worker, tmp_path: Path
) -> None:
    today = _local_today("UTC")
    brand = BrandFactory.create()
    BrandSpendFactory.create(brand=brand, period_start=today, amount=brand.daily_budget)
    not_started = CampaignFactory.create(brand=brand, starts_on=today + dt.timedelta(days=3))
    over_budget = CampaignFactory.create(brand=brand)
    doomed = _start_worker(tmp_path / "doomed.log", pool="solo", concurrency=1)
    try:
        with transaction.atomic():
            # Hold the second campaign: the tick writes the first campaign's
            # schedule hold and history, then waits here for this lock.
            Campaign.objects.select_for_update().get(pk=over_budget.pk)
            daily_reset.apply_async(queue=doomed.queue)
            _wait_for(lambda: _blocked_tick_backend() is not None, "the tick to block")
            blocked = _blocked_tick_backend()
            assert blocked is not None
            pid, has_written = blocked
            assert has_written, "the tick should have written before it blocked"
            doomed.process.send_signal(signal.SIGKILL)
            doomed.process.wait(timeout=TIMEOUT)
        # The lock is released: the orphaned transaction notices its client is
        # gone and is rolled back.
        _wait_for(lambda: _backend_gone(pid), "the killed tick's transaction to end")
    finally:
        _stop(doomed)

    assert Campaign.objects.get(pk=not_started.pk).schedule_hold is None
    assert Campaign.objects.get(pk=over_budget.pk).budget_hold is None
    assert not CampaignStatusChange.objects.exists()

    # The next tick converges.
    done = worker.succeeded()
    daily_reset.apply_async(queue=worker.queue)
    _wait_for(lambda: worker.succeeded() > done, "the next tick")
    assert Campaign.objects.get(pk=not_started.pk).pause_reason == "not_started"
    assert Campaign.objects.get(pk=over_budget.pk).pause_reason == "brand_daily_budget"
    assert CampaignStatusChange.objects.count() == 2
