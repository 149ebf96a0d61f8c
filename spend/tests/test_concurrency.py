"""Exactness under real concurrency: several OS processes recording for one brand.

Each process records its share of a known plan of events, one by one through
spend_record or in batches through spend_record_batch, some of them replays
of an event id that it or another process sends too. Afterwards the ledger
and every rollup must hold exactly the sum of the distinct events, every
campaign must be paused once the brand's daily cap was crossed, and the
overspend must be exactly the spend recorded after the crossing.
"""

import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import connection
from django.db.models import Count, Max, Sum
from django.utils import timezone

from budgets.models import Alert, Period
from budgets.periods import local_date, month_start
from budgets.tests.factories import BrandFactory, BudgetFactory
from campaigns.models import Campaign, CampaignStatusChange
from campaigns.tests.factories import CampaignFactory
from spend.models import BrandSpend, BudgetSpend, CampaignSpend, SpendEvent
from spend.tests.concurrency_worker import plan

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

WORKERS = 4
EVENTS_PER_WORKER = 2000
CAMPAIGNS = 8
POOLED = 3  # the first three draw from a shared budget
ROOT = Path(__file__).resolve().parents[2]


def _zone_near_noon() -> str:
    """A fixed-offset zone where it is around midday now, far from a day boundary."""
    offset = (12 - timezone.now().hour + 12) % 24 - 12  # -12 .. +11 hours
    return "Etc/GMT" if offset == 0 else f"Etc/GMT{-offset:+d}"  # POSIX signs are inverted


def _database_url() -> str:
    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def _run_workers(campaigns: list[Campaign], batch: int) -> None:
    ids = [str(c.pk) for c in campaigns]
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "spend.tests.concurrency_worker", _database_url(),
             str(worker), str(WORKERS), str(EVENTS_PER_WORKER), str(batch), *ids],
            cwd=ROOT, stderr=subprocess.PIPE, text=True,
        )
        for worker in range(WORKERS)
    ]  # fmt: skip
    for process in processes:
        _, errors = process.communicate(timeout=300)
        assert process.returncode == 0, errors


def _distinct_events(batch: int) -> dict[str, tuple[int, Decimal]]:
    """Every distinct event of the plan (campaign index, amount), replays folded into one."""
    events: dict[str, tuple[int, Decimal]] = {}
    for worker in range(WORKERS):
        planned = plan(worker, WORKERS, EVENTS_PER_WORKER, CAMPAIGNS, batched=batch > 0)
        for index, (key, campaign, amount) in enumerate(planned):
            events.setdefault(key or f"anonymous-{worker}-{index}", (campaign, amount))
    return events


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL's concurrency")
@pytest.mark.parametrize("batch", [0, 100], ids=["single events", "batches of 100"])
def test_concurrent_recorders_lose_nothing_and_pause_exactly_at_the_cap(batch: int) -> None:
    distinct = _distinct_events(batch)
    total = sum((amount for _, amount in distinct.values()), Decimal(0))
    cap = (total / 2).quantize(Decimal("0.01"))  # crossed halfway through
    brand = BrandFactory.create(
        timezone=_zone_near_noon(), daily_budget=cap, monthly_budget=Decimal("9e9")
    )
    budget = BudgetFactory.create(brand=brand, daily_limit=None, monthly_limit=Decimal("9e9"))
    campaigns = [
        CampaignFactory.create(brand=brand, budget=budget if i < POOLED else None)
        for i in range(CAMPAIGNS)
    ]

    _run_workers(campaigns, batch)

    today = local_date(timezone.now(), brand.timezone)
    day = BrandSpend.objects.get(brand=brand, period=Period.DAY, period_start=today)
    month = BrandSpend.objects.get(
        brand=brand, period=Period.MONTH, period_start=month_start(today)
    )
    ledger = SpendEvent.objects.aggregate(amount=Sum("amount"), count=Count("id"))

    # Totals: exactly the distinct events, in the ledger and every rollup.
    assert (ledger["amount"], ledger["count"]) == (total, len(distinct))
    assert (
        (day.amount, day.events_count)
        == (month.amount, month.events_count)
        == (total, len(distinct))
    )
    pooled = sum((a for c, a in distinct.values() if c < POOLED), Decimal(0))
    assert BudgetSpend.objects.get(budget=budget, period=Period.DAY).amount == pooled
    for index, campaign in enumerate(campaigns):
        expected = sum((a for c, a in distinct.values() if c == index), Decimal(0))
        rollup = CampaignSpend.objects.get(campaign=campaign, period=Period.DAY)
        assert rollup.amount == expected

    # Enforcement: every campaign paused for the brand's daily cap, each exactly once.
    assert set(Campaign.objects.values_list("pause_reason", flat=True)) == {"brand_daily_budget"}
    changes = CampaignStatusChange.objects.values("campaign").annotate(n=Count("id"))
    assert sorted(c["n"] for c in changes) == [1] * len(campaigns)

    # Overspend: exactly what was recorded after the crossing.
    after = SpendEvent.objects.filter(campaign_was_serving=False)
    before = SpendEvent.objects.filter(campaign_was_serving=True)
    overspent = after.aggregate(s=Sum("amount"))["s"]
    assert overspent > 0
    assert day.overspend == overspent
    served = before.aggregate(s=Sum("amount"), largest=Max("amount"))
    assert served["s"] == total - overspent
    assert (
        served["s"] >= cap > served["s"] - served["largest"]
    )  # the crossing event is the last served
    for campaign in campaigns:
        rollup = CampaignSpend.objects.get(campaign=campaign, period=Period.DAY)
        assert rollup.overspend == (
            after.filter(campaign=campaign).aggregate(s=Sum("amount"))["s"] or 0
        )

    # Alerts: each threshold of the daily cap raised once.
    thresholds = Alert.objects.filter(brand=brand, period=Period.DAY).values_list(
        "threshold", flat=True
    )
    assert sorted(t or 0 for t in thresholds) == [50, 80, 100]
