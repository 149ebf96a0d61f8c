"""Create a person's API token and print it, once."""

from argparse import ArgumentParser
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from credentials.management.commands.feed_create import validation_message
from credentials.services import token_create


class Command(BaseCommand):
    help = (
        "Create an API token for a user and print it. The token is shown this once and "
        "stored hashed; it acts with the user's brand roles. Revoke it in the admin."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("username")
        parser.add_argument(
            "--expires-days", type=int, metavar="N", help="the token stops working after N days"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            token, key = token_create(
                username=options["username"], expires_days=options["expires_days"]
            )
        except ValidationError as exc:
            raise CommandError(validation_message(exc)) from exc
        expiry = token.expiry.isoformat() if token.expiry else "never"
        self.stderr.write(
            f'Token for "{options["username"]}" created (expires {expiry}). '
            "Shown only now; send it as `Authorization: Token <key>`:"
        )
        self.stdout.write(key)
