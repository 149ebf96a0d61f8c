"""Create (once) and print the development admin login used by `make run`."""

from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

USERNAME = "admin"
PASSWORD = "admin"  # noqa: S105 - development only: refused unless DEBUG is on


class Command(BaseCommand):
    help = "Create the development superuser admin/admin (DEBUG only) and print the login."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--url", default="http://127.0.0.1:8000/", help="Where the server listens."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG:
            raise CommandError(
                "dev_admin is for development only: it refuses to run with DEBUG off."
            )
        user_model = get_user_model()
        user, created = user_model.objects.get_or_create(
            username=USERNAME, defaults={"is_staff": True, "is_superuser": True}
        )
        if created:
            user.set_password(PASSWORD)
            user.save(update_fields=["password"])
        url = options["url"].rstrip("/")
        self.stdout.write(
            self.style.SUCCESS(
                f"Development login: {USERNAME} / {PASSWORD}  "
                f"(dashboard {url}/ , admin {url}/admin/)"
            )
        )
