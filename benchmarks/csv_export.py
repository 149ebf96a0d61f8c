"""Time and peak memory of the spend log's CSV export (`/spend/?format=csv`).

Builds, in a fresh PostgreSQL database (dropped and created again: the
ledger refuses DELETE), 20 brands in as many zones, 2,000 campaigns and N
spend events (default 1,000,000) spread over 45 days. Then a separate
process logs in as an agency admin, downloads the whole log as CSV through
Django's test client, reading the stream piece by piece as a browser would,
and prints the rows, bytes, seconds and its peak resident memory (RSS)
against the same process's RSS just before the download. A stream in
bounded memory keeps that growth flat whatever N is.

    .venv/bin/python benchmarks/csv_export.py [--events N] [--keep]

Environment: BENCH_DATABASE (default adserver_csv_bench) on the server of
DATABASE_URL (default postgres://postgres@127.0.0.1:5432/...).
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

ZONES = [
    ("UTC", "USD"), ("America/New_York", "USD"), ("America/Los_Angeles", "USD"),
    ("America/Sao_Paulo", "BRL"), ("America/St_Johns", "CAD"), ("Europe/London", "GBP"),
    ("Europe/Paris", "EUR"), ("Europe/Oslo", "NOK"), ("Africa/Johannesburg", "ZAR"),
    ("Asia/Dubai", "AED"), ("Asia/Kolkata", "INR"), ("Asia/Kathmandu", "NPR"),
    ("Asia/Singapore", "SGD"), ("Asia/Tokyo", "JPY"), ("Australia/Sydney", "AUD"),
    ("Pacific/Auckland", "NZD"), ("Pacific/Chatham", "NZD"), ("Pacific/Kiritimati", "USD"),
    ("Asia/Kuwait", "KWD"), ("Europe/Berlin", "EUR"),
]  # fmt: skip
CAMPAIGNS = 2_000
ADMIN = "bench-csv"


def _array(values: list[str]) -> str:
    return "ARRAY[" + ",".join(f"'{v}'" for v in values) + "]"


def build_statements(events: int) -> list[tuple[str, str]]:
    return [
        (
            "brands",
            f"""
            INSERT INTO budgets_brand (name, timezone, currency, daily_budget, monthly_budget,
                                       created_at)
            SELECT format('Brand %s', i), ({_array([z for z, _ in ZONES])})[i],
                   ({_array([c for _, c in ZONES])})[i], 1000, 30000, now()
            FROM generate_series(1, {len(ZONES)}) i
            """,
        ),
        (
            "campaigns",
            f"""
            INSERT INTO campaigns_campaign (brand_id, budget_id, name, enabled, created_at,
                                            updated_at)
            SELECT 1 + (i - 1) % {len(ZONES)}, NULL, format('Campaign %s', i), true, now(), now()
            FROM generate_series(1, {CAMPAIGNS}) i
            """,
        ),
        (
            "spend events",
            f"""
            INSERT INTO spend_spendevent (campaign_id, brand_id, budget_id, kind, amount,
                                          occurred_at, local_date, recorded_at, source,
                                          event_id, campaign_was_serving)
            SELECT c.id, c.brand_id, NULL, 'spend', round((random() * 50)::numeric, 6) + 0.000001,
                   g.t, (g.t AT TIME ZONE b.timezone)::date, g.t, 'bench',
                   format('evt-%s', g.i), g.i % 97 <> 0
            FROM (SELECT i, 1 + floor(random() * {CAMPAIGNS})::int AS cid,
                         now() - random() * interval '45 days' AS t
                  FROM generate_series(1, {events}) i) g
            JOIN campaigns_campaign c ON c.id = g.cid
            JOIN budgets_brand b ON b.id = c.brand_id
            """,
        ),
    ]


def _server_url(database: str) -> str:
    base = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    parts = urlsplit(base)
    return urlunsplit((parts.scheme, parts.netloc, f"/{database}", "", ""))


def recreate_database(name: str) -> None:
    with psycopg.connect(_server_url("postgres"), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')


def build(url: str, events: int) -> None:
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "adserver.settings"}
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"],
        cwd=ROOT,
        env=env,
        check=True,
    )
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SET synchronous_commit = off")
        for label, sql in build_statements(events):
            started = time.perf_counter()
            rows = conn.execute(sql).rowcount
            print(f"  {label:<14} {rows:>10,} rows  {time.perf_counter() - started:6.1f} s")
        conn.execute("VACUUM ANALYZE")


def _rss_mib() -> float:
    """This process's peak resident memory so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def worker() -> None:
    """Download the whole spend log as CSV; print JSON to stdout."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "adserver.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth.models import User
    from django.test import Client

    settings.DEBUG = False  # no query log: as in production
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    user, _ = User.objects.get_or_create(
        username=ADMIN, defaults={"is_superuser": True, "is_staff": True}
    )
    client = Client()
    client.force_login(user)
    client.get("/spend/")  # warm the templates, the connection and the session
    before = _rss_mib()
    started = time.perf_counter()
    response = client.get("/spend/?format=csv")
    assert response.status_code == 200, response.status_code
    first_piece = None
    rows = size = 0
    for piece in response.streaming_content:  # type: ignore[attr-defined]
        if first_piece is None:
            first_piece = time.perf_counter() - started
        size += len(piece)
        rows += piece.count(b"\n")
    seconds = time.perf_counter() - started
    json.dump(
        {
            "rows": rows - 1,  # the header
            "bytes": size,
            "seconds": seconds,
            "first_piece_seconds": first_piece,
            "rss_before_mib": before,
            "rss_peak_mib": _rss_mib(),
        },
        sys.stdout,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--keep", action="store_true", help="measure the data already built")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker()
        return
    name = os.environ.get("BENCH_DATABASE", "adserver_csv_bench")
    url = _server_url(name)
    if not args.keep:
        print(f"Building {args.events:,} spend events in {name} ...")
        recreate_database(name)
        build(url, args.events)
    done = subprocess.run(
        [sys.executable, __file__, "--worker"],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": url},
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"worker failed:\n{done.stderr}")
    result = json.loads(done.stdout)
    print(
        f"{result['rows']:,} rows, {result['bytes'] / 2**20:,.1f} MiB of CSV in "
        f"{result['seconds']:.1f} s ({result['rows'] / result['seconds']:,.0f} rows/s; "
        f"first piece after {result['first_piece_seconds']:.2f} s)"
    )
    print(
        f"peak RSS {result['rss_peak_mib']:.0f} MiB, "
        f"{result['rss_peak_mib'] - result['rss_before_mib']:+.0f} MiB over "
        f"{result['rss_before_mib']:.0f} MiB before the download"
    )


if __name__ == "__main__":
    main()
