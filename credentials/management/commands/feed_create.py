"""Create a spend feed and print its key, once."""

from argparse import ArgumentParser
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from budgets import audit
from credentials.services import feed_create


def validation_message(exc: ValidationError) -> str:
    if hasattr(exc, "error_dict"):
        return "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in exc.message_dict.items())
    return " ".join(exc.messages)


class Command(BaseCommand):
    help = (
        "Create a spend feed that may post spend for the given brands, and print its key. "
        "The key is shown this once and stored hashed: keep it in the feed's secrets."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("name", help="unique; the source of every event the feed posts")
        parser.add_argument(
            "--brand",
            dest="brands",
            action="append",
            type=int,
            required=True,
            metavar="ID",
            help="a brand it may post for (repeat for more)",
        )
        parser.add_argument(
            "--may-adjust",
            action="store_true",
            help="may post adjustments (negative amounts) and events dated long ago",
        )
        parser.add_argument(
            "--expires-days", type=int, metavar="N", help="the key stops working after N days"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            with audit.acting_as(audit.command_actor("feed_create")):
                feed, key = feed_create(
                    name=options["name"],
                    brand_ids=options["brands"],
                    may_adjust=options["may_adjust"],
                    expires_days=options["expires_days"],
                )
        except ValidationError as exc:
            raise CommandError(validation_message(exc)) from exc
        expiry = feed.expiry_date.isoformat() if feed.expiry_date else "never"
        self.stderr.write(
            f'Feed "{feed.name}" created (brands {", ".join(map(str, sorted(options["brands"])))}; '
            f"adjustments {'allowed' if feed.may_adjust else 'refused'}; expires {expiry}). "
            "Its key, shown only now; send it as `Authorization: Api-Key <key>`:"
        )
        self.stdout.write(key)
