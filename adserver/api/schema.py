"""The OpenAPI schema documents the errors as well as the successes.

drf-spectacular describes only the 2xx answer of each operation; clients
(and the schema-driven tests) also need the 400/401/403/404/409/429 shapes.
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

    def _get_response_bodies(self, direction: Any = "response") -> Any:
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        errors: dict[str, Any] = {
            "401": OpenApiResponse(ErrorSerializer, description="No or unknown credentials."),
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
        if getattr(self.view, "throttle_scope", None):
            errors["429"] = OpenApiResponse(ErrorSerializer, description="Throttled; retry later.")
        for code, response in errors.items():
            if code not in responses:
                responses[code] = self._get_response_for_code(  # type: ignore[no-untyped-call]
                    response, code, direction=direction
                )
        return responses
