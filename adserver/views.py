"""Cross-app pages: health check."""

from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

from adserver.health import broker_status, database_status


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """200 when the database and the broker answer; 503 naming what is down."""
    checks = {"database": database_status(), "broker": broker_status()}
    down = sorted(name for name, value in checks.items() if value != "ok")
    body: dict[str, object] = {"status": "down" if down else "ok", **checks}
    if down:
        body["down"] = down
    return JsonResponse(body, status=503 if down else 200)
