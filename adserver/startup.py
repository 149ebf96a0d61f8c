"""Checks made when a serving process starts (gunicorn, Celery worker and beat)."""

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


def require_secret_key() -> None:
    """Refuse to start without SECRET_KEY when DEBUG is off (settings leave it empty)."""
    try:
        settings.SECRET_KEY  # noqa: B018 - Django raises on an empty key
    except ImproperlyConfigured as error:
        raise ImproperlyConfigured(
            "SECRET_KEY must be set when DEBUG is off (see .env.example); refusing to start."
        ) from error
