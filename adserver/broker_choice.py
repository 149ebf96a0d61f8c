"""Print the Celery broker URL that `make run` should use.

CELERY_BROKER_URL when it is set; else the local Redis when it answers a
PING; else kombu's filesystem transport (no server needed: worker and beat
exchange messages through folders under var/broker). Deliberately free of
Django so that it answers at once.

    python -m adserver.broker_choice
"""

import os
import sys

import redis

LOCAL_REDIS = "redis://127.0.0.1:6379/0"
EMBEDDED = "filesystem://"


def redis_answers(url: str, *, timeout: float = 0.5) -> bool:
    client = redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout)
    try:
        return bool(client.ping())
    except (redis.RedisError, OSError):
        return False
    finally:
        client.close()


def choose_broker_url(environ: dict[str, str], *, local_redis: str = LOCAL_REDIS) -> str:
    configured = environ.get("CELERY_BROKER_URL", "").strip()
    if configured:
        return configured
    return local_redis if redis_answers(local_redis) else EMBEDDED


def main() -> None:
    sys.stdout.write(choose_broker_url(dict(os.environ)) + "\n")


if __name__ == "__main__":
    main()
