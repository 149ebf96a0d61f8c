"""Who is calling the API: a person's token or a spend feed's key.

- `Authorization: Token <key>`: a person's token (django-rest-knox's
  `AuthToken`, stored as a SHA-512 digest, optionally expiring).
- `Authorization: Api-Key <key>`: a spend feed (`credentials.SpendFeed`,
  djangorestframework-api-key's hashed keys). Its `request.user` is
  Django's `AnonymousUser`, which holds no right anywhere, and its
  `request.auth` is a `FeedCredential`; `SpendFeedScope` lets it post spend
  and nothing else.

A spend feed sends hundreds of requests a second with one key, so each web
process remembers a key (or token) it has checked for at most
`API_TOKEN_CACHE_SECONDS` (at most 1 s; settings refuse more): a revoked
key, an expired one, a deleted token or a deactivated user is refused by
every process within that second, with one lookup a second per process and
key instead of one per request. No shared version key is needed for that
bound, and the spend path keeps needing nothing but the database.

Every refusal goes through `authentication_failed`, the one place where
failed key authentications can be counted (a lockout, a log).
"""

import datetime as dt
import threading
import time
from dataclasses import dataclass
from hmac import compare_digest
from typing import Any, ClassVar, NoReturn

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone
from knox.crypto import hash_token
from knox.models import get_token_model
from knox.settings import CONSTANTS
from rest_framework import HTTP_HEADER_ENCODING, exceptions
from rest_framework.authentication import BaseAuthentication
from rest_framework.request import Request

from credentials.models import SpendFeed
from credentials.services import feed_touch

MAX_REMEMBERED = 1024

Credentials = tuple[Any, Any]


@dataclass(frozen=True)
class FeedCredential:
    """`request.auth` of a spend feed: what the spend path needs to know of it."""

    is_spend_feed: ClassVar[bool] = True
    id: str
    name: str
    may_adjust: bool
    brand_ids: frozenset[int]
    expires_at: dt.datetime | None


@dataclass(frozen=True)
class Remembered:
    until: float  # time.monotonic()
    expires_at: dt.datetime | None  # the key's own expiry, checked on every use
    credentials: Credentials


def authentication_failed(request: Request, scheme: str, message: str) -> NoReturn:
    """Refuse the request's credentials (401): the one place every refusal passes."""
    raise exceptions.AuthenticationFailed(message)


class RememberedAuthentication(BaseAuthentication):
    """`Authorization: <keyword> <key>`, a checked key remembered briefly per process."""

    keyword: ClassVar[str]
    _remembered: ClassVar[dict[str, "Remembered"]]
    _lock: ClassVar[threading.Lock]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._remembered = {}
        cls._lock = threading.Lock()

    def authenticate_header(self, request: Request) -> str:
        return self.keyword

    def authenticate(self, request: Request) -> Credentials | None:
        # From META: `request.headers` would copy every header of the request first.
        header = request.META.get("HTTP_AUTHORIZATION", b"")
        if isinstance(header, str):
            header = header.encode(HTTP_HEADER_ENCODING)
        parts = header.split()
        if not parts or parts[0].lower() != self.keyword.lower().encode():
            return None
        if len(parts) == 1:
            authentication_failed(request, self.keyword, "Invalid header: no key after the scheme.")
        if len(parts) > 2:
            authentication_failed(request, self.keyword, "Invalid header: a key has no spaces.")
        try:
            key = parts[1].decode()
        except UnicodeError:
            authentication_failed(request, self.keyword, "Invalid header: the key is not text.")
        return self.remembered(request, key)

    def remembered(self, request: Request, key: str) -> Credentials:
        now = time.monotonic()
        entry = self._remembered.get(key)
        if (
            entry is not None
            and entry.until > now
            and (entry.expires_at is None or entry.expires_at > timezone.now())
        ):
            return entry.credentials
        credentials, expires_at = self.check(request, key)  # refuses a bad key
        ttl = float(settings.API_TOKEN_CACHE_SECONDS)
        if ttl > 0:
            with self._lock:
                if len(self._remembered) >= MAX_REMEMBERED:
                    self._remembered.clear()
                self._remembered[key] = Remembered(now + ttl, expires_at, credentials)
        return credentials

    def check(self, request: Request, key: str) -> tuple[Credentials, dt.datetime | None]:
        """The credentials of `key` and when they expire; refuse a bad key."""
        raise NotImplementedError

    @classmethod
    def forget_all(cls) -> None:
        for subclass in cls.__subclasses__():
            with subclass._lock:
                subclass._remembered.clear()


class UserTokenAuthentication(RememberedAuthentication):
    """A person's token: knox's rule (digest, expiry, active user) in one query.

    knox's own `authenticate_credentials` also reads every other token of
    the user, to delete the expired ones, on every check: a second query on
    each request of the API. Here the token's own row is all that is read,
    through knox's lookup key and digest; an expired token is deleted when
    it is presented, as knox does.
    """

    keyword = "Token"

    def check(self, request: Request, key: str) -> tuple[Credentials, dt.datetime | None]:
        digest = hash_token(key)
        tokens = get_token_model().objects.select_related("user")
        token = next(
            (
                candidate
                for candidate in tokens.filter(token_key=key[: CONSTANTS.TOKEN_KEY_LENGTH])
                if compare_digest(candidate.digest, digest)
            ),
            None,
        )
        if token is None:
            authentication_failed(request, self.keyword, "Invalid token.")
        if token.expiry is not None and token.expiry <= timezone.now():
            token.delete()
            authentication_failed(request, self.keyword, "This token has expired.")
        if not token.user.is_active:
            authentication_failed(request, self.keyword, "User inactive or deleted.")
        return (token.user, token), token.expiry


class SpendFeedAuthentication(RememberedAuthentication):
    """A spend feed's key: found by its prefix, its digest compared, then its state."""

    keyword = "Api-Key"

    def check(self, request: Request, key: str) -> tuple[Credentials, dt.datetime | None]:
        prefix, dot, _secret = key.partition(".")
        feed = SpendFeed.objects.filter(prefix=prefix).first() if dot else None
        if feed is None or not feed.is_valid(key):
            authentication_failed(request, self.keyword, "Invalid API key.")
        now = timezone.now()
        if feed.revoked:
            authentication_failed(request, self.keyword, "This API key was revoked.")
        if not feed.usable_at(now):
            authentication_failed(request, self.keyword, "This API key has expired.")
        if feed.last_used_is_stale(now):
            feed_touch(feed_id=feed.pk, now=now)
        credential = FeedCredential(
            id=feed.pk,
            name=feed.name,
            may_adjust=feed.may_adjust,
            brand_ids=frozenset(feed.brands.values_list("pk", flat=True)),
            expires_at=feed.expiry_date,
        )
        return (AnonymousUser(), credential), feed.expiry_date
