"""The embedded default of `make run` (SQLite) runs the whole product end to end.

Tests run on PostgreSQL; this one drives the real commands in a subprocess on
a fresh SQLite file: migrations (with their SQLite triggers), the demo data,
and a simulated day of spend through the recording services and the reconcile.
"""

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
