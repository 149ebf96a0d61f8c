"""Create (or restore) the admin group of brand managers."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from budgets.staff import BRAND_MANAGER_PERMISSIONS, BRAND_MANAGERS, brand_managers_group


class Command(BaseCommand):
    help = (
        f'Create the "{BRAND_MANAGERS}" group with the model permissions a brand manager '
        "needs in the admin, or bring it back to exactly those. Idempotent."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            group = brand_managers_group()
        except LookupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            self.style.SUCCESS(
                f'Group "{group.name}" has its {len(BRAND_MANAGER_PERMISSIONS)} permissions. '
                "Add a manager to it, tick staff status, and give them a manager "
                "membership of each of their brands."
            )
        )
