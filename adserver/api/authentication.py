"""Token authentication that remembers a token briefly in each web process."""

import threading
import time
from typing import Any

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from rest_framework import HTTP_HEADER_ENCODING, exceptions
from rest_framework.authentication import TokenAuthentication
from rest_framework.request import Request

from adserver.lockout import api_credentials_failed

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

    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        """DRF's, reading the header from META: DRF asks `request.headers`,
        which copies every header of the request into a new mapping first."""
        header = request.META.get("HTTP_AUTHORIZATION", b"")
        if isinstance(header, str):
            header = header.encode(HTTP_HEADER_ENCODING)
        auth = header.split()
        if not auth or auth[0].lower() != self.keyword.lower().encode():
            return None
        if len(auth) == 1:
            msg = _("Invalid token header. No credentials provided.")
            raise exceptions.AuthenticationFailed(msg)
        if len(auth) > 2:
            msg = _("Invalid token header. Token string should not contain spaces.")
            raise exceptions.AuthenticationFailed(msg)
        try:
            token = auth[1].decode()
        except UnicodeError:
            msg = _("Invalid token header. Token string should not contain invalid characters.")
            raise exceptions.AuthenticationFailed(msg) from None
        return self.authenticate_token(request, token)

    def authenticate_token(self, request: Request, key: str) -> tuple[Any, Any]:
        """The token's user; a failed token counts towards the address's lockout
        (adserver.lockout), and is a 429 once the address is locked out."""
        ttl = settings.API_TOKEN_CACHE_SECONDS
        now = time.monotonic()
        entry = self._remembered.get(key) if ttl > 0 else None
        if entry is not None and entry[0] > now:
            return entry[1]
        try:
            result = super().authenticate_credentials(key)
        except exceptions.AuthenticationFailed:
            api_credentials_failed(request, kind=self.keyword)
            raise
        if ttl <= 0:
            return result
        with self._lock:
            if len(self._remembered) >= MAX_REMEMBERED:
                self._remembered.clear()
            self._remembered[key] = (now + ttl, result)
        return result

    @classmethod
    def forget_all(cls) -> None:
        with cls._lock:
            cls._remembered.clear()
