"""Template context shared by every page."""

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from spend.liveness import reconcile_liveness


def reconcile_banner(request: HttpRequest) -> dict[str, object]:
    """`reconcile_banner`: the stale-reconcile sentence, read only if a page prints it.

    Lazy, so that the login page, the live refreshes (which render only a
    fragment) and the admin run no query for it; base.html prints it for
    signed-in users, one query per page.
    """
    return {"reconcile_banner": SimpleLazyObject(lambda: reconcile_liveness().banner())}
