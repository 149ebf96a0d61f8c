"""Beat's scheduler: django-celery-beat's, refusing to start without SECRET_KEY.

Beat builds its scheduler (which reads the database) before it sends
`beat_init`, so the check must come first here: otherwise a beat without a
key and without its database would fail on the database, and never say why
it may not start at all.
"""

from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django_celery_beat.schedulers import DatabaseScheduler

from adserver.startup import require_secret_key


class Scheduler(DatabaseScheduler):  # type: ignore[misc]
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        try:
            require_secret_key()
        except ImproperlyConfigured as error:
            raise SystemExit(str(error)) from error
        super().__init__(*args, **kwargs)
