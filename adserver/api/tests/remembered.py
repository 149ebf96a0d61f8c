"""Test helpers: forget what a web process remembers between requests."""

from adserver.api import throttling
from adserver.api.authentication import RememberedAuthentication


def forget_checked_keys() -> None:
    """As a second later: every key and token is looked up again."""
    for authentication in RememberedAuthentication.__subclasses__():
        with authentication._lock:
            authentication._remembered.clear()


def forget_unsent_counts() -> None:
    """Drop this process's throttle counts not yet sent to Redis."""
    with throttling._pending_lock:
        throttling._pending.clear()
