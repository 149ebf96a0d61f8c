"""Request-wide context for the services."""

import logging
from collections.abc import Callable
from functools import cache
from typing import Any

from csp.constants import HEADER, HEADER_REPORT_ONLY
from csp.middleware import CheckableLazyObject, CSPMiddleware
from csp.utils import build_policy
from django.conf import settings
from django.core.signals import setting_changed
from django.db import InterfaceError, OperationalError, connection
from django.dispatch import receiver
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


# The attributes through which django-csp's decorators give a response a
# policy of its own (or none), and the statuses DEBUG's technical pages keep
# free of a policy.
OWN_POLICY = (
    "_csp_config",
    "_csp_update",
    "_csp_replace",
    "_csp_exempt",
    "_csp_config_ro",
    "_csp_update_ro",
    "_csp_replace_ro",
    "_csp_exempt_ro",
)
DEBUG_PAGES = (404, 500)


@cache
def site_policies() -> tuple[tuple[str, str, tuple[str, ...]], ...]:
    """The site's Content-Security-Policy headers, as django-csp builds them from
    the settings: (header, value, URL prefixes it is not sent for), non-empty ones."""
    policies = []
    for header, name in (
        (HEADER, "CONTENT_SECURITY_POLICY"),
        (HEADER_REPORT_ONLY, "CONTENT_SECURITY_POLICY_REPORT_ONLY"),
    ):
        value = build_policy(report_only=header == HEADER_REPORT_ONLY)
        config: dict[str, Any] = getattr(settings, name, None) or {}
        if value:
            policies.append((header, value, tuple(config.get("EXCLUDE_URL_PREFIXES") or ())))
    return tuple(policies)


@receiver(setting_changed)
def _policy_settings_changed(*, setting: str, **kwargs: Any) -> None:
    if setting.startswith("CONTENT_SECURITY_POLICY"):
        site_policies.cache_clear()


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    """django-csp's middleware, the site's own policy built once instead of per response.

    django-csp 4.0 builds both headers from the settings on every response
    (its parts copied to a dict, then `build_policy`, twice): 60 µs of CPU,
    7% of a single spend event's request (benchmarks/api_cpu.py, the HTTP
    layer: 0.331 ms with django-csp's middleware, 0.271 without). A header
    depends on the request only through a nonce and on the response only
    through the decorators' attributes, so when neither is there, and the
    response is no DEBUG technical page and sets no policy itself, the
    headers built for the current settings are sent. Everything else goes
    through django-csp unchanged; test_security_headers holds both equal.
    """

    def process_response(
        self, request: HttpRequest, response: HttpResponseBase
    ) -> HttpResponseBase:
        if (
            getattr(request, "_csp_nonce", None) is not None
            or any(hasattr(response, name) for name in OWN_POLICY)
            or HEADER in response
            or HEADER_REPORT_ONLY in response
            or (settings.DEBUG and response.status_code in DEBUG_PAGES)
        ):
            return super().process_response(request, response)
        for header, value, excluded in site_policies():
            if not request.path_info.startswith(excluded):
                response[header] = value
        # As django-csp does: a nonce asked for after the header is written is an error.
        request.csp_nonce = CheckableLazyObject(self._csp_nonce_post_response)  # type: ignore[attr-defined]
        return response
