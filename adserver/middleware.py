"""Request-wide context for the services."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponseBase

from budgets import audit
from budgets.models import Via


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
