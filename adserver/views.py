"""Cross-app pages: health check, and the answer to an uncaught error."""

import math
import sys
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.views import defaults
from django.views.decorators.http import require_GET

from adserver.api.throttling import login_throttled
from adserver.health import broker_status, database_status
from adserver.middleware import DATABASE_DOWN, connection_discard, outage_response
from spend.liveness import reconcile_liveness


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: a database outage met outside a view (the session, say) is a 503 too."""
    if isinstance(sys.exc_info()[1], DATABASE_DOWN):
        connection_discard()
        return outage_response(request)
    return defaults.server_error(request)


def login_throttle(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """A login view whose POSTs are throttled per client address (LOGIN_THROTTLE_RATE).

    On top of the lockout of a username and address pair (django-axes): this
    one stops an address from trying many usernames.
    """

    @wraps(view)
    def throttled(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        wait = login_throttled(request)
        if wait is None:
            return view(request, *args, **kwargs)
        retry_after = max(1, math.ceil(wait))
        response = render(request, "429.html", {"retry_after": retry_after}, status=429)
        response["Retry-After"] = str(retry_after)
        return response

    return throttled


def reconcile_status() -> str:
    """ "ok", "stale" (no reconcile tick finished lately), or "unknown" (no database)."""
    try:
        return reconcile_liveness().status
    except DATABASE_DOWN:
        return "unknown"


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """200 when the database and broker answer and the reconcile runs; 503 naming what is not."""
    database = database_status()
    checks = {
        "database": database,
        "broker": broker_status(),
        "reconcile": reconcile_status() if database == "ok" else "unknown",
    }
    down = sorted(name for name, value in checks.items() if value not in ("ok", "unknown"))
    body: dict[str, object] = {"status": "down" if down else "ok", **checks}
    if down:
        body["down"] = down
    return JsonResponse(body, status=503 if down else 200)
