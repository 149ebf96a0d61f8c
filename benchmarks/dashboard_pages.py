"""Server time of every dashboard page at agency scale.

Builds, in a fresh PostgreSQL database (dropped and created again: the
ledger refuses DELETE), 10,000 brands, 20,000 shared budgets, 100,000
campaigns (a third with dayparts, some overnight), 1,000,000 spend events
over 45 days with the brand/budget/campaign day and month rollups that are
their GROUP BY, 200,000 status changes and the alerts the rollups imply.
Then it renders each page in-process with Django's test client, as a
logged-in user, and prints the median of N requests next to /healthz as a
baseline measured in the same run.

    .venv/bin/python benchmarks/dashboard_pages.py [--requests N] [--keep]

Environment: BENCH_DATABASE (default adserver_dash_bench) on the server of
DATABASE_URL (default postgres://postgres@127.0.0.1:5432/...).
"""

import argparse
import datetime as dt
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

ZONES = [
    ("UTC", "USD"),
    ("America/New_York", "USD"),
    ("America/Chicago", "USD"),
    ("America/Los_Angeles", "USD"),
    ("America/Sao_Paulo", "BRL"),
    ("America/St_Johns", "CAD"),
    ("Europe/London", "GBP"),
    ("Europe/Paris", "EUR"),
    ("Europe/Berlin", "EUR"),
    ("Europe/Oslo", "NOK"),
    ("Africa/Johannesburg", "ZAR"),
    ("Asia/Dubai", "AED"),
    ("Asia/Kolkata", "INR"),
    ("Asia/Kathmandu", "NPR"),
    ("Asia/Singapore", "SGD"),
    ("Asia/Tokyo", "JPY"),
    ("Australia/Sydney", "AUD"),
    ("Pacific/Auckland", "NZD"),
    ("Pacific/Chatham", "NZD"),
    ("Pacific/Kiritimati", "USD"),
]
BRANDS = 10_000
CAMPAIGNS = 100_000
EVENTS = 1_000_000
CHANGES = 200_000


def _array(values: list[str]) -> str:
    return "ARRAY[" + ",".join(f"'{v}'" for v in values) + "]"


BUILD = [
    (
        "brands",
        f"""
        INSERT INTO budgets_brand (name, timezone, currency, daily_budget, monthly_budget,
                                   created_at)
        SELECT format('Brand %s', lpad(i::text, 5, '0')),
               ({_array([z for z, _ in ZONES])})[1 + i % {len(ZONES)}],
               ({_array([c for _, c in ZONES])})[1 + i % {len(ZONES)}],
               d, d * 30, now()
        FROM (SELECT i, round((100 + random() * 9900)::numeric, 2) AS d
              FROM generate_series(1, {BRANDS}) i) g
        """,
    ),
    (
        "budgets",
        """
        INSERT INTO budgets_budget (brand_id, name, daily_limit, monthly_limit, created_at)
        SELECT b.id, format('Shared %s', k),
               CASE WHEN k = 1 THEN round(b.daily_budget * 0.4, 2) END,
               CASE WHEN k = 2 THEN round(b.monthly_budget * 0.5, 2) END, now()
        FROM budgets_brand b CROSS JOIN generate_series(1, 2) k ORDER BY b.id, k
        """,
    ),
    (
        "campaigns",
        f"""
        INSERT INTO campaigns_campaign (brand_id, budget_id, name, enabled, starts_on, ends_on,
                                        schedule_hold, budget_hold, created_at, updated_at)
        SELECT brand_id,
               CASE WHEN i % 3 = 0 THEN NULL ELSE (brand_id - 1) * 2 + 1 + i % 2 END,
               format('Campaign %s', i), i % 50 <> 0, NULL, NULL,
               CASE WHEN i % 31 = 0 THEN 'ended' WHEN i % 7 = 0 THEN 'outside_daypart' END,
               CASE WHEN i % 13 = 0 THEN 'brand_daily_budget'
                    WHEN i % 17 = 0 THEN 'budget_daily_limit' END,
               now(), now()
        FROM (SELECT i, 1 + (i - 1) % {BRANDS} AS brand_id
              FROM generate_series(1, {CAMPAIGNS}) i) g
        """,
    ),
    (
        "dayparts",
        f"""
        INSERT INTO campaigns_daypart (campaign_id, days, start_time, end_time)
        SELECT id, 31, time '09:00', time '17:00' FROM campaigns_campaign
        WHERE (id - 1) / {BRANDS} IN (1, 2, 3)
        UNION ALL
        SELECT id, 48, time '22:00', time '02:00' FROM campaigns_campaign
        WHERE (id - 1) / {BRANDS} = 2
        """,
    ),
    (
        "spend events",
        f"""
        INSERT INTO spend_spendevent (campaign_id, brand_id, budget_id, kind, amount, occurred_at,
                                      local_date, recorded_at, source, event_id,
                                      campaign_was_serving)
        SELECT c.id, c.brand_id, c.budget_id,
               CASE WHEN g.i % 200 = 0 THEN 'adjustment' ELSE 'spend' END,
               CASE WHEN g.i % 200 = 0 THEN -round(b.daily_budget * 0.01, 6)
                    ELSE round((b.daily_budget * g.r * 0.5)::numeric, 6) + 0.000001 END,
               g.t, (g.t AT TIME ZONE b.timezone)::date, g.t, 'bench', NULL, g.i % 97 <> 0
        FROM (SELECT i, 1 + floor(random() * {CAMPAIGNS})::int AS cid, random() AS r,
                     now() - random() * interval '45 days' AS t
              FROM generate_series(1, {EVENTS}) i) g
        JOIN campaigns_campaign c ON c.id = g.cid
        JOIN budgets_brand b ON b.id = c.brand_id
        """,
    ),
    *[
        (
            f"{owner} rollups",
            f"""
            INSERT INTO spend_{owner}spend ({owner}_id, period, period_start, amount, events_count)
            SELECT {owner}_id, 'day', local_date, sum(amount), count(*)
            FROM spend_spendevent WHERE {owner}_id IS NOT NULL GROUP BY 1, 3
            UNION ALL
            SELECT {owner}_id, 'month', date_trunc('month', local_date)::date, sum(amount), count(*)
            FROM spend_spendevent WHERE {owner}_id IS NOT NULL GROUP BY 1, 3
            """,
        )
        for owner in ("brand", "budget", "campaign")
    ],
    (
        "status changes",
        f"""
        INSERT INTO campaigns_campaignstatuschange (campaign_id, changed_at, old_status, old_reason,
                                                   new_status, new_reason, actor, user_id, note)
        SELECT 1 + floor(random() * {CAMPAIGNS})::int, now() - random() * interval '30 days',
               CASE WHEN i % 2 = 0 THEN 'active' ELSE 'paused' END,
               CASE WHEN i % 2 = 1 THEN 'outside_daypart' END,
               CASE WHEN i % 2 = 0 THEN 'paused' ELSE 'active' END,
               CASE WHEN i % 2 = 0 THEN 'outside_daypart' END,
               'system', NULL, 'bench'
        FROM generate_series(1, {CHANGES}) i
        """,
    ),
    (
        "alerts",
        """
        INSERT INTO budgets_alert (brand_id, budget_id, scope, period, period_start, threshold, cap,
                                   spend, raised_at, acknowledged_at)
        SELECT s.brand_id, NULL, 'brand', 'day', s.period_start, t.threshold, b.daily_budget,
               s.amount, (s.period_start + time '12:00') AT TIME ZONE b.timezone,
               CASE WHEN s.id % 3 <> 0
                    THEN (s.period_start + time '13:00') AT TIME ZONE b.timezone END
        FROM spend_brandspend s
        JOIN budgets_brand b ON b.id = s.brand_id
        CROSS JOIN (VALUES (50), (80), (100)) t(threshold)
        WHERE s.period = 'day' AND s.amount >= b.daily_budget * t.threshold / 100
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


LOADED_TABLES = [
    "budgets_brand",
    "budgets_budget",
    "budgets_alert",
    "campaigns_campaign",
    "campaigns_daypart",
    "campaigns_campaignstatuschange",
    "spend_spendevent",
    "spend_brandspend",
    "spend_budgetspend",
    "spend_campaignspend",
]
# Bulk load: foreign keys are not checked row by row (the data is consistent
# by construction) and plain indexes are built once at the end.
LOAD_SETTINGS = [
    "SET session_replication_role = replica",
    "SET synchronous_commit = off",
    "SET maintenance_work_mem = '512MB'",
    "SET work_mem = '256MB'",
]
PLAIN_INDEXES = """
    SELECT indexname, indexdef FROM pg_indexes i
    WHERE schemaname = 'public' AND tablename = ANY(%s)
      AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)
"""


def build(url: str) -> float:
    started = time.perf_counter()
    with psycopg.connect(url, autocommit=True) as conn:
        for statement in LOAD_SETTINGS:
            conn.execute(statement)
        indexes = conn.execute(PLAIN_INDEXES, [LOADED_TABLES]).fetchall()
        for index_name, _ in indexes:
            conn.execute(f'DROP INDEX "{index_name}"')
        for label, sql in BUILD:
            step = time.perf_counter()
            rows = conn.execute(sql).rowcount
            print(f"  {label:<18} {rows:>10,} rows  {time.perf_counter() - step:6.1f} s")
        step = time.perf_counter()
        for _, definition in indexes:
            conn.execute(definition)
        conn.execute("VACUUM ANALYZE")  # as autovacuum would have by now
        print(f"  {len(indexes)} indexes, analyze      {time.perf_counter() - step:6.1f} s")
    return time.perf_counter() - started


def pages() -> list[tuple[str, str]]:
    """(name, url) of every page, with ids of rows that exist in the data set."""
    from budgets.models import Alert, Brand
    from campaigns.models import Campaign, CampaignStatusChange
    from spend.models import SpendEvent

    brand = Brand.objects.order_by("id")[100]
    campaign = Campaign.objects.filter(
        brand=brand, dayparts__isnull=False, budget__isnull=False
    ).first()
    assert campaign is not None
    assert campaign.budget_id is not None
    event = SpendEvent.objects.order_by("-occurred_at").first()
    alert = Alert.objects.order_by("-raised_at").first()
    change = CampaignStatusChange.objects.order_by("-changed_at").first()
    assert event is not None
    assert alert is not None
    assert change is not None
    deepest = 10_000 // 50  # page numbers reach the first 10,000 rows
    today = dt.datetime.now(dt.UTC).date()
    week = f"date_from={today - dt.timedelta(days=7)}&date_to={today}"
    day = f"date_from={today - dt.timedelta(days=3)}&date_to={today - dt.timedelta(days=3)}"
    return [
        ("overview", "/"),
        ("brands", "/brands/"),
        ("brands ?sort=-daily", "/brands/?sort=-daily"),
        ("brands ?over=daily", "/brands/?over=daily"),
        ("brands ?q=Brand 12", "/brands/?q=Brand+12"),
        ("brand", f"/brands/{brand.pk}/"),
        ("budgets", "/budgets/"),
        ("budget", f"/budgets/{campaign.budget_id}/"),
        ("campaigns", "/campaigns/"),
        ("campaigns ?status=paused", "/campaigns/?status=paused"),
        ("campaigns ?reason=manual", "/campaigns/?reason=manual"),
        ("campaigns ?q=Campaign 777", "/campaigns/?q=Campaign+777"),
        (f"campaigns ?page={deepest} (deepest)", f"/campaigns/?page={deepest}"),
        ("history ?page=40 (deepest)", "/history/?page=40"),
        ("campaign", f"/campaigns/{campaign.pk}/"),
        ("spend", "/spend/"),
        ("spend ?brand", f"/spend/?brand={brand.pk}"),
        ("spend ?campaign", f"/spend/?campaign={campaign.pk}"),
        ("spend ?one day", f"/spend/?{day}"),
        ("spend ?brand&last week", f"/spend/?brand={brand.pk}&{week}"),
        ("spend ?kind=adjustment", "/spend/?kind=adjustment"),
        ("spend event", f"/spend/{event.pk}/"),
        ("alerts", "/alerts/"),
        ("alerts ?state=open", "/alerts/?state=open"),
        ("alerts ?brand", f"/alerts/?brand={brand.pk}"),
        ("alert", f"/alerts/{alert.pk}/"),
        ("history", "/history/"),
        ("history ?last week", f"/history/?{week}"),
        ("alerts ?one day", f"/alerts/?{day}"),
        ("history ?brand", f"/history/?brand={brand.pk}"),
        ("history ?reason", "/history/?reason=outside_daypart"),
        ("status change", f"/history/{change.pk}/"),
        ("live part of brands (htmx)", "/brands/ HX"),
    ]


class QueryCounter:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self, execute: Any, *args: Any) -> Any:
        self.count += 1
        return execute(*args)


def measure(requests: int) -> list[tuple[str, float, float, int]]:
    from django.conf import settings
    from django.contrib.auth.models import User
    from django.db import connection
    from django.test import Client

    settings.DEBUG = False  # no query log: as in production
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    user = User.objects.filter(username="bench").first() or User.objects.create_superuser(
        "bench", "bench@localhost", "bench-password-1"
    )
    client = Client()
    client.force_login(user)
    results = []
    for name, target in [("baseline /healthz", "/healthz"), *pages()]:
        url, _, hx = target.partition(" ")
        headers = {"HX-Request": "true"} if hx else {}
        for _ in range(2):  # warm caches and the connection
            response = client.get(url, headers=headers)
            assert response.status_code == 200, (url, response.status_code)
        queries = QueryCounter()
        with connection.execute_wrapper(queries):
            client.get(url, headers=headers)
        times = []
        for _ in range(requests):
            started = time.perf_counter()
            client.get(url, headers=headers)
            times.append((time.perf_counter() - started) * 1000)
        results.append((name, statistics.median(times), max(times), queries.count))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=15, help="timed requests per page")
    parser.add_argument("--keep", action="store_true", help="reuse the data set already built")
    args = parser.parse_args()

    name = os.environ.get("BENCH_DATABASE", "adserver_dash_bench")
    url = _server_url(name)
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DEBUG", "1")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "adserver.settings")
    import django
    from django.core.management import call_command

    if not args.keep:
        recreate_database(name)
        django.setup()
        call_command("migrate", verbosity=0)
        print(f"Building the data set in {name}:")
        seconds = build(url)
        print(f"  built in {seconds:.1f} s")
    else:
        django.setup()

    results = measure(args.requests)
    baseline = results[0][1]
    print(f"\nServer time per page, median of {args.requests} requests (in-process test client)")
    print(f"{'page':<32} {'median ms':>10} {'max ms':>8} {'x baseline':>10} {'queries':>8}")
    for page_name, median, worst, queries in results:
        print(
            f"{page_name:<32} {median:>10.1f} {worst:>8.1f} {median / baseline:>10.1f} {queries:>8}"
        )
    slowest = max(results[1:], key=lambda row: row[1])
    print(f"\nslowest page: {slowest[0]} at {slowest[1]:.1f} ms median (target: 150 ms)")
    print(f"load average when done: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
