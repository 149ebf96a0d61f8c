"""Throttling: a counter per client and time window, in the cache all web processes share.

Every API endpoint is throttled: the spend endpoints by the `spend` rate,
every other one by the `api` rate (a view's `throttle_scope` picks). The
logins of the dashboard and the admin are throttled per client address by
`login_throttled`. The counts live in the `default` cache: Redis in
production and tests (settings.CACHES), so a limit is one limit however
many web processes serve; local memory only in `make run` without Redis.
"""

import logging
import threading
import time
from typing import TYPE_CHECKING, Any

import redis
from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.http import HttpRequest
from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle, SimpleRateThrottle

from adserver.api.permissions import is_spend_feed

if TYPE_CHECKING:  # rest_framework.views reads DEFAULT_THROTTLE_CLASSES, naming this module
    from rest_framework.views import APIView

logger = logging.getLogger(__name__)

DEFAULT_SCOPE = "api"


# A process hands its counts to Redis in batches of up to this many requests,
# and of at most 1/BATCH_SHARE of the limit (a limit under 200 is counted
# request by request). Written here rather than taken from a library because
# the one round trip per request was the throttle's whole cost: with it, a
# single spend event's request took 0.78 times as many requests a second as
# without (benchmarks/api_spend.py); batched, the round trip is paid once in
# BATCH requests. The price: each process may let through up to BATCH - 1
# requests more than the limit per window (0.15% of 100,000/min with three
# processes), and a window's last unsent requests are not counted.
MAX_BATCH = 50
BATCH_SHARE = 200
_pending: dict[str, list[int]] = {}  # key -> [unsent requests, last total Redis gave]
_pending_lock = threading.Lock()


def _batch_of(limit: int) -> int:
    return max(1, min(MAX_BATCH, limit // BATCH_SHARE))


def _count_in_redis(cache: RedisCache, key: str, *, timeout: int, batch: int = 1) -> int:
    """This request's number in its window, counted in batches of `batch`.

    One INCRBY for a batch (a second round trip only for the window's first:
    EXPIRE). Django's RedisCache.incr asks EXISTS before INCR (two round
    trips, and a race at a window's start). INCRBY alone creates the counter;
    the request that made it sets its expiry. Should that request die in
    between, the key stays behind without an expiry but is never counted
    again: the next window has a key of its own.
    """
    with _pending_lock:
        entry = _pending.get(key)
        if entry is None:
            if len(_pending) >= 1024:  # old windows' entries: forget them all
                _pending.clear()
            entry = _pending[key] = [0, 0]
        entry[0] += 1
        if entry[0] < batch:
            return entry[0] + entry[1]
        unsent, entry[0] = entry[0], 0
    full_key = cache.make_key(key)  # ours: short, ASCII, no validation needed
    client = _redis_client(cache)
    count = int(client.incrby(full_key, unsent))
    if count == unsent:
        client.expire(full_key, timeout)
    with _pending_lock:
        entry[1] = max(entry[1], count)
    return count


def _redis_client(cache: RedisCache) -> Any:
    """The cache's Redis client (for INCRBY and EXPIRE, which Django's cache API lacks).

    The one place that reads Django's RedisCache internals (`_cache`,
    `get_client`); test_throttles checks that this Django has them.
    """
    backend: Any = cache._cache
    return backend.get_client(write=True)


def _count(key: str, *, timeout: int, batch: int = 1) -> int:
    """This request's number in its window."""
    cache: Any = caches["default"]
    if isinstance(cache, RedisCache):
        return _count_in_redis(cache, key, timeout=timeout, batch=batch)
    try:  # local memory (make run without Redis): incr is in-process and cheap
        return int(cache.incr(key))
    except ValueError:  # no count yet: start it, unless another request just did
        if cache.add(key, 1, timeout=timeout):
            return 1
        try:
            return int(cache.incr(key))
        except ValueError:  # gone again (expired in between): count afresh
            cache.set(key, 1, timeout=timeout)
            return 1


def window_count(scope: str, who: str, rate: str) -> tuple[bool, float]:
    """Count one request of `who` under `scope`: (allowed, seconds to the next window).

    `rate` in DRF's syntax ("100000/min"), read by DRF's parse_rate.
    """
    limit, period = ScopeRateThrottle().parse_rate(rate)
    if limit is None or period is None:  # only for no rate, which never reaches here
        raise ValueError(f"not a rate: {rate!r}")
    now = time.time()
    window = int(now // period)
    try:
        count = _count(
            f"throttle:{scope}:{who}:{window}", timeout=period + 1, batch=_batch_of(limit)
        )
    except (redis.RedisError, OSError) as exc:
        # A guard against runaway clients is not worth refusing spend while
        # Redis is away: count nothing, let the request through, say so.
        logger.warning("Throttle cache unreachable, %s request not counted: %s", scope, exc)
        return True, 0.0
    return count <= limit, (window + 1) * period - now


class ScopeRateThrottle(SimpleRateThrottle):
    """DRF's rate throttle, the rate of the view's `throttle_scope` (else `api`), in fixed windows.

    DRF's own throttles keep every request's timestamp in one cached list
    and rewrite it on each request: at a spend feed's rates that list is tens
    of thousands of entries long. Here `allow_request` counts in a counter per
    window instead: one increment, one Redis round trip per batch of requests
    (see MAX_BATCH). DRF's `parse_rate` reads the rate, which `get_rate`
    takes from the settings per request, so a settings change applies at
    once. A burst may reach twice the rate across a window boundary.

    Counted per spend feed (by its key), per user, or per client address
    for a request without a login (`get_cache_key`).
    """

    def __init__(self) -> None:  # the rate is the view's, known per request
        self.wait_seconds: float | None = None

    def get_rate(self) -> str | None:
        rate = api_settings.DEFAULT_THROTTLE_RATES.get(self.scope or DEFAULT_SCOPE)
        return None if rate is None else str(rate)

    def allow_request(self, request: Request, view: "APIView") -> bool:
        self.scope = str(getattr(view, "throttle_scope", None) or DEFAULT_SCOPE)
        rate = self.get_rate()
        if rate is None:
            return True
        who = self.get_cache_key(request, view)
        allowed, self.wait_seconds = window_count(self.scope, who, rate)
        return allowed

    def get_cache_key(self, request: Request, view: "APIView | None") -> str:
        return self.client_of(request)

    def client_of(self, request: Request) -> str:
        if is_spend_feed(request):
            feed: Any = request.auth
            return f"feed-{feed.id}"  # its key's id: a feed is no user
        user = request.user
        if user and user.is_authenticated:
            return f"user-{user.pk}"
        return f"ip-{client_address(request)}"

    def wait(self) -> float | None:
        return self.wait_seconds


def client_address(request: HttpRequest) -> str | None:
    """The client's address: REMOTE_ADDR, or the NUM_PROXIES-th last of
    X-Forwarded-For behind that many trusted proxies (never a header a
    client could send to get a fresh count with every request)."""
    address = BaseThrottle().get_ident(request)  # type: ignore[arg-type]  # reads META only
    return str(address) if address else None


def login_throttled(request: HttpRequest) -> float | None:
    """Seconds to wait when this login attempt is over LOGIN_THROTTLE_RATE, else None.

    Counted per client address over the POSTs of the dashboard's and the
    admin's login forms together; showing the form is free.
    """
    if request.method != "POST" or not settings.LOGIN_THROTTLE_RATE:
        return None
    who = f"ip-{client_address(request)}"
    allowed, wait = window_count("login", who, settings.LOGIN_THROTTLE_RATE)
    return None if allowed else wait
