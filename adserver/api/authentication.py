"""Token authentication that remembers a token briefly in each web process."""

import threading
import time
from typing import Any

from django.conf import settings
from rest_framework.authentication import TokenAuthentication

MAX_REMEMBERED = 1024


class RememberedTokenAuthentication(TokenAuthentication):
    """DRF's token check, remembered for API_TOKEN_CACHE_SECONDS per process.

    A spend feed sends hundreds of requests a second with one token; looking
    it up each time is a database round trip per event. The price: a deleted
    token, or a deactivated user, keeps working in each web process until
    its entry expires (0 turns remembering off).
    """

    _remembered: dict[str, tuple[float, tuple[Any, Any]]] = {}
    _lock = threading.Lock()

    def authenticate_credentials(self, key: str) -> tuple[Any, Any]:
        ttl = settings.API_TOKEN_CACHE_SECONDS
        if ttl <= 0:
            return super().authenticate_credentials(key)
        now = time.monotonic()
        entry = self._remembered.get(key)
        if entry is not None and entry[0] > now:
            return entry[1]
        result = super().authenticate_credentials(key)  # raises for a bad token
        with self._lock:
            if len(self._remembered) >= MAX_REMEMBERED:
                self._remembered.clear()
            self._remembered[key] = (now + ttl, result)
        return result

    @classmethod
    def forget_all(cls) -> None:
        with cls._lock:
            cls._remembered.clear()
