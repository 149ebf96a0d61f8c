"""Brands (advertisers) and the shared budgets inside them."""

from collections.abc import Collection, Mapping
from decimal import Decimal
from typing import Any, ClassVar

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse

from budgets.periods import validate_timezone

MONEY_DIGITS = 14
BUDGET_DECIMALS = 2
MIN_BUDGET = Decimal("0.01")


class ConstraintsOnFields:
    """Model validation that reports each database constraint on the field to fix.

    Django reports a violated check constraint above the form as
    `Constraint "campaign_flight_dates_ordered" is violated`; here each named
    constraint says, beside its field, what is wrong. The same map turns a
    race caught by the database (an IntegrityError) into the same field error
    in the services.
    """

    # constraint name -> (field, message)
    constraint_errors: ClassVar[Mapping[str, tuple[str, str]]] = {}

    @classmethod
    def constraint_fields(cls) -> dict[str, str]:
        return {name: field for name, (field, _) in cls.constraint_errors.items()}

    def validate_constraints(self, exclude: Collection[str] | None = None) -> None:
        if not isinstance(self, models.Model):
            raise TypeError("ConstraintsOnFields is a mixin of models")
        errors: dict[str, list[ValidationError]] = {}
        for constraint in self._meta.constraints:
            try:
                constraint.validate(type(self), self, exclude=set(exclude or ()))
            except ValidationError as error:
                field, message = self.constraint_errors.get(constraint.name, (NON_FIELD_ERRORS, ""))
                errors.setdefault(field, []).append(
                    ValidationError(message, code="constraint") if message else error
                )
        if errors:
            raise ValidationError(errors)


def caps_in_order(
    daily: Decimal | None, monthly: Decimal | None, *, field: str, what: str
) -> dict[str, Any]:
    """A daily cap above the monthly one could never be reached: refused on the daily field."""
    # Only between two valid amounts: a NaN or a string is its own field's error.
    comparable = all(isinstance(v, Decimal) and v.is_finite() for v in (daily, monthly))
    if comparable and daily > monthly:  # type: ignore[operator]
        return {field: f"The daily {what} cannot be above the monthly {what} ({monthly:,.2f})."}
    return {}


class Delivery(models.TextChoices):
    """How a brand's daily budget is spent through its day."""

    ACCELERATED = "accelerated", "Accelerated (as fast as traffic allows)"
    STANDARD = "standard", "Standard (even through the serving time)"


class Brand(ConstraintsOnFields, models.Model):
    """An advertiser. Its time zone defines its day and month."""

    constraint_errors = {
        "brand_daily_budget_positive": ("daily_budget", "The daily budget must be above zero."),
        "brand_monthly_budget_positive": (
            "monthly_budget",
            "The monthly budget must be above zero.",
        ),
        "brand_currency_iso4217": ("currency", "Use an ISO 4217 code such as USD or EUR."),
        "brand_timezone_not_empty": ("timezone", "Choose a time zone."),
        "brand_name_not_empty": ("name", "Give the brand a name."),
        "brand_delivery_known": ("delivery", "Choose accelerated or standard delivery."),
    }

    name = models.CharField(max_length=200, unique=True)
    timezone = models.CharField(
        max_length=64,
        default="UTC",
        validators=[validate_timezone],
        help_text="IANA time zone; the brand's days and months start at its local midnight.",
    )
    currency = models.CharField(
        max_length=3,
        default="USD",
        validators=[RegexValidator(r"^[A-Z]{3}\Z", "Use an ISO 4217 code such as USD or EUR.")],
        help_text="ISO 4217 code, for display only.",
    )
    daily_budget = models.DecimalField(
        max_digits=MONEY_DIGITS,
        decimal_places=BUDGET_DECIMALS,
        validators=[MinValueValidator(MIN_BUDGET)],
    )
    monthly_budget = models.DecimalField(
        max_digits=MONEY_DIGITS,
        decimal_places=BUDGET_DECIMALS,
        validators=[MinValueValidator(MIN_BUDGET)],
    )
    delivery = models.CharField(
        max_length=16,
        choices=Delivery.choices,
        default=Delivery.ACCELERATED,
        db_default=Delivery.ACCELERATED,
        help_text=(
            "Standard: today's spend may not run ahead of the daily budget's share of the "
            "serving time passed (campaigns wait until it catches up)."
        ),
    )
    archived_at = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text="Archived: out of the lists, takes no spend, keeps its history.",
    )
    demo = models.BooleanField(
        default=False,
        db_default=False,
        editable=False,
        help_text="Made by seed_demo: simulate_spend may write spend to it without asking.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(daily_budget__gt=0), name="brand_daily_budget_positive"
            ),
            models.CheckConstraint(
                condition=Q(monthly_budget__gt=0), name="brand_monthly_budget_positive"
            ),
            models.CheckConstraint(
                condition=Q(currency__regex=r"^[A-Z]{3}$"), name="brand_currency_iso4217"
            ),
            models.CheckConstraint(condition=~Q(timezone=""), name="brand_timezone_not_empty"),
            models.CheckConstraint(condition=~Q(name=""), name="brand_name_not_empty"),
            models.CheckConstraint(
                condition=Q(delivery__in=Delivery.values), name="brand_delivery_known"
            ),
        ]
        permissions = [
            ("manage_all_brands", "Can see and manage every brand (agency admin)"),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("dashboard:brand-detail", args=[self.pk])

    def clean(self) -> None:
        errors = caps_in_order(
            self.daily_budget, self.monthly_budget, field="daily_budget", what="budget"
        )
        if errors:
            raise ValidationError(errors)

    @property
    def archived(self) -> bool:
        return self.archived_at is not None


class Budget(ConstraintsOnFields, models.Model):
    """A shared pool inside one brand that any of its campaigns may draw from.

    A null limit means no cap at that level. A limit above its brand's cap is
    allowed (the brand's cap stops spend first) but never reached; the forms
    warn about it.
    """

    constraint_errors = {
        "budget_name_unique_per_brand": ("name", "This brand already has a budget with this name."),
        "budget_daily_limit_null_or_positive": (
            "daily_limit",
            "The daily limit must be above zero, or empty for none.",
        ),
        "budget_monthly_limit_null_or_positive": (
            "monthly_limit",
            "The monthly limit must be above zero, or empty for none.",
        ),
        "budget_name_not_empty": ("name", "Give the budget a name."),
    }

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="budgets")
    name = models.CharField(max_length=200)
    daily_limit = models.DecimalField(
        max_digits=MONEY_DIGITS,
        decimal_places=BUDGET_DECIMALS,
        null=True,
        blank=True,
        validators=[MinValueValidator(MIN_BUDGET)],
    )
    monthly_limit = models.DecimalField(
        max_digits=MONEY_DIGITS,
        decimal_places=BUDGET_DECIMALS,
        null=True,
        blank=True,
        validators=[MinValueValidator(MIN_BUDGET)],
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["brand__name", "name"]
        constraints = [
            models.UniqueConstraint(fields=["brand", "name"], name="budget_name_unique_per_brand"),
            # Target of the composite foreign key from campaigns (same brand).
            models.UniqueConstraint(fields=["id", "brand"], name="budget_id_brand_unique"),
            models.CheckConstraint(
                condition=Q(daily_limit__isnull=True) | Q(daily_limit__gt=0),
                name="budget_daily_limit_null_or_positive",
            ),
            models.CheckConstraint(
                condition=Q(monthly_limit__isnull=True) | Q(monthly_limit__gt=0),
                name="budget_monthly_limit_null_or_positive",
            ),
            models.CheckConstraint(condition=~Q(name=""), name="budget_name_not_empty"),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("dashboard:budget-detail", args=[self.pk])

    def clean(self) -> None:
        errors = caps_in_order(
            self.daily_limit, self.monthly_limit, field="daily_limit", what="limit"
        )
        if errors:
            raise ValidationError(errors)

    def limits_above_brand_caps(self, brand: Brand) -> list[str]:
        """Limits that the brand's own caps make unreachable: allowed, worth a warning."""
        warnings = []
        for limit, cap, period in (
            (self.daily_limit, brand.daily_budget, "daily"),
            (self.monthly_limit, brand.monthly_budget, "monthly"),
        ):
            if limit is not None and cap is not None and limit > cap:
                warnings.append(
                    f"The {period} limit {limit:,.2f} {brand.currency} is above "
                    f"{brand.name}'s {period} budget of {cap:,.2f} {brand.currency}: "
                    f"the brand's cap stops spend first."
                )
        return warnings


class Period(models.TextChoices):
    DAY = "day", "Day"
    MONTH = "month", "Month"


class AlertScope(models.TextChoices):
    BRAND = "brand", "Brand"
    BUDGET = "budget", "Budget"


ALERT_THRESHOLDS = (50, 80, 100)


class AlertKind(models.TextChoices):
    CAP = "cap", "Cap threshold"
    UNDER_PACE = "under_pace", "Under pace"
    OVER_PACE = "over_pace", "Over pace"


class Alert(models.Model):
    """A cap crossed 50%, 80% or 100% in one brand-local day or month, or a
    brand's month found under or over pace (docs/architecture.md, "Pacing").

    Raised once per (cap, period, threshold), and a pacing alert once per
    (brand or budget, month, kind): the unique constraints make a second
    insert a no-op, so concurrent writers cannot raise it twice. The
    recorder inserts cap alerts in SQL without naming `kind` (its database
    default is "cap").
    """

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="alerts")
    budget = models.ForeignKey(
        Budget, on_delete=models.CASCADE, null=True, blank=True, related_name="alerts"
    )
    scope = models.CharField(max_length=8, choices=AlertScope.choices)
    kind = models.CharField(
        max_length=12, choices=AlertKind.choices, default=AlertKind.CAP, db_default=AlertKind.CAP
    )
    period = models.CharField(max_length=8, choices=Period.choices)
    period_start = models.DateField(help_text="Brand-local day, or the 1st of the month.")
    threshold = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Percent of the cap (cap alerts; empty for pacing)."
    )
    cap = models.DecimalField(max_digits=MONEY_DIGITS, decimal_places=BUDGET_DECIMALS)
    spend = models.DecimalField(
        max_digits=20, decimal_places=6, help_text="The period's total when it was raised."
    )
    # Pacing alerts: the month's projection and the day the cap is reached, when raised.
    projected = models.DecimalField(
        max_digits=20, decimal_places=2, null=True, blank=True, help_text="Pacing: projected total."
    )
    cap_reached_on = models.DateField(
        null=True, blank=True, help_text="Pacing: brand-local day the cap is reached, if any."
    )
    raised_at = models.DateTimeField()
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="Who acknowledged it; empty if that user was deleted.",
    )
    # Raised by simulate_spend's spend: kept in the history, never delivered.
    # A database default, as the recorder inserts alerts in SQL.
    simulated = models.BooleanField(default=False, db_default=False, editable=False)

    class Meta:
        ordering = ["-raised_at", "-id"]
        indexes = [
            models.Index(fields=["-raised_at"], name="alert_raised_at_idx"),
            # Open alerts of each brand's current day or month (the dashboard).
            models.Index(
                fields=["period", "period_start"],
                condition=Q(acknowledged_at__isnull=True),
                name="alert_open_period_idx",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["brand", "period", "period_start", "threshold"],
                condition=Q(budget__isnull=True, kind=AlertKind.CAP),
                name="alert_once_per_brand_period_threshold",
            ),
            models.UniqueConstraint(
                fields=["budget", "period", "period_start", "threshold"],
                condition=Q(budget__isnull=False, kind=AlertKind.CAP),
                name="alert_once_per_budget_period_threshold",
            ),
            models.UniqueConstraint(
                fields=["brand", "period", "period_start", "kind"],
                condition=Q(budget__isnull=True) & ~Q(kind=AlertKind.CAP),
                name="alert_pacing_once_per_brand_month",
            ),
            models.UniqueConstraint(
                fields=["budget", "period", "period_start", "kind"],
                condition=Q(budget__isnull=False) & ~Q(kind=AlertKind.CAP),
                name="alert_pacing_once_per_budget_month",
            ),
            models.CheckConstraint(condition=Q(kind__in=AlertKind.values), name="alert_kind_known"),
            models.CheckConstraint(
                condition=(
                    Q(scope="brand", budget__isnull=True) | Q(scope="budget", budget__isnull=False)
                ),
                name="alert_scope_matches_budget",
            ),
            models.CheckConstraint(
                condition=Q(kind=AlertKind.CAP, threshold__in=ALERT_THRESHOLDS)
                | ~Q(kind=AlertKind.CAP) & Q(threshold__isnull=True, period=Period.MONTH),
                name="alert_threshold_known",
            ),
            models.CheckConstraint(
                condition=Q(period__in=Period.values), name="alert_period_known"
            ),
        ]

    def __str__(self) -> str:
        target = "brand" if self.budget_id is None else f"budget {self.budget_id}"
        if self.kind != AlertKind.CAP:
            return f"{target} {self.get_kind_display().lower()} ({self.period_start:%Y-%m})"
        return f"{self.threshold}% of {target} {self.period} cap ({self.period_start})"

    def get_absolute_url(self) -> str:
        return reverse("dashboard:alert-detail", args=[self.pk])

    @property
    def is_pacing(self) -> bool:
        return self.kind != AlertKind.CAP


class Role(models.TextChoices):
    VIEWER = "viewer", "Viewer"
    MANAGER = "manager", "Manager"


class BrandMembership(models.Model):
    """A person's role on one brand: a viewer reads it, a manager also changes it.

    Agency admins (superusers, or `budgets.manage_all_brands`) need none:
    they manage every brand. `budgets.access` is the one place that reads this.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="brand_memberships"
    )
    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=8, choices=Role.choices, default=Role.VIEWER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["brand__name", "user__username"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "brand"], name="membership_once_per_user_brand"
            ),
            models.CheckConstraint(condition=Q(role__in=Role.values), name="membership_role_known"),
        ]
        indexes = [
            # "Which members has this brand?" (the unique key serves "which brands has this user?")
            models.Index(fields=["brand", "user"], name="membership_brand_user_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.user} is {self.role} of {self.brand}"


class Via(models.TextChoices):
    DASHBOARD = "dashboard", "Dashboard"
    API = "api", "API"
    ADMIN = "admin", "Admin"
    COMMAND = "command", "Command"
    SYSTEM = "system", "System"


class SettingChange(models.Model):
    """One field of a brand's money or schedule settings changed: who, when, before, after.

    Written by the services in the same transaction as the change (`budgets.audit`),
    whichever door the change came through. Never edited. The brand and the
    person are kept by name too, so the trail outlives a deleted user or brand.
    """

    brand = models.ForeignKey(
        Brand, on_delete=models.SET_NULL, null=True, blank=True, related_name="setting_changes"
    )
    brand_name = models.CharField(max_length=200)
    changed_at = models.DateTimeField()
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    actor = models.CharField(
        max_length=200, help_text="Who, by name: a username, or the command or task."
    )
    via = models.CharField(max_length=10, choices=Via.choices)
    object_type = models.CharField(
        max_length=20, help_text="brand, budget, campaign, daypart or membership"
    )
    object_id = models.BigIntegerField(null=True, blank=True)
    object_repr = models.CharField(max_length=200)
    field = models.CharField(max_length=40)
    # Null is "did not exist" (before a creation, after a deletion), not "empty".
    before = models.TextField(null=True, blank=True)  # noqa: DJ001
    after = models.TextField(null=True, blank=True)  # noqa: DJ001

    class Meta:
        ordering = ["-changed_at", "-id"]
        indexes = [
            models.Index(fields=["brand", "-changed_at", "-id"], name="settingchange_brand_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.object_type} {self.object_repr}: {self.field} {self.before} → {self.after}"
