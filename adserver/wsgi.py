import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "adserver.settings")

application = get_wsgi_application()

from adserver.startup import require_secret_key  # noqa: E402 - needs the app loaded

require_secret_key()
