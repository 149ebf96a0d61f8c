"""Revoke a spend feed's key."""

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from budgets import audit
from credentials.models import SpendFeed
from credentials.services import feed_revoke


class Command(BaseCommand):
    help = "Revoke a spend feed's key for good: every web process refuses it within a second."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("name", help="the feed's name")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            with audit.acting_as(audit.command_actor("feed_revoke")):
                feed = feed_revoke(name=options["name"])
        except SpendFeed.DoesNotExist as exc:
            raise CommandError(str(exc)) from exc
        revoked_at = feed.revoked_at.isoformat() if feed.revoked_at else "?"
        self.stdout.write(f'Feed "{feed.name}" is revoked (since {revoked_at}).')
