"""One reconcile tick over 10,000 brands and 100,000 campaigns with dayparts.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/adserver_celery_bench \\
        .venv/bin/python benchmarks/reconcile_tick.py [--runs 7] [--reseed]

Runs on a database of its own (created and migrated when missing; it must
not be one that tests or people use). The data set is seeded once and reused:

- 10,000 brands spread over 20 time zones (including +05:30, +05:45, +12:45
  and zones in and out of daylight saving), each with a shared budget;
  10% of the brands have spent their daily budget, the others 12.5% of it;
  `--standard-percent` of them (every brand by default) are on standard
  delivery, so the pacing part reads their serving windows on every tick.
  `--brands` seeds fewer, for a quick look (then `--reseed`).
- 100,000 campaigns, 10 per brand, with dayparts in the brand's wall-clock
  time: 30% have a window that opens exactly at instant B (one minute after
  instant A), 40% one that is open at both, 20% one that is shut at both,
  10% a flight that has ended.

Measured, each `--runs` times, median reported:
- "no change": a tick at A when everything is already in place;
- "30% change": ticks alternating B, A, B, ...: each one moves 30,000
  campaigns (schedule hold, derived state, history row);
- baselines in the same run: the bare SELECT of every campaign's id and
  holds, and one UPDATE of 30% of the campaigns by id list.
"""

import argparse
import datetime as dt
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlparse

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "adserver.settings")

T = TypeVar("T")
BRANDS = 10_000
CAMPAIGNS_PER_BRAND = 10
FLIP_SHARE = 3  # of every 10 campaigns
ZONES = [
    "UTC", "Europe/London", "Europe/Paris", "Europe/Oslo", "Africa/Lagos",
    "Asia/Kolkata", "Asia/Kathmandu", "Asia/Shanghai", "Asia/Tokyo", "Australia/Sydney",
    "Australia/Adelaide", "Pacific/Auckland", "Pacific/Chatham", "America/New_York",
    "America/Chicago", "America/Denver", "America/Los_Angeles", "America/Sao_Paulo",
    "America/St_Johns", "Pacific/Honolulu",
]  # fmt: skip
INSTANT_B = dt.datetime(2026, 3, 10, 12, 0, tzinfo=dt.UTC)
INSTANT_A = INSTANT_B - dt.timedelta(minutes=1)


def _ensure_database() -> None:
    import psycopg

    url = urlparse(os.environ["DATABASE_URL"])
    name = url.path.lstrip("/")
    if name in {"adserver", "adserver_celery", "test_adserver_celery"}:
        sys.exit(f"refusing to benchmark on {name!r}: give it a database of its own")
    admin = url._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def _shift(wall: dt.datetime, hours: float) -> dt.time:
    return (wall + dt.timedelta(hours=hours)).time()


def _seed(count: int, standard_percent: int) -> None:
    from django.db import connection, transaction

    from budgets.models import Brand, Budget, Period
    from campaigns.models import ALL_DAYS_MASK, Campaign, Daypart
    from campaigns.schedule import daypart_wall_clock
    from spend.models import BrandSpend

    print(f"seeding {count} brands, {count * CAMPAIGNS_PER_BRAND} campaigns ...", flush=True)
    started = time.perf_counter()
    with transaction.atomic():
        brands = Brand.objects.bulk_create(
            Brand(
                name=f"Bench brand {i:05d}",
                timezone=ZONES[i % len(ZONES)],
                daily_budget=Decimal("100.00"),
                monthly_budget=Decimal("3000.00"),
                delivery="standard" if i % 100 < standard_percent else "accelerated",
            )
            for i in range(count)
        )
        budgets = Budget.objects.bulk_create(
            Budget(brand=brand, name="Shared", daily_limit=Decimal("50.00")) for brand in brands
        )
        BrandSpend.objects.bulk_create(
            BrandSpend(
                brand=brand,
                period=Period.DAY,
                period_start=daypart_wall_clock(INSTANT_A, brand.timezone).date(),
                amount=Decimal("100") if i % 10 == 0 else Decimal("12.5"),
                events_count=1,
            )
            for i, brand in enumerate(brands)
        )
        campaigns = []
        for brand, budget in zip(brands, budgets, strict=True):
            yesterday = daypart_wall_clock(INSTANT_A, brand.timezone).date() - dt.timedelta(1)
            for j in range(CAMPAIGNS_PER_BRAND):
                campaigns.append(
                    Campaign(
                        brand=brand,
                        budget=budget if j % 2 else None,
                        name=f"Campaign {j}",
                        ends_on=yesterday if j == CAMPAIGNS_PER_BRAND - 1 else None,
                    )
                )
        campaigns = Campaign.objects.bulk_create(campaigns, batch_size=5000)
        dayparts = []
        for index, campaign in enumerate(campaigns):
            wall_b = daypart_wall_clock(INSTANT_B, campaign.brand.timezone).replace(second=0)
            group = index % CAMPAIGNS_PER_BRAND
            if group < FLIP_SHARE:  # opens exactly at B
                start, end = _shift(wall_b, 0), _shift(wall_b, 6)
            elif group < 7:  # open at A and B, two windows
                dayparts.append(
                    Daypart(
                        campaign=campaign,
                        days=ALL_DAYS_MASK,
                        start_time=_shift(wall_b, 12),
                        end_time=_shift(wall_b, 14),
                    )
                )
                start, end = _shift(wall_b, -3), _shift(wall_b, 3)
            else:  # shut at A and B
                start, end = _shift(wall_b, 8), _shift(wall_b, 10)
            dayparts.append(
                Daypart(campaign=campaign, days=ALL_DAYS_MASK, start_time=start, end_time=end)
            )
        Daypart.objects.bulk_create(dayparts, batch_size=5000)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    print(f"seeded in {time.perf_counter() - started:.1f} s", flush=True)


def _timed(action: Callable[[], T]) -> tuple[float, T]:
    started = time.perf_counter()
    result = action()
    return time.perf_counter() - started, result


def _machine() -> str:
    from django.db import connection

    cpu = "unknown"
    with open("/proc/cpuinfo") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        row = cursor.fetchone()
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    return (
        f"nproc {os.cpu_count()}, {cpu}, PostgreSQL {row[0] if row else '?'}, "
        f"Python {platform.python_version()}, {dt.datetime.now(dt.UTC):%Y-%m-%d}, "
        f"load average {load}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--reseed", action="store_true")
    parser.add_argument("--brands", type=int, default=BRANDS, help="brands to seed")
    parser.add_argument(
        "--standard-percent", type=int, default=100, help="brands on standard delivery, in %%"
    )
    args = parser.parse_args()
    _ensure_database()

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from budgets.models import Brand
    from campaigns.models import Campaign, CampaignStatusChange
    from spend.reconcile import reconcile

    call_command("migrate", verbosity=0)
    if args.reseed:
        with connection.cursor() as cursor:
            cursor.execute(
                "TRUNCATE campaigns_campaignstatuschange, campaigns_daypart, spend_brandspend, "
                "campaigns_campaign, budgets_budget, budgets_brand CASCADE"
            )
    if not Brand.objects.exists():
        _seed(args.brands, args.standard_percent)
    print(_machine())
    standard = Brand.objects.filter(delivery="standard").count()
    campaigns = Campaign.objects.count()
    print(f"{Brand.objects.count()} brands ({standard} standard), {campaigns} campaigns")

    reconcile(now=INSTANT_A)  # converge (untimed)
    flip_ids = list(
        Campaign.objects.filter(dayparts__start_time__isnull=False)
        .order_by("id")
        .values_list("id", flat=True)[: len(Campaign.objects.all()) * FLIP_SHARE // 10]
    )

    results: dict[str, list[float]] = {name: [] for name in ("select", "update", "idle", "flip")}
    changed: list[int] = []
    for run in range(args.runs):
        with connection.cursor() as cursor:
            seconds, _ = _timed(
                lambda: (
                    cursor.execute("SELECT id, schedule_hold, budget_hold FROM campaigns_campaign")
                    or cursor.fetchall()
                )
            )
        results["select"].append(seconds)
        seconds, _ = _timed(
            lambda: Campaign.objects.filter(id__in=flip_ids).update(updated_at=INSTANT_B)
        )
        results["update"].append(seconds)
        seconds, idle = _timed(lambda: reconcile(now=INSTANT_A))
        assert idle.summary() == {
            "schedule_changes": 0,
            "budget_changes": 0,
            "pacing_changes": 0,
        }, idle.summary()
        results["idle"].append(seconds)
        for instant in (INSTANT_B, INSTANT_A):
            seconds, flipped = _timed(partial(reconcile, now=instant))
            results["flip"].append(seconds)
            changed.append(flipped.summary()["schedule_changes"])
        print(f"run {run + 1}: " + ", ".join(f"{k} {v[-1]:.3f} s" for k, v in results.items()))

    medians = {name: statistics.median(values) for name, values in results.items()}
    print()
    print(_machine())
    print(f"campaigns changed per flip tick: {sorted(set(changed))}")
    print(f"history rows now: {CampaignStatusChange.objects.count()}")
    print(f"median of {args.runs} runs (flip: {len(results['flip'])} ticks):")
    print(f"  baseline SELECT of all ids and holds  {medians['select']:.3f} s")
    print(f"  baseline UPDATE of 30% by id list     {medians['update']:.3f} s")
    print(
        f"  tick, nothing changes                 {medians['idle']:.3f} s"
        f"  ({medians['idle'] / medians['select']:.1f}x the SELECT)"
    )
    print(
        f"  tick, 30% of campaigns change         {medians['flip']:.3f} s"
        f"  ({medians['flip'] / medians['update']:.1f}x the UPDATE)"
    )


if __name__ == "__main__":
    main()
