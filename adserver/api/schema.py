"""The OpenAPI schema documents the errors as well as the successes.

drf-spectacular describes only the 2xx answer of each operation; clients
(and the schema-driven tests) also need the 400/401/403/404/409/413/429 shapes.

Its examples come from one small, consistent world (`EXAMPLES`): without
them Swagger UI invents values from the types and patterns (a campaign id
of 9223372036854776000, an amount of "-872926").
"""

from typing import Any

from drf_spectacular import openapi
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers


class ErrorSerializer(serializers.Serializer[Any]):
    detail = serializers.CharField()


FIELD_ERRORS = OpenApiResponse(
    {
        "type": "object",
        "description": 'Each field at fault with its messages: {"field": ["message"]}; '
        '{"detail": "..."} for a body that is not JSON.',
        "additionalProperties": {},
    },
    description="Bad input, named by field.",
)


# One brand in Oslo spending kroner, with a shared budget, a campaign and its
# overnight daypart. Per component, then for any component by field name.
_ANY: dict[str, Any] = {
    "id": 42,
    "brand": 3,
    "budget": 7,
    "campaign": 42,
    "user": 5,
    "username": "maria",
    "object_id": 42,
    "timezone": "Europe/Oslo",
    "currency": "NOK",
    "daily_budget": "4000.00",
    "monthly_budget": "100000.00",
    "delivery": "accelerated",
    "daily_limit": "1600.00",
    "monthly_limit": "30000.00",
    "daily_spend": "1234.50",
    "monthly_spend": "38210.75",
    "daily_remaining": "2765.50",
    "monthly_remaining": "61789.25",
    "daily_overspend": "0.00",
    "monthly_overspend": "0.00",
    "amount": "12.50",
    "occurred_at": "2026-03-10T14:05:00+01:00",
    "recorded_at": "2026-03-10T14:05:01+01:00",
    "changed_at": "2026-03-10T09:30:00+01:00",
    "server_time": "2026-03-10T14:05:00Z",
    "local_date": "2026-03-10",
    "starts_on": "2026-03-01",
    "ends_on": "2026-03-31",
    "event_id": "dsp-7f3a9c21",
    "source": "api",
    "days": ["fri", "sat"],
    "start_time": "22:00",
    "end_time": "02:00",
    "brand_daily_spend": "1234.50",
    "brand_monthly_spend": "38210.75",
    "brand_daily_remaining": "2765.50",
    "brand_monthly_remaining": "61789.25",
    "note": "Creative under review",
}
EXAMPLES: dict[str, dict[str, Any]] = {
    "Brand": {"name": "Fjord Outdoor"},
    "Budget": {"name": "Always-on"},
    "Campaign": {"name": "Social - evenings"},
    # 38210.75 spent by 14:05 on 10 March, of 100000 for the month
    "Pacing": {
        "month_expected_to_date": "30925.40",
        "month_pacing_percent": "123.56",
        "month_projected": "100000.00",
        "month_cap_reached_on": "2026-03-27",
        "recommended_daily_budget": "2870.91",
        "status": "over",
        "day_cap_reached_at": "2026-03-10T21:40:00+01:00",
    },
    "SpendEvent": {"id": 1234},
    "SpendRecorded": {"id": 1234},
    "SettingChange": {
        "id": 311,
        "object_type": "brand",
        "object_id": 3,
        "object_repr": "Fjord Outdoor",
        "field": "daily_budget",
        "before": "3500.00",
        "after": "4000.00",
    },
}
# Path and query parameters, by name.
PARAMETER_EXAMPLES: dict[str, Any] = {
    "id": 42,
    "user_id": 5,
    "brand": 3,
    "budget": 7,
    "campaign": 42,
    "date": "2026-03-10",
    "since": "2026-03-10T00:00:00+01:00",
    "until": "2026-03-11T00:00:00+01:00",
}


def _example_for(component: str, field: str) -> Any:
    base = component.removeprefix("Patched").removesuffix("Request")
    return EXAMPLES.get(base, {}).get(field, _ANY.get(field))


def add_examples(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """Postprocessing hook: the examples of `EXAMPLES` on every component and parameter."""
    for name, component in result.get("components", {}).get("schemas", {}).items():
        for field, prop in component.get("properties", {}).items():
            example = _example_for(name, field)
            if example is not None:
                prop["example"] = example
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                example = PARAMETER_EXAMPLES.get(parameter["name"])
                if example is not None:
                    parameter["schema"]["example"] = example
    return result


class UserTokenScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    target_class = "adserver.api.authentication.UserTokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": 'A person\'s token, sent as "Token <key>" (`manage.py token_create`).',
        }


class SpendFeedScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    target_class = "adserver.api.authentication.SpendFeedAuthentication"
    name = "spendFeedKey"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": 'A spend feed\'s key, sent as "Api-Key <key>" '
            "(`manage.py feed_create`). It may only record spend for the feed's brands: "
            "POST /api/spend/ and POST /api/spend/batch/; anything else is a 403.",
        }


class AutoSchema(openapi.AutoSchema):
    def get_auth(self) -> list[dict[str, list[str]]]:
        """A spend feed's key is listed only where it may be used."""
        auth: list[dict[str, list[str]]] = super().get_auth()
        actions: frozenset[str] = getattr(self.view, "spend_feed_actions", frozenset())
        if self.method == "POST" and getattr(self.view, "action", None) in actions:
            return auth
        return [scheme for scheme in auth if SpendFeedScheme.name not in scheme]

    def get_serializer_name(self, serializer: serializers.Serializer[Any], direction: Any) -> str:
        """`SpendEventRequestSerializer` is `SpendEventRequest`, not `SpendEventRequestRequest`.

        Requests have their own components (COMPONENT_SPLIT_REQUEST), which
        drf-spectacular names by adding "Request": a serializer written for
        requests only loses its own "Request" first.
        """
        name = serializer.__class__.__name__
        if direction == "request" and name.endswith("RequestSerializer"):
            return name.removesuffix("RequestSerializer") + "Serializer"
        return name

    def _error_responses(self) -> dict[str, Any]:
        """The error answers of this operation, by status code."""
        errors: dict[str, Any] = {
            "401": OpenApiResponse(
                ErrorSerializer,
                description="No or unknown credentials (each unknown one counts towards "
                "the address's lockout).",
            ),
            "403": OpenApiResponse(
                ErrorSerializer,
                description="Not permitted: a change needs the manager role on the brand "
                "(creating or deleting brands and their members: an agency admin), "
                "the session's CSRF check failed, or a spend feed's key was sent (it may "
                "only record spend, and only for campaigns of the feed's brands).",
            ),
        }
        if self.method in {"POST", "PATCH", "PUT"} or self._is_list_view():
            errors["400"] = FIELD_ERRORS
        if self.method in {"POST", "PATCH", "PUT"}:
            errors["415"] = OpenApiResponse(ErrorSerializer, description="The body is not JSON.")
        if "{" in self.path or self._is_list_view():
            errors["404"] = OpenApiResponse(
                ErrorSerializer,
                description="Unknown id, or one of a brand you may not see (the same answer); "
                "or a page past the end.",
            )
        body_limit = getattr(self.view, "body_limit", None)
        if self.method == "POST" and body_limit and body_limit():
            errors["413"] = OpenApiResponse(
                ErrorSerializer,
                description="The body is over the endpoint's limit in bytes (the answer "
                "names it); nothing was read or stored.",
            )
        errors["429"] = OpenApiResponse(
            ErrorSerializer,
            description="Throttled (retry after Retry-After seconds); or this address is "
            "locked out after repeated failed credentials.",
        )
        return errors

    def _get_response_bodies(self, direction: Any = "response") -> Any:
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        errors = self._error_responses()
        for code, response in errors.items():
            if code not in responses:
                responses[code] = self._get_response_for_code(  # type: ignore[no-untyped-call]
                    response, code, direction=direction
                )
        return responses
