"""Content negotiation that skips the Accept header when it cannot change the answer."""

from collections.abc import Iterable, Sequence
from typing import Any

from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request

# Accept values that take any media type (absent means */*; an empty one
# accepts nothing, and DRF answers it with a 406).
ACCEPT_ANY = frozenset({None, "*/*"})


class ContentNegotiation(DefaultContentNegotiation):
    """DRF's negotiation, answered at once in the common case.

    A view with one renderer (all of the API but the schema) asked for
    anything, or for that renderer's exact media type, without a format
    suffix or query string, gets that renderer: DRF's answer too, found
    without building `request.headers` and parsing the Accept header on
    every request. Everything else (`?format=`, `.json`, media type
    parameters, several renderers, an Accept that may refuse JSON) goes
    through DRF's rules unchanged.
    """

    def select_renderer(
        self,
        request: Request,
        renderers: Iterable[BaseRenderer],
        format_suffix: str | None = None,
    ) -> tuple[BaseRenderer, str]:
        if isinstance(renderers, Sequence) and len(renderers) == 1 and format_suffix is None:
            meta: dict[str, Any] = request.META
            accept = meta.get("HTTP_ACCEPT")
            renderer = renderers[0]
            if not meta.get("QUERY_STRING") and (
                accept in ACCEPT_ANY or accept == renderer.media_type
            ):
                return renderer, renderer.media_type
        return super().select_renderer(request, renderers, format_suffix)  # type: ignore[no-any-return]
