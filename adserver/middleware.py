"""Request-wide context for the services."""

import logging
from collections.abc import Callable

from django.conf import settings
from django.db import InterfaceError, OperationalError, connection
from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.template.loader import render_to_string

from budgets import audit
from budgets.models import Via
from spend import metrics

logger = logging.getLogger(__name__)


def _via(path: str) -> str:
    # The prefixes of adserver/urls.py: the API, the admin, and the dashboard for the rest.
    if path.startswith("/api/"):
        return Via.API
    if path.startswith("/admin/"):
        return Via.ADMIN
    return Via.DASHBOARD


class AuditActorMiddleware:
    """Changes made while serving a request are recorded as the request's user's.

    The user is read when a change is recorded, not here: the API's token
    authentication runs inside the view, after the middleware.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        via = _via(request.path_info)
        with audit.acting_as(lambda: audit.actor_for(getattr(request, "user", None), via)):
            return self.get_response(request)


DATABASE_DOWN = (OperationalError, InterfaceError)
REFUSAL_REASONS = {
    400: "invalid",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    429: "throttled",
    503: "unavailable",
}


def outage_response(request: HttpRequest) -> HttpResponse:
    """503 with Retry-After: JSON for the API, a plain page for people. No traceback."""
    retry_after = str(settings.OUTAGE_RETRY_AFTER_SECONDS)
    response: HttpResponse
    if request.path_info.startswith("/api/"):
        response = JsonResponse(
            {
                "detail": "The database is unreachable; retry after the delay given.",
                "code": "database_unavailable",
                "retry_after": settings.OUTAGE_RETRY_AFTER_SECONDS,
            },
            status=503,
        )
    else:
        response = HttpResponse(
            render_to_string("503.html", {"retry_after": retry_after}), status=503
        )
    response["Retry-After"] = retry_after
    return response


def connection_discard() -> None:
    """Drop the failed connection, so that the next request of this process opens a new one."""
    try:
        connection.close()
    except DATABASE_DOWN:
        connection.connection = None


class OutageMiddleware:
    """A database that cannot be reached answers 503, never a 500; refusals are counted.

    Outermost: it sees every response (for /metrics' refused requests by
    reason) and turns a view's OperationalError/InterfaceError into a 503.
    The same failure in another middleware (the session, the user) reaches
    `adserver.views.server_error`, which answers the same.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        reason = REFUSAL_REASONS.get(response.status_code)
        if reason is not None and request.path_info.startswith("/api/"):
            metrics.REQUESTS_REFUSED.labels(reason=reason).inc()
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, DATABASE_DOWN):
            return None
        logger.warning("Database unreachable (%s): answering 503", exception.__class__.__name__)
        connection_discard()
        return outage_response(request)
