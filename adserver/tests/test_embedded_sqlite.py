"""The embedded default of `make run` (SQLite) runs the whole product end to end.

Tests run on PostgreSQL; this one drives the real commands in a subprocess on
a fresh SQLite file: migrations (with their SQLite triggers), the demo data,
and a simulated day of spend through the recording services and the reconcile.
"""

import datetime as dt
import itertools
import json
import os
import sqlite3
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _manage(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


# Today's serving windows of every demo brand (the gaps-and-islands statement
# on SQLite), each pair as two ISO instants, and the brands' pacing.
SERVING_WINDOWS = """
import json
from django.utils import timezone
from budgets.models import Brand
from campaigns.serving_time import serving_windows_today
from spend.pacing import brand_pacing
brands = list(Brand.objects.all())
now = timezone.now()
windows = serving_windows_today({b.pk: b.timezone for b in brands}, now)
pacing = brand_pacing(brands, now=now)
print(json.dumps({
    "now": now.isoformat(),
    "windows": [[[a.isoformat(), b.isoformat()] for a, b in w] for w in windows.values()],
    "paced": sum(p is not None for p in pacing.values()),
}))
"""


def _serving_windows_on_sqlite(env: dict[str, str]) -> None:
    found = json.loads(_manage(env, "shell", "-v", "0", "-c", SERVING_WINDOWS).splitlines()[-1])
    now = dt.datetime.fromisoformat(found["now"])
    assert len(found["windows"]) == found["paced"] == 3
    assert any(found["windows"])
    for windows in found["windows"]:
        pairs = [(dt.datetime.fromisoformat(a), dt.datetime.fromisoformat(b)) for a, b in windows]
        assert all(a < b for a, b in pairs)
        # in order, apart, and all within a day of now
        assert all(b < c for (_, b), (c, _) in itertools.pairwise(pairs))
        assert all(abs(b - now) <= dt.timedelta(hours=26) for _, b in pairs)


@pytest.mark.slow
def test_migrate_seed_and_simulate_on_sqlite(tmp_path: Path) -> None:
    database = tmp_path / "embedded.sqlite3"
    env = {
        **os.environ,
        "DEBUG": "1",
        "DATABASE_URL": f"sqlite:///{database}",
        "EMAIL_URL": "dummymail://",
        "LOG_LEVEL": "ERROR",
    }
    _manage(env, "migrate", "--no-input", "-v", "0")
    _manage(env, "seed_demo", "--brands", "3")
    _serving_windows_on_sqlite(env)
    summary = json.loads(
        _manage(
            env,
            "simulate_spend",
            "--simulated-days",
            "0.5",
            "--tick-minutes",
            "15",
            "--retry-ratio",
            "0.1",
            "--seed",
            "11",
            "--json",
            "--no-progress",
        )
    )

    assert summary["events_sent"] == summary["ledger_events"] > 0
    assert summary["ledger_amount"] == summary["amount_sent"]
    # Per currency, never added across: the three demo brands' three currencies.
    assert set(summary["ledger_amount"]) == {"USD", "INR", "NOK"}
    assert summary["duplicates"] == summary["retries"] > 0
    with sqlite3.connect(database) as db:
        (ledger_total,) = db.execute("SELECT SUM(amount) FROM spend_spendevent").fetchone()
        (manual,) = db.execute(
            "SELECT COUNT(*) FROM campaigns_campaign WHERE pause_reason = 'manual'"
        ).fetchone()
        # The ledger stays append-only on SQLite too.
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            db.execute("DELETE FROM spend_spendevent")
    assert Decimal(str(ledger_total)).quantize(Decimal("0.000001")) == sum(
        Decimal(amount) for amount in summary["ledger_amount"].values()
    )
    assert manual == 3
