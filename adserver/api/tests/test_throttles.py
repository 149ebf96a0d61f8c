"""Throttles: every API endpoint and the logins, counted in the Redis all web processes share."""

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.models import User
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.test import Client
from pytest_django.fixtures import Settings
from rest_framework.test import APIClient, APIRequestFactory

from adserver.api.authentication import FeedCredential
from adserver.api.tests.conftest import token_client
from adserver.api.throttling import ScopeRateThrottle, window_count

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[3]


def _rates(settings: Settings, **rates: str) -> None:
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"spend": "100000/min", "api": "1000/min", **rates},
    }


def test_the_counts_live_in_redis() -> None:
    assert isinstance(caches["default"], RedisCache)
    assert django_settings.CACHES["default"]["LOCATION"] == os.environ["CELERY_BROKER_URL"]


@pytest.mark.parametrize(
    "url", ["/api/brands/", "/api/budgets/", "/api/campaigns/", "/api/dayparts/", "/api/status/"]
)
def test_every_read_endpoint_is_throttled_per_user(
    staff_user: User, settings: Settings, url: str
) -> None:
    _rates(settings, api="2/min")
    api = token_client(staff_user)
    codes = [api.get(url).status_code for _ in range(3)]
    assert codes == [200, 200, 429]
    throttled = api.get(url)
    assert throttled.json()["detail"].startswith("Request was throttled")
    assert 0 < int(throttled["Retry-After"]) <= 60
    # Another person has a count of their own.
    other = User.objects.create_superuser("other", "o@example.com", "correct-horse-battery")
    assert token_client(other).get(url).status_code == 200


def test_anonymous_clients_are_counted_by_their_address(settings: Settings) -> None:
    _rates(settings, api="2/min")
    # Refused for the missing login before any count; the unknown path is counted.
    codes = [APIClient().get("/api/nowhere/").status_code for _ in range(3)]
    assert codes == [404, 404, 429]
    other_address = APIClient(REMOTE_ADDR="10.0.0.9")
    assert other_address.get("/api/nowhere/").status_code == 404


def test_a_forwarded_for_header_does_not_give_a_fresh_count(settings: Settings) -> None:
    _rates(settings, api="2/min")
    codes = [
        APIClient(HTTP_X_FORWARDED_FOR=f"10.1.0.{n}").get("/api/nowhere/").status_code
        for n in range(3)
    ]
    assert codes == [404, 404, 429]


def test_spend_keeps_its_own_rate(staff_user: User, settings: Settings) -> None:
    _rates(settings, api="1/min", spend="3/min")
    api = token_client(staff_user)
    assert api.get("/api/brands/").status_code == 200
    assert api.get("/api/brands/").status_code == 429
    assert [api.get("/api/spend/").status_code for _ in range(4)] == [200, 200, 200, 429]


def _throttle_client(auth: object, user: Any = None) -> str:
    request: Any = APIRequestFactory().post("/api/spend/")
    drf_request: Any = type("R", (), {"auth": auth, "user": user, "META": request.META})()
    return ScopeRateThrottle().client_of(drf_request)


def test_a_spend_feed_is_counted_by_its_key(staff_user: User) -> None:
    feed = FeedCredential(
        id="k1", name="google-ads", may_adjust=False, brand_ids=frozenset(), expires_at=None
    )
    assert _throttle_client(feed) == "feed-k1"
    assert _throttle_client(None, staff_user) == f"user-{staff_user.pk}"


def test_two_web_processes_share_one_limit(settings: Settings) -> None:
    """Another process (its own connection to Redis) counts against the same limit."""
    rate = "5/day"  # a window no test run straddles but at midnight
    assert [window_count("api", "user-shared", rate)[0] for _ in range(2)] == [True, True]
    prefix = django_settings.CACHES["default"]["KEY_PREFIX"]
    script = (
        "import django, os\n"
        "from django.conf import settings\n"
        f"settings.CACHES['default']['KEY_PREFIX'] = {prefix!r}\n"
        "django.setup()\n"
        "from adserver.api.throttling import window_count\n"
        f"print(','.join(str(window_count('api', 'user-shared', {rate!r})[0]) for _ in range(4)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "adserver.settings"},
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "True,True,True,False"
    assert window_count("api", "user-shared", rate)[0] is False


def test_logins_are_throttled_per_address(settings: Settings, staff_user: User) -> None:
    settings.LOGIN_THROTTLE_RATE = "3/min"
    client = Client()
    wrong = {"username": "nobody", "password": "wrong"}
    codes = [client.post("/login/", wrong).status_code for _ in range(3)]
    assert codes == [200, 200, 200]  # the form again, with its error
    refused = client.post("/login/", {"username": "staff", "password": "correct-horse-battery"})
    assert refused.status_code == 429
    assert "Try again in" in refused.content.decode()
    assert 0 < int(refused["Retry-After"]) <= 60
    # The admin's login counts with the dashboard's; showing the form stays free.
    assert client.post("/admin/login/", wrong).status_code == 429
    assert client.get("/login/").status_code == 200
    # Another address logs in.
    other = Client(REMOTE_ADDR="10.0.0.7")
    good = {"username": "staff", "password": "correct-horse-battery"}
    assert other.post("/login/", good).status_code == 302


def test_the_embedded_run_without_redis_counts_in_local_memory() -> None:
    script = (
        "import django\ndjango.setup()\nfrom django.conf import settings\n"
        "print(settings.CACHES['default']['BACKEND'])\n"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "adserver.settings"}
    env["CELERY_BROKER_URL"] = "filesystem://"
    env.pop("CACHE_URL", None)
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.stdout.strip() == "django.core.cache.backends.locmem.LocMemCache", result.stderr
    env["CACHE_URL"] = "redis://127.0.0.1:6399/3"
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.stdout.strip() == "django.core.cache.backends.redis.RedisCache", result.stderr


def test_an_unreachable_cache_lets_requests_through(
    staff_user: User, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    _rates(settings, api="1/min")
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:9/0",  # nothing listens on the discard port
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    api = token_client(staff_user)
    assert [api.get("/api/status/").status_code for _ in range(2)] == [200, 200]
    assert "Throttle cache unreachable" in caplog.text


def test_a_window_counter_expires_after_its_window() -> None:
    cache: Any = caches["default"]
    assert window_count("api", "user-ttl", "10/min")[0] is True
    client = cache._cache.get_client(write=True)
    keys = list(client.scan_iter(match=f"{cache.key_prefix}:*throttle:api:user-ttl:*"))
    assert len(keys) == 1
    assert 0 < client.ttl(keys[0]) <= 61
    assert int(client.get(keys[0])) == 1


def test_a_high_rate_is_counted_in_redis_in_batches_and_still_shared() -> None:
    """At 20,000 a window a process sends its counts 50 at a time; once it has
    sent a batch it sees the other processes' counts, and refuses past the limit."""
    cache: Any = caches["default"]
    client = cache._cache.get_client(write=True)
    rate = "20000/day"
    window = int(time.time() // 86400)
    key = cache.make_key(f"throttle:spend:feed-batched:{window}")
    client.set(key, 19_960)  # what the other web processes counted already

    answers = [window_count("spend", "feed-batched", rate)[0] for _ in range(49)]
    assert all(answers)
    assert int(client.get(key)) == 19_960  # nothing sent yet: one round trip per 50
    assert window_count("spend", "feed-batched", rate)[0] is False  # 19,960 + 50
    assert int(client.get(key)) == 20_010
    assert window_count("spend", "feed-batched", rate)[0] is False  # seen: refused at once
    assert client.ttl(key) > 0 or client.ttl(key) == -1


def test_a_low_rate_is_counted_request_by_request() -> None:
    cache: Any = caches["default"]
    client = cache._cache.get_client(write=True)
    assert [window_count("api", "user-exact", "199/min")[0] for _ in range(3)] == [True] * 3
    keys = list(client.scan_iter(match=f"{cache.key_prefix}:*throttle:api:user-exact:*"))
    assert [int(client.get(k)) for k in keys] == [3]


def test_the_django_cache_members_the_throttle_uses_are_there() -> None:
    # _redis_client is the one place that reaches into Django's RedisCache:
    # this fails on a Django that renamed or reshaped what it reads.
    import inspect

    from django.core.cache.backends.redis import RedisCache, RedisCacheClient

    assert hasattr(RedisCache, "_cache")
    assert "write" in inspect.signature(RedisCacheClient.get_client).parameters
