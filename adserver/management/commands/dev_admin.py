"""Create (once) and print the development logins used by `make run`.

The agency admin `admin` is made here; the demo manager and viewer are made
by `seed_demo` (with their brands) and only printed here, with what each
may do, so a newcomer can log in as each role and see the difference.

A password is printed only when it is known to work: the login was made by
this run, or its password is still the public default. A password changed
since is never printed as the default.
"""

from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.management.base import BaseCommand, CommandError

from budgets.models import BrandMembership
from spend.management.commands.seed_demo import DEMO_LOGINS

USERNAME = "admin"
PASSWORD = "admin"  # noqa: S105 - development only: refused unless DEBUG is on


class Command(BaseCommand):
    help = (
        "Create the development superuser admin/admin (DEBUG only) and print it with "
        "the demo logins of seed_demo."
    )

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
            self.style.SUCCESS(f"Development logins (dashboard {url}/ , admin {url}/admin/):")
        )
        admin_line = login_line(user, PASSWORD, created=created)
        self.stdout.write(
            f"  {admin_line:<20} agency admin: every brand (dashboard, API and admin)"
        )
        for line in self._demo_lines():
            self.stdout.write(line)

    def _demo_lines(self) -> list[str]:
        """One line per demo login that exists, naming its brands as they are now."""
        memberships = (
            BrandMembership.objects.filter(user__username__in=[d.username for d in DEMO_LOGINS])
            .select_related("user", "brand")
            .order_by("user__username", "brand__name")
        )
        roles: dict[str, dict[str, list[str]]] = {}
        for membership in memberships:
            by_role = roles.setdefault(membership.user.get_username(), {})
            by_role.setdefault(membership.role, []).append(membership.brand.name)
        users = {
            user.get_username(): user
            for user in get_user_model().objects.filter(
                username__in=[d.username for d in DEMO_LOGINS]
            )
        }
        lines = []
        for login in DEMO_LOGINS:
            if login.username not in roles:
                lines.append(f"  {login.username:<20} not made yet: run `make seed`")
                continue
            what = "; ".join(
                f"{role} of {', '.join(names)}" for role, names in roles[login.username].items()
            )
            user = users[login.username]
            where = "dashboard, API and admin" if user.is_staff else "dashboard and API"
            pair = login_line(user, login.password, created=False)
            lines.append(f"  {pair:<20} {what} ({where})")
        return lines


def login_line(user: AbstractBaseUser, default: str, *, created: bool) -> str:
    """`name / password`, the password only when it still is the default."""
    if created or user.check_password(default):
        return f"{user.get_username()} / {default}"
    return f"{user.get_username()} (password changed since; not shown)"
