"""Checks behind /healthz: each returns "ok" or "down: <why>", quickly."""

import os

import redis
from django.conf import settings
from django.db import connection

from adserver.celery import app as celery_app

BROKER_TIMEOUT_SECONDS = 1.0


def database_status() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:  # noqa: BLE001 - any failure means "down"
        return f"down: {exc.__class__.__name__}"
    return "ok"


def _check_redis(url: str) -> None:
    client = redis.Redis.from_url(
        url,
        socket_connect_timeout=BROKER_TIMEOUT_SECONDS,
        socket_timeout=BROKER_TIMEOUT_SECONDS,
        retry_on_timeout=False,
    )
    try:
        client.ping()
    finally:
        client.close()


def _check_filesystem(options: dict[str, object]) -> None:
    for key in ("data_folder_in", "data_folder_out"):
        folder = str(options.get(key, ""))
        if not os.path.isdir(folder) or not os.access(folder, os.R_OK | os.W_OK):
            raise NotADirectoryError(f"{key} {folder!r} is not a writable folder")


def _check_other(url: str) -> None:
    with celery_app.connection_for_write(url) as conn:
        conn.ensure_connection(max_retries=1, timeout=int(BROKER_TIMEOUT_SECONDS) or 1)


def broker_status() -> str:
    """Whether the Celery broker of the settings answers, within about a second."""
    url: str = settings.CELERY_BROKER_URL
    try:
        if url.startswith(("redis://", "rediss://", "unix://")):
            _check_redis(url)
        elif url.startswith("filesystem://"):
            _check_filesystem(settings.CELERY_BROKER_TRANSPORT_OPTIONS)
        else:
            _check_other(url)
    except Exception as exc:  # noqa: BLE001 - any failure means "down"
        return f"down: {exc.__class__.__name__}"
    return "ok"
