"""Throttling of the spend endpoints: a counter per client and time window."""

import time
from typing import Any

from django.core.cache import caches
from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle
from rest_framework.views import APIView

PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rate(rate: str) -> tuple[int, int]:
    """DRF's rate syntax: "100000/min" -> (100000, 60)."""
    number, period = rate.split("/")
    return int(number), PERIODS[period[0]]


def _count(key: str, *, timeout: int) -> int:
    """This request's number in its window: one cache call, two for a window's first."""
    cache: Any = caches["default"]
    try:
        return int(cache.incr(key))
    except ValueError:  # no count yet: start it, unless another request just did
        if cache.add(key, 1, timeout=timeout):
            return 1
        try:
            return int(cache.incr(key))
        except ValueError:  # gone again (expired in between): count afresh
            cache.set(key, 1, timeout=timeout)
            return 1


def _client_identity(request: Request) -> str | None:
    """A person by id, a spend feed by its key's id (a feed is no user); None:
    anonymous, counted by address."""
    if getattr(request.auth, "is_spend_feed", False) is True:
        return f"feed-{request.auth.id}"  # type: ignore[union-attr]
    user = request.user
    return f"user-{user.pk}" if user and user.is_authenticated else None


class ScopeRateThrottle(BaseThrottle):
    """The rate of `throttle_scope` in settings, counted in fixed windows.

    DRF's own throttles keep every request's timestamp in one cached list
    and rewrite it on each request: at a spend feed's rates that list is tens
    of thousands of entries long. A counter per window is one increment. The
    rate is read per request, so a settings change applies at once, and the
    counts live in the process's default cache (local memory unless
    configured): a guard against a runaway client that never needs Redis.
    A burst may reach twice the rate across a window boundary.
    """

    def __init__(self) -> None:
        self.wait_seconds: float | None = None

    def allow_request(self, request: Request, view: APIView) -> bool:
        scope = getattr(view, "throttle_scope", None)
        rate = api_settings.DEFAULT_THROTTLE_RATES.get(str(scope)) if scope else None
        if rate is None:
            return True
        limit, period = parse_rate(str(rate))
        who = _client_identity(request) or self.get_ident(request)
        now = time.time()
        window = int(now // period)
        key = f"throttle:{scope}:{who}:{window}"
        count = _count(key, timeout=period + 1)
        self.wait_seconds = (window + 1) * period - now
        return count <= limit

    def wait(self) -> float | None:
        return self.wait_seconds
