"""Benchmark of spend recording against a baseline of plain COPY, in one run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/adserver_spend \\
        .venv/bin/python benchmarks/spend_record.py [--events 3000] [--repeat 5]

Scenarios, all for campaigns of one brand (caps high enough that nothing
pauses, two shared budgets with limits, so every event touches six rollup
rows and the alert and cap checks run):

- single events through spend.services.spend_record, 1 process and 4 processes;
- batches of 1,000 through spend.services.spend_record_batch, 1 process and
  2 processes (each records --batch-events events, all for the same brand);
- baseline: the same number of rows COPYed with plain psycopg into a table of
  the ledger's shape (`LIKE spend_spendevent INCLUDING ALL`: same columns,
  defaults, checks and indexes; no foreign keys, no rollups);
- reference for single events: plain psycopg, 4 processes, each transaction
  one INSERT of a ledger row plus one UPDATE of a hot total (what pgbench
  measures with such a script): the floor that PostgreSQL's commit puts
  under anything that keeps one exact total per brand.

Every repetition starts from a fresh copy of a migrated template database
(<name>_spend_bench, after DATABASE_URL's database; the ledger refuses
DELETE, so it is dropped and created again). Workers are separate OS
processes that set up Django, warm up, and start together; the rate is
events / wall time from the start signal to the last worker's end. Figures
are medians over the repetitions, with ratios to
the COPY baseline measured in the same run.
"""

import argparse
import datetime as dt
import os
import platform
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg

ROOT = Path(__file__).resolve().parent.parent
# Named after DATABASE_URL's database, so that benchmarks run side by side do
# not drop each other's databases.
_BASE = urlsplit(os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/adserver")).path
BENCH_DB = f"{_BASE.strip('/') or 'adserver'}_spend_bench"
TEMPLATE_DB = f"{BENCH_DB}_template"
CAMPAIGNS = 20
BATCH = 1000


def _url_for(database: str) -> str:
    parts = urlsplit(os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/x"))
    return urlunsplit(parts._replace(path=f"/{database}"))


def _admin() -> psycopg.Connection[Any]:
    return psycopg.connect(_url_for("postgres"), autocommit=True)


def _amounts(seed: int, count: int) -> list[Decimal]:
    rng = random.Random(seed)
    return [Decimal(rng.randrange(10_000, 5_000_000)).scaleb(-6) for _ in range(count)]


# --- workers (separate processes) --------------------------------------------------


def _hot_row_worker(events: int, seed: int) -> None:
    """Plain psycopg: per transaction, one ledger-shaped INSERT and one hot-row UPDATE."""
    with psycopg.connect(_url_for(BENCH_DB)) as conn:
        amounts = _amounts(seed, events)
        now = dt.datetime.now(dt.UTC)
        conn.execute("SELECT 1")
        conn.commit()
        print("ready", flush=True)
        sys.stdin.readline()
        started = time.perf_counter()
        for i, amount in enumerate(amounts):
            conn.execute(
                "INSERT INTO bench_copy (campaign_id, brand_id, budget_id, kind, amount,"
                " occurred_at, local_date, recorded_at, source, event_id, campaign_was_serving)"
                " VALUES (1, 1, NULL, 'spend', %s, %s, %s, %s, 'bench', %s, true)",
                [amount, now, now.date(), now, f"hot-{seed}-{i}"],
            )
            conn.execute("UPDATE bench_hot SET amount = amount + %s WHERE id = 1", [amount])
            conn.commit()
        print(f"done {time.perf_counter() - started:.6f}", flush=True)


def _worker(mode: str, events: int, seed: int) -> None:
    # As in production: DEBUG off (no query log), so prepared statements are used.
    os.environ.update(
        DATABASE_URL=_url_for(BENCH_DB),
        DEBUG="0",
        SECRET_KEY="benchmark-only-secret-key",  # noqa: S106 - a throwaway process
        DJANGO_SETTINGS_MODULE="adserver.settings",
    )
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from campaigns.models import Campaign
    from spend.services import SpendInput, spend_record, spend_record_batch

    ids = list(Campaign.objects.order_by("id").values_list("id", flat=True))
    rng = random.Random(seed)
    amounts = _amounts(seed, events)
    campaigns = [rng.choice(ids) for _ in range(events)]
    keys = [f"bench-{seed}-{i}" for i in range(events)]
    spend_record(campaign_id=ids[0], amount=Decimal("0.01"), event_id=f"warm-{seed}")
    print("ready", flush=True)
    sys.stdin.readline()
    started = time.perf_counter()
    if mode == "single":
        for campaign, amount, key in zip(campaigns, amounts, keys, strict=True):
            spend_record(campaign_id=campaign, amount=amount, event_id=key)
    else:
        for offset in range(0, events, BATCH):
            spend_record_batch(
                [
                    SpendInput(campaign_id=c, amount=a, event_id=k)
                    for c, a, k in zip(
                        campaigns[offset : offset + BATCH],
                        amounts[offset : offset + BATCH],
                        keys[offset : offset + BATCH],
                        strict=True,
                    )
                ]
            )
    print(f"done {time.perf_counter() - started:.6f}", flush=True)


# --- the parent --------------------------------------------------------------------


def _run(cmd: list[str], database: str) -> None:
    env = {**os.environ, "DATABASE_URL": _url_for(database), "DEBUG": "1"}
    subprocess.run(cmd, cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)


def _prepare_template() -> None:
    with _admin() as admin:
        for name in (BENCH_DB, TEMPLATE_DB):
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{TEMPLATE_DB}"')
    _run([sys.executable, "manage.py", "migrate", "--no-input"], TEMPLATE_DB)
    seed = (
        "from decimal import Decimal as D\n"
        "from budgets.models import Brand, Budget\n"
        "from campaigns.models import Campaign\n"
        "b = Brand.objects.create(name='Bench', timezone='America/New_York',"
        " daily_budget=D('999999999'), monthly_budget=D('9999999999'))\n"
        "g = [Budget.objects.create(brand=b, name=f'Pool {i}', daily_limit=D('99999999'),"
        " monthly_limit=D('999999999')) for i in range(2)]\n"
        f"for i in range({CAMPAIGNS}):\n"
        "    pool = g[i % 3] if i % 3 < 2 else None\n"
        "    Campaign.objects.create(brand=b, name=f'C{i}', budget=pool)\n"
    )
    _run([sys.executable, "manage.py", "shell", "-c", seed], TEMPLATE_DB)


def _fresh_database() -> None:
    with _admin() as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{BENCH_DB}" TEMPLATE "{TEMPLATE_DB}"')


def _workers(mode: str, processes: int, events: int, repetition: int) -> float:
    """Events per second of `processes` workers recording `events` each."""
    _fresh_database()
    if mode == "hot-row":
        with psycopg.connect(_url_for(BENCH_DB)) as conn:
            conn.execute("CREATE TABLE bench_copy (LIKE spend_spendevent INCLUDING ALL)")
            conn.execute("CREATE TABLE bench_hot (id int PRIMARY KEY, amount numeric NOT NULL)")
            conn.execute("INSERT INTO bench_hot VALUES (1, 0)")
    procs = [
        subprocess.Popen(
            [sys.executable, __file__, "--worker", mode, "--events", str(events),
             "--seed", str(repetition * 100 + n)],
            cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )
        for n in range(processes)
    ]  # fmt: skip
    for proc in procs:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if line.strip() != "ready":
            raise RuntimeError(f"worker failed to start: {line!r}")
    started = time.perf_counter()
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.write("go\n")
        proc.stdin.flush()
    for proc in procs:
        assert proc.stdout is not None
        proc.stdout.readline()
        if proc.wait() != 0:
            raise RuntimeError("worker failed")
    elapsed = time.perf_counter() - started
    if mode != "hot-row":
        _check_totals(processes * events + processes)
    return processes * events / elapsed


def _one(conn: psycopg.Connection[Any], sql: str) -> tuple[Any, ...]:
    row: tuple[Any, ...] | None = conn.execute(sql).fetchone()
    assert row is not None
    return row


def _check_totals(expected_events: int) -> None:
    """The brand's rollups count every event once: a benchmark that loses one fails."""
    with psycopg.connect(_url_for(BENCH_DB)) as conn:
        count, amount = _one(
            conn, "SELECT sum(events_count), sum(amount) FROM spend_brandspend WHERE period='day'"
        )
        events = _one(conn, "SELECT count(*), sum(amount) FROM spend_spendevent")
    if (count, amount) != (expected_events, events[1]) or events[0] != expected_events:
        raise RuntimeError(f"totals do not match: {count}, {amount}, {events}")


def _copy_baseline(rows: int, repetition: int) -> float:
    """Rows per second COPYed into a table of the ledger's shape, plain psycopg."""
    _fresh_database()
    with psycopg.connect(_url_for(BENCH_DB)) as conn:
        conn.execute("CREATE TABLE bench_copy (LIKE spend_spendevent INCLUDING ALL)")
        brand_id, budget_id, campaign_id = _one(
            conn, "SELECT brand_id, budget_id, id FROM campaigns_campaign ORDER BY id LIMIT 1"
        )
        conn.commit()
        now = dt.datetime.now(dt.UTC)
        today = now.date()
        data = [
            (campaign_id, brand_id, budget_id, "spend", amount, now, today, now, "bench",
             f"copy-{repetition}-{i}", True)
            for i, amount in enumerate(_amounts(repetition, rows))
        ]  # fmt: skip
        started = time.perf_counter()
        with (
            conn.cursor() as cursor,
            cursor.copy(
                "COPY bench_copy (campaign_id, brand_id, budget_id, kind, amount, occurred_at,"
                " local_date, recorded_at, source, event_id, campaign_was_serving) FROM STDIN"
            ) as copy,
        ):
            for row in data:
                copy.write_row(row)
        conn.commit()
        return rows / (time.perf_counter() - started)


def _machine() -> str:
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    with psycopg.connect(_url_for("postgres")) as conn:
        (version,) = _one(conn, "SHOW server_version")
    return (
        f"nproc {os.cpu_count()}, CPU {cpu}, PostgreSQL {version}, Python "
        f"{platform.python_version()}, {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--events", type=int, default=3000, help="single events per process")
    parser.add_argument("--batch-events", type=int, default=50_000, help="events in batches")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--worker", choices=["single", "batch", "hot-row"])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--only", default="", help="run the scenarios whose name contains this (and the COPY)"
    )
    args = parser.parse_args()
    if args.worker == "hot-row":
        _hot_row_worker(args.events, args.seed)
        return
    if args.worker:
        _worker(args.worker, args.events, args.seed)
        return
    print(_machine())
    _prepare_template()
    scenarios: dict[str, Callable[[int], float]] = {
        "spend_record, 1 process": lambda r: _workers("single", 1, args.events, r),
        "spend_record, 4 processes": lambda r: _workers("single", 4, args.events, r),
        "reference: INSERT + hot UPDATE, 4 processes": lambda r: _workers(
            "hot-row", 4, args.events, r
        ),
        f"spend_record_batch of {BATCH:,}, 1 process": lambda r: _workers(
            "batch", 1, args.batch_events, r
        ),
        f"spend_record_batch of {BATCH:,}, 2 processes": lambda r: _workers(
            "batch", 2, args.batch_events, r
        ),
        "baseline: COPY, plain psycopg": lambda r: _copy_baseline(args.batch_events, r),
    }
    scenarios = {
        name: run
        for name, run in scenarios.items()
        if args.only in name or name.startswith("baseline: COPY")
    }
    results: dict[str, list[float]] = {name: [] for name in scenarios}
    for repetition in range(args.repeat):
        # Interleaved, so that a noisy neighbour slows every scenario alike.
        for name, scenario in scenarios.items():
            results[name].append(scenario(repetition))
    baseline = statistics.median(results["baseline: COPY, plain psycopg"])
    print(f"\n{'scenario':45} {'median ev/s':>12} {'min':>9} {'max':>9} {'vs COPY':>8}")
    for name, rates in results.items():
        median = statistics.median(rates)
        print(
            f"{name:45} {median:12,.0f} {min(rates):9,.0f} {max(rates):9,.0f}"
            f" {median / baseline:8.3f}"
        )
    with _admin() as admin:
        for name in (BENCH_DB, TEMPLATE_DB):
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
