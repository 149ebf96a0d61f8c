"""The fault suite: real processes on a PostgreSQL cluster and a Redis of their own.

`pytest -m faults`. A throwaway cluster (initdb in a temporary folder, a free
port), a Redis on a free port, gunicorn with two workers and the production
settings (DEBUG off), a Celery worker and beat. Clients talk to 127.0.0.1
only, and every loop is bounded.
"""

import contextlib
import http.cookiejar
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
import pytest
from prometheus_client.parser import text_string_to_metric_families

from adserver.tests.fault_services import (
    MuteSmtp,
    PostgresCluster,
    Process,
    Redis,
    free_port,
    gunicorn,
    iterate,
    manage,
    project_env,
    wait_for,
)

pytestmark = [pytest.mark.faults, pytest.mark.slow]

SETUP = """
from decimal import Decimal
from django.contrib.auth.models import User
from knox.models import AuthToken
from budgets.services import brand_create
from campaigns.services import campaign_create
user = User.objects.create_superuser("ops", "ops@example.com", "correct-horse-battery")
token, key = AuthToken.objects.create(user=user)
big = brand_create(name="Big", timezone="UTC", currency="USD",
                   daily_budget=Decimal("1000000"), monthly_budget=Decimal("10000000"))
small = brand_create(name="Small", timezone="UTC", currency="USD",
                     daily_budget=Decimal("10"), monthly_budget=Decimal("1000"))
c1 = campaign_create(brand=big, name="Restart")
c2 = campaign_create(brand=small, name="Thresholds")
print(key, c1.pk, c2.pk, big.pk)
"""


@dataclass
class Stack:
    folder: Path
    cluster: PostgresCluster
    redis: Redis
    smtp: MuteSmtp
    web: Process
    env: dict[str, str]
    base: str
    token: str
    big_campaign: int
    small_campaign: int
    big_brand: int

    def process(self, name: str, *argv: str) -> Process:
        return Process(name, [sys.executable, "-m", "celery", "-A", "adserver", *argv], self.env,
                       self.folder)  # fmt: skip


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    # Not pytest's tmp_path: its parents are private to this user, and
    # PostgreSQL runs as its own user when the tests run as root.
    folder = Path(tempfile.mkdtemp(prefix="adserver-faults-"))
    folder.chmod(0o755)
    cluster = PostgresCluster(folder)
    cluster.start()
    redis = Redis(folder)
    redis.start()
    smtp = MuteSmtp()
    web = None
    try:
        cluster.createdb()
        env = project_env(
            DATABASE_URL=cluster.url,
            CELERY_BROKER_URL=redis.url,
            EMAIL_URL=f"smtp://127.0.0.1:{smtp.port}",
            EMAIL_TIMEOUT="2",
            HEALTH_RECONCILE_MAX_AGE_SECONDS="4",
            OUTAGE_RETRY_AFTER_SECONDS="1",
            RECONCILE_TICK_SECONDS="2",
        )
        manage(env, "migrate", "--no-input")
        manage(env, "collectstatic", "--no-input", "--verbosity", "0")  # DEBUG off: the manifest
        token, big, small, brand = manage(env, "shell", "-c", SETUP).splitlines()[-1].split()
        port = free_port()
        web = gunicorn(env, port, folder)
        web.start()
        base = f"http://127.0.0.1:{port}"
        wait_for(lambda: _status(base + "/healthz") in (200, 503), "gunicorn answering")
        yield Stack(folder, cluster, redis, smtp, web, env, base, token, int(big), int(small),
                    int(brand))  # fmt: skip
    finally:
        if web is not None:
            web.stop()
        smtp.close()
        redis.stop()
        cluster.stop("immediate")
        shutil.rmtree(folder, ignore_errors=True)


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=3) as response:  # noqa: S310 - 127.0.0.1
            return int(response.status)
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return 0


@dataclass
class Answer:
    status: int  # 0: the connection itself failed (a worker killed or restarting)
    seconds: float
    retry_after: str | None = None
    code: str | None = None


def _post_spend(stack: Stack, campaign: int, amount: str, event_id: str) -> Answer:
    body = json.dumps({"campaign": campaign, "amount": amount, "event_id": event_id}).encode()
    request = urllib.request.Request(  # noqa: S310 - 127.0.0.1
        stack.base + "/api/spend/", data=body, method="POST",
        headers={"Content-Type": "application/json", "Authorization": f"Token {stack.token}"},
    )  # fmt: skip
    started = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return Answer(int(response.status), time.monotonic() - started)
    except urllib.error.HTTPError as error:
        answer = Answer(error.code, time.monotonic() - started, error.headers["Retry-After"])
        with contextlib.suppress(ValueError):
            answer.code = json.loads(error.read()).get("code")
        return answer
    except OSError:
        return Answer(0, time.monotonic() - started)


def _query(stack: Stack, sql: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
    with psycopg.connect(stack.cluster.url.replace("postgres://", "postgresql://")) as conn:
        return conn.execute(sql, params or None).fetchall()


def _exactly_once(stack: Stack, prefix: str, brand: int, acknowledged: dict[str, Decimal]) -> None:
    """Every acknowledged event stored once, and the brand's rollups equal to its ledger."""
    rows = _query(
        stack,
        "SELECT event_id, amount FROM spend_spendevent WHERE event_id LIKE %s",
        [prefix + "%"],
    )
    assert len(rows) == len(acknowledged)  # none stored twice
    assert {event_id: Decimal(amount) for event_id, amount in rows} == acknowledged
    ledger = _query(stack, "SELECT sum(amount) FROM spend_spendevent WHERE brand_id = %s", [brand])[
        0
    ][0]
    rollup = _query(
        stack,
        "SELECT sum(amount) FROM spend_brandspend WHERE brand_id = %s AND period = 'day'",
        [brand],
    )[0][0]
    assert ledger == rollup


def _clients(
    stack: Stack, prefix: str, seen: list[tuple[float, Answer]], until: threading.Event
) -> tuple[list[threading.Thread], dict[str, Decimal]]:
    """Three feeds posting events until `until` is set, retrying each until it is acknowledged.

    They post for as long as the test breaks and mends things, so a fast machine
    cannot finish its events before the outage and see none of it.
    """
    acknowledged: dict[str, Decimal] = {}
    lock = threading.Lock()

    def client(number: int) -> None:
        for i in range(5000):
            if until.is_set():
                return
            event_id = f"{prefix}{number}-{i}"
            amount = Decimal("0.25") + Decimal(i % 100) / 100
            for _ in iterate(60, step=0.2):
                answer = _post_spend(stack, stack.big_campaign, str(amount), event_id)
                with lock:
                    seen.append((time.monotonic(), answer))
                if answer.status in (200, 201):
                    with lock:
                        acknowledged[event_id] = amount
                    break
            time.sleep(0.02)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(3)]
    for thread in threads:
        thread.start()
    return threads, acknowledged


def test_a_postgresql_restart_loses_nothing_and_answers_only_503(stack: Stack) -> None:
    seen: list[tuple[float, Answer]] = []
    until = threading.Event()
    clients, acknowledged = _clients(stack, "restart-", seen, until)
    time.sleep(1.5)
    stack.cluster.stop("fast")
    time.sleep(1.5)
    stack.cluster.start()
    back = time.monotonic()
    time.sleep(1.5)
    until.set()
    for thread in clients:
        thread.join(timeout=120)

    assert not any(thread.is_alive() for thread in clients)
    statuses = {answer.status for _, answer in seen}
    assert statuses <= {200, 201, 503}, statuses
    outage = [answer for _, answer in seen if answer.status == 503]
    assert outage  # the outage was seen, as a 503 with Retry-After and a JSON body
    assert {(a.retry_after, a.code) for a in outage} == {("1", "database_unavailable")}
    after = [answer.status for at, answer in seen if at > back + 0.5]
    assert after  # the clients went on after the restart...
    assert set(after) <= {200, 201}, after  # ...and were all served
    _exactly_once(stack, "restart-", stack.big_brand, acknowledged)
    assert "Traceback" not in stack.web.log()
    # /metrics adds up both gunicorn workers' counters.
    with urllib.request.urlopen(stack.base + "/metrics", timeout=10) as response:  # noqa: S310
        metrics = {
            (sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(response.read().decode())
            for sample in family.samples
        }
    assert metrics[("adserver_spend_events_recorded_total", ())] == len(acknowledged)
    unavailable = ("adserver_requests_refused_total", (("reason", "unavailable"),))
    assert metrics[unavailable] == len(outage)


def test_a_redis_restart_and_a_killed_web_worker_lose_nothing(stack: Stack) -> None:
    seen: list[tuple[float, Answer]] = []
    until = threading.Event()
    clients, acknowledged = _clients(stack, "kill-", seen, until)
    time.sleep(1)
    stack.redis.stop()
    time.sleep(1)
    workers = _children(stack.web)
    assert len(workers) == 2
    os.kill(workers[0], signal.SIGKILL)  # gunicorn starts another
    time.sleep(1)
    stack.redis.start()
    time.sleep(1)
    until.set()
    for thread in clients:
        thread.join(timeout=120)

    assert not any(thread.is_alive() for thread in clients)
    assert len(acknowledged) >= 30
    # A killed worker drops the connections it held (0); nothing answers 500.
    assert {answer.status for _, answer in seen} <= {0, 200, 201, 503}
    _exactly_once(stack, "kill-", stack.big_brand, acknowledged)
    wait_for(lambda: len(_children(stack.web)) == 2, "gunicorn replacing the worker")


def _children(process: Process) -> list[int]:
    assert process.process is not None
    found = subprocess.run(
        ["pgrep", "-P", str(process.process.pid)], capture_output=True, text=True, check=False
    )
    return [int(pid) for pid in found.stdout.split()]


def test_a_mute_mail_server_slows_no_spend_request_and_gets_the_alerts_later(
    stack: Stack,
) -> None:
    """Ten 1.00 events on a 10.00 daily cap cross 50%, 80% and 100%."""
    worker = stack.process("worker-mail", "worker", "--concurrency", "1", "--loglevel", "INFO")
    worker.start()
    try:
        timings = []
        for i in range(10):
            answer = _post_spend(stack, stack.small_campaign, "1.00", f"mute-{i}")
            assert answer.status == 201
            timings.append(answer.seconds)
        alerts = _query(stack, "SELECT count(*) FROM budgets_alert WHERE period = 'day'")[0][0]
        assert alerts == 3
        slowest = max(timings)
        print(
            "\nspend requests with a mute SMTP server (ms; 50%, 80% and 100% are the 5th, "
            f"8th and 10th): {[round(t * 1000) for t in timings]}; slowest {slowest * 1000:.0f}"
        )
        assert slowest < 1.0, timings

        # The worker tried, timed out (EMAIL_TIMEOUT=2) and kept the failure.
        failing = "SELECT count(*) FROM spend_alertdelivery WHERE last_error LIKE '%timed out%'"
        wait_for(lambda: _query(stack, failing)[0][0] >= 1, "a failed attempt", timeout=30)

        stack.smtp.answer()
        delivered = "SELECT count(*) FROM spend_alertdelivery WHERE delivered_at IS NOT NULL"
        wait_for(lambda: _query(stack, delivered)[0][0] == 3, "delivery once answering", 60)
        time.sleep(2)  # a late duplicate would show up here
        assert len(stack.smtp.messages) == 3
        subjects = sorted(
            re.search(rb"reached (\d+)%", m).group(1)  # type: ignore[union-attr]
            for m in stack.smtp.messages
        )
        assert subjects == [b"100", b"50", b"80"]
    finally:
        worker.stop(signal.SIGTERM)


def _login(stack: Stack) -> urllib.request.OpenerDirector:
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    form = opener.open(stack.base + "/login/", timeout=10).read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form)
    assert token is not None
    data = urllib.parse.urlencode(
        {"username": "ops", "password": "correct-horse-battery",
         "csrfmiddlewaretoken": token.group(1)}
    ).encode()  # fmt: skip
    login = urllib.request.Request(  # noqa: S310 - 127.0.0.1
        stack.base + "/login/", data=data, headers={"Referer": stack.base + "/login/"}
    )
    opener.open(login, timeout=10)
    return opener


def _reconcile(stack: Stack) -> str:
    try:
        with urllib.request.urlopen(stack.base + "/healthz", timeout=5) as response:  # noqa: S310
            return str(json.loads(response.read())["reconcile"])
    except urllib.error.HTTPError as error:
        return str(json.loads(error.read())["reconcile"])


BANNER = "campaigns are not resumed or paused by schedule until the worker and beat run"


def test_a_stopped_beat_turns_health_stale_and_shows_the_banner(stack: Stack) -> None:
    worker = stack.process("worker", "worker", "--concurrency", "1", "--loglevel", "INFO")
    beat = stack.process("beat", "beat", "--loglevel", "INFO",
                         "--schedule", str(stack.folder / "beat-schedule"))  # fmt: skip
    worker.start()
    beat.start()
    try:
        wait_for(lambda: _reconcile(stack) == "ok", "a first tick", timeout=30)
        opener = _login(stack)
        assert BANNER not in opener.open(stack.base + "/", timeout=10).read().decode()

        beat.stop()
        wait_for(lambda: _reconcile(stack) == "stale", "health turning stale", timeout=10)
        page = opener.open(stack.base + "/campaigns/", timeout=10).read().decode()
        assert "Budget checks last ran" in page
        assert BANNER in page

        beat.start()  # the next tick clears both
        wait_for(lambda: _reconcile(stack) == "ok", "the next tick", timeout=30)
        assert BANNER not in opener.open(stack.base + "/", timeout=10).read().decode()
    finally:
        beat.stop()
        worker.stop(signal.SIGTERM)


def test_sigterm_lets_gunicorn_finish_the_request_in_flight(stack: Stack) -> None:
    """A 5,000-event batch is in flight when gunicorn gets SIGTERM: it is answered and stored."""
    events = [
        {"campaign": stack.big_campaign, "amount": "0.01", "event_id": f"term-{i}"}
        for i in range(5000)
    ]
    body = json.dumps({"events": events}).encode()
    answers: list[int] = []

    def post() -> None:
        request = urllib.request.Request(  # noqa: S310 - 127.0.0.1
            stack.base + "/api/spend/batch/", data=body, method="POST",
            headers={"Content-Type": "application/json",
                     "Authorization": f"Token {stack.token}"},
        )  # fmt: skip
        try:
            with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
                answers.append(int(response.status))
        except urllib.error.HTTPError as error:
            answers.append(error.code)

    sender = threading.Thread(target=post)
    sender.start()
    time.sleep(0.3)  # the request is being served
    assert stack.web.process is not None
    stack.web.process.send_signal(signal.SIGTERM)
    sender.join(timeout=60)
    stack.web.process.wait(timeout=30)
    try:
        assert answers == [201]
        stored = _query(stack, "SELECT count(*) FROM spend_spendevent WHERE event_id LIKE 'term-%'")
        assert stored[0][0] == 5000
        assert stack.web.process.returncode == 0
    finally:
        stack.web.start()  # for any test after this one
        wait_for(lambda: _status(stack.base + "/healthz") in (200, 503), "gunicorn back")
