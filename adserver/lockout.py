"""Failed API credentials count towards the same lockout as failed logins (django-axes).

A bad password on the dashboard or the admin is counted by axes' backend. An
API key or token has no username, so a failed one is counted under a label
of its kind (`api-token`, `api-api-key`) with the client's address: the pair
is locked after LOGIN_FAILURE_LIMIT failures like any other, and unlocked
the same way (its row under "Access attempts" in the admin, or the cool-off).

`api_credentials_failed` is the one function to call for a key that matches
nothing (adserver.api.authentication.authentication_failed calls it for
tokens and feed keys): it counts the failure and, once the pair is locked,
answers a JSON 429 instead of the 401. A key that matches costs no lockout
query: keys are random (160 bits and more), so the threat a lockout answers
for passwords, guessing, does not reach them; what it stops is a client
hammering the database with keys that do not exist. A revoked or expired key
is no guess and is not counted.
"""

from typing import Any

from django.conf import settings
from django.contrib.auth.signals import user_login_failed
from django.http import HttpRequest
from rest_framework import status
from rest_framework.exceptions import APIException


class LockedOut(APIException):
    """A JSON 429 with Retry-After: the address has failed too often with this kind of key."""

    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_code = "locked_out"

    def __init__(self, kind: str) -> None:
        minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
        super().__init__(
            f"Too many failed attempts with an unknown {kind} from this address: locked out for "
            f"{minutes} minutes, or until an administrator unlocks it."
        )
        self.wait = settings.AXES_COOLOFF_TIME.total_seconds()


def _label(kind: str) -> dict[str, Any]:
    return {"username": f"api-{kind.lower()}"}


def _django_request(request: Any) -> HttpRequest:
    """Axes keeps its marks on Django's request, not DRF's wrapper of it."""
    return getattr(request, "_request", request)  # type: ignore[no-any-return]


def api_credentials_failed(request: Any, *, kind: str) -> None:
    """Count one failed `kind` from this address; raise LockedOut when that locks it.

    Called on the way to refusing the key: the caller raises its own
    AuthenticationFailed (401) when this returns.
    """
    django_request = _django_request(request)
    user_login_failed.send(sender=__name__, credentials=_label(kind), request=django_request)
    if getattr(django_request, "axes_locked_out", False):
        # Answered here, as JSON: axes' middleware would answer the login
        # page's HTML lockout instead.
        django_request.axes_locked_out = False  # type: ignore[attr-defined]
        raise LockedOut(kind)
