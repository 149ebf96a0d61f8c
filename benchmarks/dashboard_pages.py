"""Server time of every dashboard page at agency scale.

Builds, in a fresh PostgreSQL database (dropped and created again: the
ledger refuses DELETE), 10,000 brands, 20,000 shared budgets, 100,000
campaigns (a third with dayparts, some overnight), 1,000,000 spend events
over 45 days with the brand/budget/campaign day and month rollups that are
their GROUP BY, 200,000 status changes and the alerts the rollups imply.
Then it renders each page in-process with Django's test client and prints
the median of N requests next to /healthz as a baseline measured in the same
run, for two people: an agency admin (a superuser: every brand) and a
manager of 50 brands spread over the data set (who sees only those).

--compare OTHER_CHECKOUT measures a second checkout (for example the code
before access rules existed) against the same data set in the same run:
rounds alternate between the checkouts, so that a neighbour's load falls on
both alike. Each round of each checkout and person runs in its own process.

    .venv/bin/python benchmarks/dashboard_pages.py [--requests N] [--rounds R] [--keep]
        [--compare OTHER_CHECKOUT]

Environment: BENCH_DATABASE (default adserver_dash_bench) on the server of
DATABASE_URL (default postgres://postgres@127.0.0.1:5432/...).
"""

import argparse
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg

ROOT = Path(__file__).resolve().parent.parent
# A worker (see `worker`) imports the project from the checkout it measures.
sys.path.insert(0, os.environ.get("BENCH_CHECKOUT", str(ROOT)))

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


ADMIN = "bench"
MANAGER = "bench-manager"
MANAGED_BRANDS = 50


def people() -> None:
    """The agency admin, and a manager of 50 brands spread over the id range
    (the measured brand, the 101st, among them). Idempotent."""
    from django.contrib.auth.models import User

    from budgets.models import Brand, Role
    from budgets.services import membership_set

    if not User.objects.filter(username=ADMIN).exists():
        User.objects.create_superuser(ADMIN, "bench@localhost", "bench-password-1")
    manager = User.objects.filter(username=MANAGER).first() or User.objects.create_user(
        MANAGER, "manager@localhost", "bench-password-1"
    )
    ids = list(Brand.objects.order_by("id").values_list("id", flat=True))
    for brand in Brand.objects.filter(id__in=ids[100 :: len(ids) // MANAGED_BRANDS]):
        membership_set(brand=brand, user=manager, role=Role.MANAGER)
    assert manager.brand_memberships.count() == MANAGED_BRANDS


def pages(username: str) -> list[tuple[str, str]]:
    """(name, url) of every page, with ids of rows that exist in the data set
    and belong to a brand that both people may see; the deepest pages are
    the deepest that `username` can reach."""
    from django.contrib.auth.models import User

    from budgets.access import scope_to_visible
    from budgets.models import Alert, Brand
    from campaigns.models import Campaign, CampaignStatusChange
    from spend.models import SpendEvent

    user = User.objects.get(username=username)

    brand = Brand.objects.order_by("id")[100]
    campaign = Campaign.objects.filter(
        brand=brand, dayparts__isnull=False, budget__isnull=False
    ).first()
    assert campaign is not None
    assert campaign.budget_id is not None
    event = SpendEvent.objects.filter(brand=brand).order_by("-occurred_at").first()
    alert = Alert.objects.filter(brand=brand).order_by("-raised_at").first()
    change = (
        CampaignStatusChange.objects.filter(campaign__brand=brand).order_by("-changed_at").first()
    )
    assert event is not None
    assert alert is not None
    assert change is not None
    # Page numbers reach the first 10,000 campaigns and 2,000 status changes.
    campaigns = scope_to_visible(Campaign.objects.all(), user, brand_field="brand_id")
    changes = scope_to_visible(
        CampaignStatusChange.objects.all(), user, brand_field="campaign__brand_id"
    )
    deepest = -(-min(campaigns.count(), 10_000) // 50)
    deepest_history = -(-min(changes.count(), 2_000) // 50)
    today = dt.datetime.now(dt.UTC).date()
    week = f"date_from={today - dt.timedelta(days=7)}&date_to={today}"
    day = f"date_from={today - dt.timedelta(days=3)}&date_to={today - dt.timedelta(days=3)}"
    return [
        ("baseline /healthz", "/healthz"),
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
        ("campaigns ?page=(deepest)", f"/campaigns/?page={deepest}"),
        ("history ?page=(deepest)", f"/history/?page={deepest_history}"),
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


def worker(username: str, requests: int) -> None:
    """Measure the pages read from stdin as `username`; print JSON to stdout."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "adserver.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth.models import User
    from django.db import connection
    from django.test import Client

    settings.DEBUG = False  # no query log: as in production
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    client = Client()
    client.force_login(User.objects.get(username=username))
    # As with a beat that runs: /healthz answers 200 and no page shows the
    # "budget checks have stopped" banner (one query per page either way).
    # A compared checkout from before liveness has neither.
    try:
        from spend.tasks import tick_record
    except ImportError:
        pass
    else:
        tick_record("benchmark", duration=0.0)
    results = {}
    for name, target in json.load(sys.stdin):
        url, _, hx = target.partition(" ")
        headers = {"HX-Request": "true"} if hx else {}
        for _ in range(2):  # warm caches and the connection
            response = client.get(url, headers=headers)
            assert response.status_code == 200, (username, url, response.status_code)
        queries = QueryCounter()
        with connection.execute_wrapper(queries):
            client.get(url, headers=headers)
        times = []
        for _ in range(requests):
            started = time.perf_counter()
            client.get(url, headers=headers)
            times.append((time.perf_counter() - started) * 1000)
        results[name] = {"times": times, "queries": queries.count}
    json.dump(results, sys.stdout)


def run_worker(checkout: Path, username: str, requests: int, targets: list[tuple[str, str]]) -> Any:
    env = {**os.environ, "BENCH_CHECKOUT": str(checkout)}
    done = subprocess.run(
        [sys.executable, __file__, "--worker", username, "--requests", str(requests)],
        input=json.dumps(targets),
        capture_output=True,
        text=True,
        env=env,
        cwd=checkout,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"worker {checkout} {username} failed:\n{done.stderr}")
    return json.loads(done.stdout)


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=5, help="timed requests per page and round")
    parser.add_argument("--rounds", type=int, default=3, help="rounds (alternating checkouts)")
    parser.add_argument("--keep", action="store_true", help="reuse the data set already built")
    parser.add_argument(
        "--compare", type=Path, help="another checkout, measured as the agency admin"
    )
    parser.add_argument("--worker", metavar="USERNAME", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.requests)
        return

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
        call_command("migrate", verbosity=0)

    people()
    targets = {username: pages(username) for username in (ADMIN, MANAGER)}
    for username, found in targets.items():
        print(f"{username}: {dict(found)['campaigns ?page=(deepest)']}, ", end="")
        print(dict(found)["history ?page=(deepest)"])
    runs = [("admin", ROOT, ADMIN), ("manager", ROOT, MANAGER)]
    if args.compare:
        runs.append(("compared admin", args.compare.resolve(), ADMIN))
    print(f"\nnproc {os.cpu_count()}, load average before: {_load()}")
    times: dict[str, dict[str, list[float]]] = {label: {} for label, _, _ in runs}
    queries: dict[str, dict[str, int]] = {label: {} for label, _, _ in runs}
    for round_number in range(1, args.rounds + 1):
        for label, checkout, username in runs:
            found = run_worker(checkout, username, args.requests, targets[username])
            for page_name, result in found.items():
                times[label].setdefault(page_name, []).extend(result["times"])
                queries[label][page_name] = result["queries"]
        print(f"  round {round_number} of {args.rounds} done, load average {_load()}")

    labels = [label for label, _, _ in runs]
    total = args.rounds * args.requests
    print(f"\nServer time per page, median of {total} requests (in-process test client), ms")
    if args.compare:
        print(f"compared: {args.compare.resolve()}")
    print(f"{'page':<34}" + "".join(f"{label:>16}" for label in labels) + "   queries")
    for page_name, _ in targets[ADMIN]:
        medians = "".join(
            f"{statistics.median(times[label][page_name]):>16.1f}" for label in labels
        )
        counts = "/".join(str(queries[label][page_name]) for label in labels)
        print(f"{page_name:<34}{medians}   {counts}")
    for label in labels:
        slowest = max(
            ((page_name, statistics.median(values)) for page_name, values in times[label].items()),
            key=lambda row: row[1],
        )
        print(f"slowest for {label}: {slowest[0]} at {slowest[1]:.1f} ms median (target: 150 ms)")
    print(f"load average when done: {_load()}")


if __name__ == "__main__":
    main()
