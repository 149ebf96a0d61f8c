"""`make run` picks its broker: the configured one, a local Redis, or the embedded one."""

import os
import subprocess
import sys
from pathlib import Path

from django.conf import settings

from adserver.broker_choice import EMBEDDED, choose_broker_url, redis_answers

NOBODY_LISTENS = "redis://127.0.0.1:1/0"
ROOT = Path(__file__).resolve().parents[2]


def test_a_configured_broker_url_always_wins() -> None:
    environ = {"CELERY_BROKER_URL": "redis://queue.internal:6379/3"}
    assert choose_broker_url(environ, local_redis=NOBODY_LISTENS) == environ["CELERY_BROKER_URL"]


def test_without_a_configured_url_a_local_redis_that_answers_is_used() -> None:
    assert settings.CELERY_BROKER_URL.startswith("redis://"), "tests run with the real Redis"
    assert redis_answers(settings.CELERY_BROKER_URL)
    assert choose_broker_url({}, local_redis=settings.CELERY_BROKER_URL) == (
        settings.CELERY_BROKER_URL
    )


def test_without_redis_the_embedded_filesystem_broker_is_used() -> None:
    assert choose_broker_url({"CELERY_BROKER_URL": " "}, local_redis=NOBODY_LISTENS) == EMBEDDED


def test_the_command_prints_the_choice() -> None:
    env = {**os.environ, "CELERY_BROKER_URL": "filesystem://"}
    result = subprocess.run(
        [sys.executable, "-m", "adserver.broker_choice"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    assert result.stdout == "filesystem://\n"
