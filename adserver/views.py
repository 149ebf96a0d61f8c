"""Cross-app pages: health check, and the answer to an uncaught error."""

import sys

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from django.views.decorators.http import require_GET

from adserver.health import broker_status, database_status
from adserver.middleware import DATABASE_DOWN, connection_discard, outage_response
from spend.liveness import reconcile_liveness


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: a database outage met outside a view (the session, say) is a 503 too."""
    if isinstance(sys.exc_info()[1], DATABASE_DOWN):
        connection_discard()
        return outage_response(request)
    return defaults.server_error(request)


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
