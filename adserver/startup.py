"""What a serving process does as it starts: checks (gunicorn, Celery worker
and beat), and for web processes, loading everything before the first request."""

import gc

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.urls import get_resolver, resolve
from django.utils.translation import gettext


def require_secret_key() -> None:
    """Refuse to start without SECRET_KEY when DEBUG is off (settings leave it empty)."""
    try:
        settings.SECRET_KEY  # noqa: B018 - Django raises on an empty key
    except ImproperlyConfigured as error:
        raise ImproperlyConfigured(
            "SECRET_KEY must be set when DEBUG is off (see .env.example); refusing to start."
        ) from error


def warm_up() -> None:
    """Load now what the first requests would load, then freeze it for the GC.

    A web process imports its views, compiles its URL patterns and reads the
    message catalogs on first use: a few hundred milliseconds of CPU that
    would otherwise fall on the first requests after every (re)start.

    The objects loaded so far live as long as the process; `gc.freeze()`
    moves them out of the collector's sight, so its full collections, which
    a 1,000-event batch triggers about once in twenty, no longer walk every
    module, class and URL pattern of the application.
    """
    get_resolver().url_patterns  # noqa: B018 - imports every URLconf and view
    for path in ("/api/spend/", "/api/spend/batch/", "/healthz"):
        resolve(path)  # compiles the patterns tried on the way
    gettext("This field is required.")  # loads the message catalogs
    # Celery's message machinery (kombu's transport, the producer pool): about
    # 0.35 s of CPU that the first request queueing an alert delivery paid.
    # Nothing connects to the broker here.
    from adserver.celery import app

    app.amqp  # noqa: B018
    app.producer_pool  # noqa: B018
    gc.collect()
    gc.freeze()
