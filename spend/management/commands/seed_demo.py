"""Load a small, realistic demo data set. Idempotent: rows are found by name."""

import datetime as dt
from decimal import Decimal
from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction

from budgets.models import Brand, Budget
from campaigns.models import Campaign, Daypart, days_to_mask

BRANDS = [
    # name, time zone, currency, daily, monthly
    ("Northwind Coffee", "America/New_York", "USD", "500.00", "12000.00"),
    ("Kolkata Spice Co", "Asia/Kolkata", "INR", "25000.00", "600000.00"),
    ("Fjord Outdoor", "Europe/Oslo", "NOK", "4000.00", "100000.00"),
    ("Chatham Islands Tours", "Pacific/Chatham", "NZD", "300.00", "7000.00"),
]


class Command(BaseCommand):
    help = "Create demo brands, shared budgets, campaigns and dayparts (idempotent)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--once", action="store_true", help="Do nothing when any brand exists already."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["once"] and Brand.objects.exists():
            self.stdout.write("Demo data already loaded (brands exist); skipping.")
            return
        with transaction.atomic():
            for name, tz, currency, daily, monthly in BRANDS:
                self._seed_brand(name, tz, currency, Decimal(daily), Decimal(monthly))
        self.stdout.write(self.style.SUCCESS(f"Demo data ready: {Brand.objects.count()} brands."))

    def _seed_brand(
        self, name: str, tz: str, currency: str, daily: Decimal, monthly: Decimal
    ) -> None:
        brand, _ = Brand.objects.get_or_create(
            name=name,
            defaults={
                "timezone": tz,
                "currency": currency,
                "daily_budget": daily,
                "monthly_budget": monthly,
            },
        )
        shared, _ = Budget.objects.get_or_create(
            brand=brand,
            name="Always-on",
            defaults={"daily_limit": (daily * Decimal("0.4")).quantize(Decimal("0.01"))},
        )
        Campaign.objects.get_or_create(
            brand=brand, name="Search - brand terms", defaults={"budget": shared}
        )
        social, _ = Campaign.objects.get_or_create(
            brand=brand, name="Social - evenings", defaults={"budget": shared}
        )
        if not social.dayparts.exists():
            Daypart.objects.create(
                campaign=social,
                days=days_to_mask(["mon", "tue", "wed", "thu", "fri"]),
                start_time=dt.time(18, 0),
                end_time=dt.time(23, 0),
            )
            Daypart.objects.create(
                campaign=social,
                days=days_to_mask(["fri", "sat"]),
                start_time=dt.time(22, 0),
                end_time=dt.time(2, 0),
            )
        Campaign.objects.get_or_create(
            brand=brand,
            name="Display - paused by ops",
            defaults={"enabled": False},
        )
