"""The API's JSON renderer."""

from collections.abc import Mapping
from typing import Any

from rest_framework import renderers


class JSONRenderer(renderers.JSONRenderer):
    """UTF-8 JSON; falls back to \\u escapes for text UTF-8 cannot hold.

    An error message may quote what the client sent, and JSON lets a client
    send a lone surrogate ("\\ud800") that no UTF-8 encoder accepts: quoting
    it escaped is still the right answer, not a server error.
    """

    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: Mapping[str, Any] | None = None,
    ) -> bytes:
        try:
            return super().render(data, accepted_media_type, renderer_context)
        except UnicodeEncodeError:
            self.ensure_ascii = True  # type: ignore[misc]  # renderers are made per response
            return super().render(data, accepted_media_type, renderer_context)
