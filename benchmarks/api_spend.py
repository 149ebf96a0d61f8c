"""HTTP spend recording: gunicorn on loopback, several keep-alive client connections.

    .venv/bin/python benchmarks/api_spend.py [--seconds 8] [--rounds 3] [--connections 6]

Measures, in one run and on one dedicated database (adserver_api_bench,
recreated each time; override with BENCH_DATABASE_URL):

- GET /healthz: the HTTP floor (gunicorn + Django + one SELECT + a broker
  PING), same clients;
- POST /api/spend/: single events (token auth, validation, spend_record);
- POST /api/spend/batch/: 1,000-event batches;
- spend_record / spend_record_batch called in-process (no HTTP), one thread.

Each figure is the median of --rounds rounds; ratios are against the
baselines of the same run. Afterwards every brand's rollups are checked
against the sum of the events the clients were told were stored: a lost
update would show as a difference.
"""

import argparse
import http.client
import json
import multiprocessing as mp
import os
import platform
import secrets
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCH_DB = os.environ.get(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/adserver_api_bench"
)
HOST = "127.0.0.1"
BATCH_SIZE = 1000
BRANDS = 40
CAMPAIGNS_PER_BRAND = 5


def _configure_environment() -> None:
    os.environ.update(
        {
            "DATABASE_URL": BENCH_DB,
            "DEBUG": "0",
            "SECRET_KEY": secrets.token_urlsafe(32),
            "ALLOWED_HOSTS": HOST,
            "SECURE_SSL_REDIRECT": "0",
            "SECURE_HSTS_SECONDS": "0",
            "LOG_LEVEL": "WARNING",
            # The benchmark measures the server, not the throttle.
            "SPEND_THROTTLE_RATE": "100000000/min",
            # The spend path never uses the broker (a test proves it with the
            # broker down); /healthz, the baseline, pings it, so give it one.
            "CELERY_BROKER_URL": os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/7"),
            "DJANGO_SETTINGS_MODULE": "adserver.settings",
        }
    )
    sys.path.insert(0, str(ROOT))


def _recreate_database() -> None:
    import psycopg

    name = BENCH_DB.rsplit("/", 1)[1]
    admin_url = BENCH_DB.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def _seed() -> tuple[str, list[int]]:
    """Brands with caps high enough to stay serving, their campaigns, a token."""
    from django.contrib.auth.models import User
    from django.core.management import call_command
    from rest_framework.authtoken.models import Token

    from budgets.services import brand_create, budget_create
    from campaigns.services import campaign_create

    call_command("migrate", verbosity=0)
    campaign_ids = []
    for b in range(BRANDS):
        brand = brand_create(
            name=f"Bench brand {b}",
            timezone=["UTC", "Asia/Kolkata", "America/New_York", "Europe/Oslo"][b % 4],
            daily_budget=Decimal("900000000.00"),
            monthly_budget=Decimal("9000000000.00"),
        )
        budget = budget_create(brand=brand, name="Shared", daily_limit=Decimal("800000000.00"))
        for c in range(CAMPAIGNS_PER_BRAND):
            campaign = campaign_create(
                brand=brand, budget=budget if c % 2 else None, name=f"Campaign {c}"
            )
            campaign_ids.append(campaign.pk)
    user = User.objects.create_superuser("bench", "bench@example.com", secrets.token_urlsafe())
    return Token.objects.create(user=user).key, campaign_ids


# --- clients -------------------------------------------------------------------------


@dataclass
class Job:
    kind: str  # "healthz", "single" or "batch"
    port: int
    token: str
    campaign_ids: list[int]
    client: int
    round: int
    start_at: float
    stop_at: float


def _event(job: Job, n: int, i: int = 0) -> dict[str, Any]:
    campaign = job.campaign_ids[(n * 7919 + i * 104729 + job.client) % len(job.campaign_ids)]
    return {
        "campaign": campaign,
        "amount": f"{(n + i) % 97 + 1}.{(n * 31 + i) % 100:02d}",
        "event_id": f"{job.kind}-r{job.round}-c{job.client}-{n}-{i}",
    }


def _client(job: Job) -> tuple[int, int, Decimal, list[float]]:
    """Send requests until stop_at on one keep-alive connection.

    Returns (requests answered as expected, events stored, their total
    amount, latencies in ms).
    """
    conn = http.client.HTTPConnection(HOST, job.port, timeout=60)
    headers = {"Authorization": f"Token {job.token}", "Content-Type": "application/json"}
    done = events = 0
    total = Decimal("0")
    latencies: list[float] = []
    while time.time() < job.start_at:
        time.sleep(0.001)
    n = 0
    while time.time() < job.stop_at:
        n += 1
        if job.kind == "healthz":
            method, path, body, expect = "GET", "/healthz", None, 200
        elif job.kind == "single":
            event = _event(job, n)
            method, path, body, expect = "POST", "/api/spend/", json.dumps(event), 201
        else:
            batch = [_event(job, n, i) for i in range(BATCH_SIZE)]
            body = json.dumps({"events": batch})
            method, path, expect = "POST", "/api/spend/batch/", 201
        began = time.perf_counter()
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        payload = response.read()
        latencies.append((time.perf_counter() - began) * 1000)
        if response.status != expect:
            raise RuntimeError(f"{method} {path}: {response.status} {payload[:300]!r}")
        done += 1
        if job.kind == "single":
            events += 1
            total += Decimal(event["amount"])
        elif job.kind == "batch":
            events += BATCH_SIZE
            total += sum(Decimal(e["amount"]) for e in batch)
    conn.close()
    return done, events, total, latencies


@dataclass
class Round:
    requests_per_s: float
    events_per_s: float
    events: int
    amount: Decimal
    p50_ms: float
    p99_ms: float


def _http_round(
    pool: Any, kind: str, rnd: int, args: argparse.Namespace, ctx: dict[str, Any]
) -> Round:
    start = time.time() + 0.5
    jobs = [
        Job(kind, args.port, ctx["token"], ctx["campaigns"], c, rnd, start, start + args.seconds)
        for c in range(args.connections)
    ]
    results = pool.map(_client, jobs)
    done = sum(r[0] for r in results)
    events = sum(r[1] for r in results)
    latencies = sorted(x for r in results for x in r[3])
    return Round(
        requests_per_s=done / args.seconds,
        events_per_s=events / args.seconds,
        events=events,
        amount=sum((r[2] for r in results), Decimal("0")),
        p50_ms=latencies[len(latencies) // 2],
        p99_ms=latencies[int(len(latencies) * 0.99)],
    )


# --- in-process baseline -------------------------------------------------------------------


def _direct_round(kind: str, rnd: int, args: argparse.Namespace, ctx: dict[str, Any]) -> Round:
    from spend.services import SpendInput, spend_record, spend_record_batch

    job = Job(f"direct-{kind}", 0, "", ctx["campaigns"], 999, rnd, 0, 0)
    stop = time.time() + args.seconds
    events = n = 0
    total = Decimal("0")
    latencies = []
    while time.time() < stop:
        n += 1
        began = time.perf_counter()
        if kind == "single":
            e = _event(job, n)
            spend_record(
                campaign_id=e["campaign"], amount=Decimal(e["amount"]), event_id=e["event_id"]
            )
            events += 1
            total += Decimal(e["amount"])
        else:
            batch = [_event(job, n, i) for i in range(BATCH_SIZE)]
            spend_record_batch(
                [
                    SpendInput(
                        campaign_id=e["campaign"],
                        amount=Decimal(e["amount"]),
                        event_id=e["event_id"],
                    )
                    for e in batch
                ]
            )
            events += BATCH_SIZE
            total += sum(Decimal(e["amount"]) for e in batch)
        latencies.append((time.perf_counter() - began) * 1000)
    latencies.sort()
    return Round(
        requests_per_s=n / args.seconds,
        events_per_s=events / args.seconds,
        events=events,
        amount=total,
        p50_ms=latencies[len(latencies) // 2],
        p99_ms=latencies[int(len(latencies) * 0.99)],
    )


# --- the run -----------------------------------------------------------------------------------


def _start_gunicorn(args: argparse.Namespace) -> subprocess.Popen[bytes]:
    command = [
        str(ROOT / ".venv/bin/gunicorn"),
        "adserver.wsgi",
        "--bind",
        f"{HOST}:{args.port}",
        "--workers",
        str(args.workers),
        "--worker-class",
        "gthread",
        "--threads",
        str(args.threads),
        "--keep-alive",
        "30",
        "--log-level",
        "warning",
    ]
    server = subprocess.Popen(command, cwd=ROOT, env=os.environ.copy())
    for _ in range(100):
        try:
            conn = http.client.HTTPConnection(HOST, args.port, timeout=1)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return server
        except OSError:
            pass
        time.sleep(0.2)
    server.terminate()
    raise RuntimeError("gunicorn did not answer /healthz")


def _check_no_lost_updates(expected: Decimal, expected_events: int) -> str:
    from django.db.models import Sum

    from spend.models import BrandSpend, SpendEvent

    stored_events = SpendEvent.objects.count()
    ledger = SpendEvent.objects.aggregate(total=Sum("amount"))["total"] or Decimal("0")
    rollups = BrandSpend.objects.filter(period="month").aggregate(total=Sum("amount"))["total"]
    ok = stored_events == expected_events and ledger == expected == rollups
    return (
        f"{'OK' if ok else 'MISMATCH'}: {stored_events:,} events stored of {expected_events:,} "
        f"acknowledged; ledger {ledger}, brand month rollups {rollups}, acknowledged {expected}"
    )


def _machine() -> str:
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        pg = cursor.fetchone()[0]
    return (
        f"nproc {os.cpu_count()}, {cpu}, PostgreSQL {pg}, Python {platform.python_version()}, "
        f"{time.strftime('%Y-%m-%d')}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=6)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()

    _configure_environment()
    _recreate_database()
    import django

    django.setup()
    token, campaigns = _seed()
    ctx = {"token": token, "campaigns": campaigns}
    from django.db import connection

    connection.close()

    print(f"machine: {_machine()}")
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(
        f"gunicorn: {args.workers} workers x {args.threads} threads (gthread); "
        f"{args.connections} client processes, keep-alive; "
        f"{args.seconds:g} s x {args.rounds} rounds"
    )
    # Rounds interleave the scenarios, so a neighbour's load on this shared
    # machine falls on all of them alike rather than on one.
    results: dict[str, list[Round]] = {
        name: [] for name in ("http healthz", "http single", "http batch")
    }
    results.update({"direct single": [], "direct batch": []})
    server = _start_gunicorn(args)
    try:
        with mp.get_context("spawn").Pool(args.connections) as pool:
            for rnd in range(args.rounds):
                for kind in ("healthz", "single", "batch"):
                    results[f"http {kind}"].append(_http_round(pool, kind, rnd, args, ctx))
                for kind in ("single", "batch"):
                    results[f"direct {kind}"].append(_direct_round(kind, rnd, args, ctx))
                    connection.close()
    finally:
        server.terminate()
        server.wait(timeout=30)

    def median(name: str, attribute: Callable[[Round], float]) -> float:
        return statistics.median(attribute(r) for r in results[name])

    header = f"{'scenario':<14} {'requests/s':>11} {'events/s':>10} {'p50 ms':>8} {'p99 ms':>8}"
    print(f"\n{header}  rounds (events/s)")
    for name, rounds in results.items():
        print(
            f"{name:<14} {median(name, lambda r: r.requests_per_s):>11,.0f} "
            f"{median(name, lambda r: r.events_per_s):>10,.0f} "
            f"{median(name, lambda r: r.p50_ms):>8.2f} {median(name, lambda r: r.p99_ms):>8.2f}  "
            + ", ".join(f"{r.events_per_s:,.0f}" for r in rounds)
        )
    single = median("http single", lambda r: r.events_per_s)
    batch = median("http batch", lambda r: r.events_per_s)
    healthz = median("http healthz", lambda r: r.requests_per_s)
    direct_single = median("direct single", lambda r: r.events_per_s)
    direct_batch = median("direct batch", lambda r: r.events_per_s)
    print(
        f"\nratios: http single / healthz = {single / healthz:.2f}; "
        f"http single / direct single = {single / direct_single:.2f}; "
        f"http batch / direct batch = {batch / direct_batch:.2f}; "
        f"http batch / http single = {batch / single:.1f}"
    )
    print(
        f"targets: single >= 800 events/s: {single:,.0f}; batches >= 30,000 events/s: {batch:,.0f}"
    )
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    acknowledged = [r for name, rs in results.items() if name != "http healthz" for r in rs]
    print(
        _check_no_lost_updates(
            sum((r.amount for r in acknowledged), Decimal("0")), sum(r.events for r in acknowledged)
        )
    )


if __name__ == "__main__":
    main()
