"""The Celery application, configured from Django settings (namespace CELERY)."""

import os
from typing import Any

from celery import Celery
from celery.signals import worker_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "adserver.settings")

app = Celery("adserver")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


# Beat checks in its scheduler (adserver.beat), which it builds before beat_init.
@worker_init.connect
def _refuse_to_start_without_a_secret_key(**kwargs: Any) -> None:
    from django.core.exceptions import ImproperlyConfigured

    from adserver.startup import require_secret_key

    try:
        require_secret_key()
    except ImproperlyConfigured as error:
        # Celery logs and swallows exceptions from signal handlers; exiting is
        # what stops the worker or beat from starting.
        raise SystemExit(str(error)) from error
