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

from cachetools import TLRUCache
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone
from django.utils.translation import gettext
from knox.crypto import hash_token
from knox.models import get_token_model
from knox.settings import CONSTANTS
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication
from rest_framework.request import Request

from adserver.lockout import api_credentials_failed
from credentials.models import SpendFeed
from credentials.services import feed_touch

MAX_REMEMBERED = 1024

Credentials = tuple[Any, Any]

# DRF's words for a malformed header (its message ids), and ours.
HEADER_MESSAGES = {
    "Invalid token header. No credentials provided.": "Invalid header: no key after the scheme.",
    "Invalid token header. Token string should not contain spaces.": (
        "Invalid header: a key has no spaces."
    ),
    "Invalid token header. Token string should not contain invalid characters.": (
        "Invalid header: the key is not text."
    ),
}


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
    expires_at: dt.datetime | None  # the key's own expiry, checked on every use
    credentials: Credentials


class CredentialsRefused(exceptions.AuthenticationFailed):
    """A refusal that went through authentication_failed (counted, if it was a guess)."""


def authentication_failed(
    request: Request, scheme: str, message: str, *, known: bool = False
) -> NoReturn:
    """Refuse the request's credentials (401): the one place every refusal passes.

    A key that matches nothing (or a malformed header) counts towards the
    address's lockout (adserver.lockout), and is a 429 once the address is
    locked out for `scheme`. A `known` key that is revoked, expired or of a
    deactivated user is no guess: it is refused with its reason, uncounted.
    """
    if not known:
        api_credentials_failed(request, kind=scheme)
    raise CredentialsRefused(message)


def _until(_key: str, _value: Remembered, now: float) -> float:
    """How long a checked key is remembered: API_TOKEN_CACHE_SECONDS from now."""
    return now + float(settings.API_TOKEN_CACHE_SECONDS)


class RememberedAuthentication(TokenAuthentication):
    """DRF's `Authorization: <keyword> <key>`, a checked key remembered briefly per process.

    DRF reads the header; this checks the key (`check`) and remembers it,
    and words DRF's refusals of a malformed header as the API does,
    counting them towards the lockout like a wrong key.
    """

    _remembered: ClassVar[TLRUCache[str, Remembered]]
    _lock: ClassVar[threading.Lock]
    _request: Request

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._remembered = TLRUCache(maxsize=MAX_REMEMBERED, ttu=_until, timer=time.monotonic)
        cls._lock = threading.Lock()

    def authenticate(self, request: Request) -> Credentials | None:
        self._request = request  # an instance serves one request (APIView makes them)
        try:
            return super().authenticate(request)
        except CredentialsRefused:
            raise
        except exceptions.AuthenticationFailed as refused:  # the header, as DRF read it
            ours = {gettext(theirs): mine for theirs, mine in HEADER_MESSAGES.items()}
            authentication_failed(
                request, self.keyword, ours.get(str(refused.detail), "Invalid header.")
            )

    def authenticate_credentials(self, key: str) -> Credentials:
        with self._lock:
            entry = self._remembered.get(key)
        if entry is not None and (entry.expires_at is None or entry.expires_at > timezone.now()):
            return entry.credentials
        credentials, expires_at = self.check(self._request, key)  # refuses a bad key
        if settings.API_TOKEN_CACHE_SECONDS > 0:
            with self._lock:
                self._remembered[key] = Remembered(expires_at, credentials)
        return credentials

    def check(self, request: Request, key: str) -> tuple[Credentials, dt.datetime | None]:
        """The credentials of `key` and when they expire; refuse a bad key."""
        raise NotImplementedError


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
            authentication_failed(request, self.keyword, "This token has expired.", known=True)
        if not token.user.is_active:
            authentication_failed(request, self.keyword, "User inactive or deleted.", known=True)
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
            authentication_failed(request, self.keyword, "This API key was revoked.", known=True)
        if not feed.usable_at(now):
            authentication_failed(request, self.keyword, "This API key has expired.", known=True)
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
