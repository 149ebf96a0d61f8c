"""Load a realistic demo data set: brands in several zones and currencies,
shared budgets, dayparted campaigns (overnight ones too), flight dates and a
manual pause, and (development only) the demo logins of each role.
Idempotent: rows are found by name, and running it again changes nothing.

The demo logins show the roles at once: `manager` manages the first two
demo brands and works in the admin too (staff, in the "Brand managers"
group); `viewer` reads the first brand only, on the dashboard and the API.
Their passwords are public, so they are made only with DEBUG on, as
`dev_admin` makes the agency admin.
"""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone

from budgets import audit
from budgets.models import Brand, BrandMembership, Budget, Delivery, Role
from budgets.periods import local_date
from budgets.services import membership_set
from budgets.staff import brand_managers_group
from campaigns.models import Campaign, Daypart, days_to_mask
from campaigns.services import campaign_pause
from spend.reconcile import reconcile

CENT = Decimal("0.01")
WEEKDAYS = ["mon", "tue", "wed", "thu", "fri"]

BRANDS = [
    # name, time zone, currency, daily budget
    ("Northwind Coffee", "America/New_York", "USD", "500.00"),
    ("Kolkata Spice Co", "Asia/Kolkata", "INR", "25000.00"),
    ("Fjord Outdoor", "Europe/Oslo", "NOK", "4000.00"),
    ("Chatham Islands Tours", "Pacific/Chatham", "NZD", "300.00"),
    ("Thames Tea Rooms", "Europe/London", "GBP", "350.00"),
    ("Harbour Surf Shop", "Australia/Sydney", "AUD", "450.00"),
    ("Sunset Cycles", "America/Los_Angeles", "USD", "400.00"),
    ("Shibuya Noodle Bar", "Asia/Tokyo", "JPY", "60000.00"),
]

# Spread evenly through their serving time rather than as fast as traffic comes.
STANDARD_DELIVERY = {"Fjord Outdoor"}


@dataclass(frozen=True)
class DemoLogin:
    username: str
    password: str
    staff: bool  # works in the admin too (in the "Brand managers" group)
    role: str
    brands: tuple[str, ...]  # names of demo brands


# Development only: made with DEBUG on, printed by `make run` (dev_admin).
DEMO_LOGINS = (
    DemoLogin("manager", "manager", True, Role.MANAGER, (BRANDS[0][0], BRANDS[1][0])),
    DemoLogin("viewer", "viewer", False, Role.VIEWER, (BRANDS[0][0],)),
)


@dataclass(frozen=True)
class CampaignTemplate:
    name: str
    budget: str | None  # name of the shared budget, or none
    dayparts: tuple[tuple[tuple[str, ...], dt.time, dt.time], ...] = ()
    flight: tuple[int, int] | None = None  # days from today: (starts, ends)
    paused: bool = False


TEMPLATES = [
    CampaignTemplate("Search - brand terms", "Always-on"),
    CampaignTemplate(
        "Social - evenings",
        "Always-on",
        dayparts=(
            (tuple(WEEKDAYS), dt.time(18), dt.time(23)),
            (("fri", "sat"), dt.time(22), dt.time(2)),  # overnight into the next day
        ),
    ),
    CampaignTemplate(
        "Display - business hours",
        "Prospecting",
        dayparts=((tuple(WEEKDAYS), dt.time(9), dt.time(17, 30)),),
        flight=(-30, 60),
    ),
    CampaignTemplate("Video - holiday flight", None, flight=(10, 40)),
    CampaignTemplate("Retargeting - paused by ops", "Always-on", paused=True),
    CampaignTemplate("Launch teaser", None, flight=(-20, -1)),
]


class Command(BaseCommand):
    help = (
        "Create demo brands, shared budgets, campaigns and dayparts. Idempotent: "
        "running it again changes nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--brands", type=int, default=6, help="How many brands (default 6).")
        parser.add_argument(
            "--campaigns-per-brand",
            type=int,
            default=len(TEMPLATES),
            help=f"Campaigns per brand (default {len(TEMPLATES)}).",
        )
        parser.add_argument(
            "--once",
            action="store_true",
            help="Load no brands when any brand exists already (demo logins are still made).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        brands, per_brand = options["brands"], options["campaigns_per_brand"]
        if not 1 <= brands <= 10_000:
            raise CommandError("--brands must be between 1 and 10000.")
        if not 1 <= per_brand <= 1_000:
            raise CommandError("--campaigns-per-brand must be between 1 and 1000.")
        with audit.acting_as(audit.command_actor("seed_demo")):
            if options["once"] and Brand.objects.exists():
                self.stdout.write("Demo data already loaded (brands exist); skipping.")
            else:
                self._seed_brands(brands, per_brand)
            self._seed_logins()

    def _seed_brands(self, brands: int, per_brand: int) -> None:
        with transaction.atomic():
            seeded = [self._seed_brand(index, per_brand) for index in range(brands)]
            # Give every campaign its schedule and budget holds for this moment.
            reconcile(brand_ids=frozenset(seeded))
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data ready: {len(seeded)} brands, "
                f"{Campaign.objects.filter(brand_id__in=seeded).count()} campaigns."
            )
        )

    def _seed_logins(self) -> None:
        """The demo manager and viewer, each with their memberships; never twice."""
        if not settings.DEBUG:
            self.stdout.write("Demo logins not made: their passwords are public (DEBUG only).")
            return
        user_model = get_user_model()
        with transaction.atomic():
            managers = brand_managers_group()
            for login in DEMO_LOGINS:
                user, created = user_model.objects.get_or_create(
                    username=login.username, defaults={"is_staff": login.staff}
                )
                if created:
                    user.set_password(login.password)
                    user.save(update_fields=["password"])
                    if login.staff:
                        user.groups.add(managers)
                for brand in Brand.objects.filter(name__in=login.brands):
                    if not BrandMembership.objects.filter(user=user, brand=brand).exists():
                        membership_set(brand=brand, user=user, role=login.role)
        self.stdout.write(
            self.style.SUCCESS(
                "Demo logins ready: " + ", ".join(login.username for login in DEMO_LOGINS) + "."
            )
        )

    def _seed_brand(self, index: int, per_brand: int) -> int:
        if index < len(BRANDS):
            name, tz, currency, daily_text = BRANDS[index]
        else:
            base = BRANDS[index % len(BRANDS)]
            name, tz, currency, daily_text = (f"Demo brand {index + 1:05d}", *base[1:])
        daily = Decimal(daily_text)
        brand, _ = Brand.objects.get_or_create(
            name=name,
            defaults={
                "timezone": tz,
                "currency": currency,
                "daily_budget": daily,
                "monthly_budget": daily * 25,
                "delivery": (
                    Delivery.STANDARD if name in STANDARD_DELIVERY else Delivery.ACCELERATED
                ),
                # Marked, so that simulate_spend may write to it without asking.
                "demo": True,
            },
        )
        budgets = self._seed_budgets(brand)
        today = local_date(timezone.now(), brand.timezone)
        for number in range(per_brand):
            template = TEMPLATES[number % len(TEMPLATES)]
            cycle = number // len(TEMPLATES)
            self._seed_campaign(
                brand,
                template,
                f"{template.name} {cycle + 1}" if cycle else template.name,
                budgets,
                today,
            )
        return brand.pk

    def _seed_budgets(self, brand: Brand) -> dict[str, Budget]:
        return {
            "Always-on": Budget.objects.get_or_create(
                brand=brand,
                name="Always-on",
                defaults={"daily_limit": (brand.daily_budget * Decimal("0.4")).quantize(CENT)},
            )[0],
            "Prospecting": Budget.objects.get_or_create(
                brand=brand,
                name="Prospecting",
                defaults={"monthly_limit": (brand.monthly_budget * Decimal("0.3")).quantize(CENT)},
            )[0],
        }

    def _seed_campaign(
        self,
        brand: Brand,
        template: CampaignTemplate,
        name: str,
        budgets: dict[str, Budget],
        today: dt.date,
    ) -> None:
        starts_on = ends_on = None
        if template.flight is not None:
            starts_on = today + dt.timedelta(days=template.flight[0])
            ends_on = today + dt.timedelta(days=template.flight[1])
        campaign, created = Campaign.objects.get_or_create(
            brand=brand,
            name=name,
            defaults={
                "budget": budgets[template.budget] if template.budget else None,
                "starts_on": starts_on,
                "ends_on": ends_on,
            },
        )
        if not created:
            return
        Daypart.objects.bulk_create(
            Daypart(campaign=campaign, days=days_to_mask(days), start_time=start, end_time=end)
            for days, start, end in template.dayparts
        )
        if template.paused:
            campaign_pause(campaign_id=campaign.pk, note="Paused by ad ops for a creative review")
