"""With DEBUG off and no SECRET_KEY, serving processes refuse to start; tools still run."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
MESSAGE = "SECRET_KEY must be set when DEBUG is off"


def _run(*command: str, **extra_env: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "SECRET_KEY"}}
    env.update(extra_env)
    return subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, check=False, timeout=60
    )


def test_the_web_application_refuses_to_load() -> None:
    result = _run(sys.executable, "-c", "import adserver.wsgi")
    assert result.returncode != 0
    assert MESSAGE in result.stderr


@pytest.mark.parametrize("process", ["worker", "beat"])
def test_celery_worker_and_beat_refuse_to_start(process: str, tmp_path: Path) -> None:
    extra = ["--pool", "solo"] if process == "worker" else ["-s", str(tmp_path / "schedule")]
    # A database that does not exist: the key is checked before anything
    # connects, so the refusal names the key, not a connection error.
    result = _run(
        str(BIN / "celery"), "-A", "adserver", process, "-l", "warning", *extra,
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/adserver_no_such_database",
    )  # fmt: skip
    assert result.returncode == 1
    assert MESSAGE in result.stdout + result.stderr


def test_migration_tools_run_without_a_key() -> None:
    result = _run(sys.executable, "manage.py", "makemigrations", "--check", "--dry-run")
    assert result.returncode == 0, result.stderr
    assert "No changes detected" in result.stdout
