"""Campaigns, their weekly dayparts, and the history of their serving state.

A campaign's serving state is derived, never stored by hand: three facts are
kept apart, each written by the one piece of code that owns it, and the
database computes `status` and `pause_reason` from them (generated columns),
so the two can never disagree with the facts.

- `enabled`: the user's intent. False is a manual pause; only a person (the
  pause/resume services) changes it, so the system never lifts a manual pause.
- `schedule_hold`: flight dates and dayparts, written by the schedule reconcile.
- `budget_hold`: brand and budget caps, written by spend enforcement and the
  budget reconcile.
- `pacing_hold`: standard delivery (the brand's spend ahead of its even-delivery
  allowance), written by the pacing half of the reconcile only.
"""

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Case, F, Q, Value, When
from django.urls import reverse

from budgets.models import Brand, Budget, ConstraintsOnFields


class PauseReason(models.TextChoices):
    MANUAL = "manual", "Paused manually"
    NOT_STARTED = "not_started", "Flight not started"
    ENDED = "ended", "Flight ended"
    OUTSIDE_DAYPART = "outside_daypart", "Outside its dayparts"
    BRAND_MONTHLY_BUDGET = "brand_monthly_budget", "Brand monthly budget spent"
    BRAND_DAILY_BUDGET = "brand_daily_budget", "Brand daily budget spent"
    BUDGET_MONTHLY_LIMIT = "budget_monthly_limit", "Shared budget monthly limit spent"
    BUDGET_DAILY_LIMIT = "budget_daily_limit", "Shared budget daily limit spent"
    BRAND_DAILY_PACING = "brand_daily_pacing", "Ahead of the brand's even delivery"


class ScheduleHold(models.TextChoices):
    NOT_STARTED = PauseReason.NOT_STARTED.value, PauseReason.NOT_STARTED.label
    ENDED = PauseReason.ENDED.value, PauseReason.ENDED.label
    OUTSIDE_DAYPART = PauseReason.OUTSIDE_DAYPART.value, PauseReason.OUTSIDE_DAYPART.label


class BudgetHold(models.TextChoices):
    """Ordered by precedence: the first cap that holds is the one reported."""

    BRAND_MONTHLY_BUDGET = (
        PauseReason.BRAND_MONTHLY_BUDGET.value,
        PauseReason.BRAND_MONTHLY_BUDGET.label,
    )
    BRAND_DAILY_BUDGET = PauseReason.BRAND_DAILY_BUDGET.value, PauseReason.BRAND_DAILY_BUDGET.label
    BUDGET_MONTHLY_LIMIT = (
        PauseReason.BUDGET_MONTHLY_LIMIT.value,
        PauseReason.BUDGET_MONTHLY_LIMIT.label,
    )
    BUDGET_DAILY_LIMIT = PauseReason.BUDGET_DAILY_LIMIT.value, PauseReason.BUDGET_DAILY_LIMIT.label


class PacingHold(models.TextChoices):
    BRAND_DAILY_PACING = PauseReason.BRAND_DAILY_PACING.value, PauseReason.BRAND_DAILY_PACING.label


class Status(models.TextChoices):
    ACTIVE = "active", "Active"
    PAUSED = "paused", "Paused"


def _pause_reason_expression() -> Case:
    # Precedence: a person's pause, then the schedule, then money, then pacing.
    return Case(
        When(enabled=False, then=Value(PauseReason.MANUAL.value)),
        When(schedule_hold__isnull=False, then=F("schedule_hold")),
        When(budget_hold__isnull=False, then=F("budget_hold")),
        When(pacing_hold__isnull=False, then=F("pacing_hold")),
        default=Value(None),
        output_field=models.CharField(max_length=32, null=True),
    )


def _status_expression() -> Case:
    return Case(
        When(
            Q(
                enabled=True,
                schedule_hold__isnull=True,
                budget_hold__isnull=True,
                pacing_hold__isnull=True,
            ),
            then=Value(Status.ACTIVE.value),
        ),
        default=Value(Status.PAUSED.value),
        output_field=models.CharField(max_length=8),
    )


class Campaign(ConstraintsOnFields, models.Model):
    constraint_errors = {
        "campaign_name_unique_per_brand": (
            "name",
            "This brand already has a campaign with this name.",
        ),
        "campaign_flight_dates_ordered": ("ends_on", "The flight cannot end before it starts."),
        # A composite foreign key in SQL (migration 0002), caught as an IntegrityError.
        "campaign_budget_same_brand": ("budget", "This budget belongs to another brand."),
        "campaign_name_not_empty": ("name", "Give the campaign a name."),
    }

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="campaigns")
    budget = models.ForeignKey(
        Budget,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="campaigns",
        help_text="Optional shared budget of the same brand.",
    )
    name = models.CharField(max_length=200)
    enabled = models.BooleanField(
        default=True, help_text="The user's intent: off is a manual pause that only a person lifts."
    )
    starts_on = models.DateField(null=True, blank=True, help_text="Brand-local, inclusive.")
    ends_on = models.DateField(null=True, blank=True, help_text="Brand-local, inclusive.")
    # Null means "no hold": the API reports pause_reason null when active.
    schedule_hold = models.CharField(  # noqa: DJ001
        max_length=32, choices=ScheduleHold.choices, null=True, blank=True, editable=False
    )
    budget_hold = models.CharField(  # noqa: DJ001
        max_length=32, choices=BudgetHold.choices, null=True, blank=True, editable=False
    )
    pacing_hold = models.CharField(  # noqa: DJ001
        max_length=32, choices=PacingHold.choices, null=True, blank=True, editable=False
    )
    status = models.GeneratedField(
        expression=_status_expression(),
        output_field=models.CharField(max_length=8, choices=Status.choices),
        db_persist=True,
    )
    pause_reason = models.GeneratedField(
        expression=_pause_reason_expression(),
        output_field=models.CharField(max_length=32, choices=PauseReason.choices, null=True),
        db_persist=True,
    )
    archived_at = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text="Archived: out of the lists, takes no spend, keeps its history.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["brand__name", "name"]
        indexes = [
            models.Index(fields=["status", "pause_reason"], name="campaign_status_idx"),
            models.Index(fields=["brand", "status"], name="campaign_brand_status_idx"),
            # The few campaigns held for pacing, which each tick checks for release.
            models.Index(
                fields=["brand"],
                condition=Q(pacing_hold__isnull=False),
                name="campaign_pacing_held_idx",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["brand", "name"], name="campaign_name_unique_per_brand"
            ),
            models.CheckConstraint(
                condition=Q(starts_on__isnull=True)
                | Q(ends_on__isnull=True)
                | Q(starts_on__lte=F("ends_on")),
                name="campaign_flight_dates_ordered",
            ),
            models.CheckConstraint(
                condition=Q(schedule_hold__isnull=True) | Q(schedule_hold__in=ScheduleHold.values),
                name="campaign_schedule_hold_known",
            ),
            models.CheckConstraint(
                condition=Q(budget_hold__isnull=True) | Q(budget_hold__in=BudgetHold.values),
                name="campaign_budget_hold_known",
            ),
            models.CheckConstraint(
                condition=Q(pacing_hold__isnull=True) | Q(pacing_hold__in=PacingHold.values),
                name="campaign_pacing_hold_known",
            ),
            models.CheckConstraint(condition=~Q(name=""), name="campaign_name_not_empty"),
            # An archived campaign stays paused by a person until it is unarchived.
            models.CheckConstraint(
                condition=Q(archived_at__isnull=True) | Q(enabled=False),
                name="campaign_archived_is_paused",
            ),
            # The same-brand rule for `budget` is a composite foreign key
            # (budget_id, brand_id) -> budget (id, brand_id), added in SQL by
            # migration 0002: Django cannot declare one.
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("dashboard:campaign-detail", args=[self.pk])

    @property
    def archived(self) -> bool:
        return self.archived_at is not None

    def is_in_flight(self, day: dt.date) -> bool:
        """Whether the brand-local `day` is inside the flight dates."""
        if self.starts_on is not None and day < self.starts_on:
            return False
        return self.ends_on is None or day <= self.ends_on


WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ALL_DAYS_MASK = (1 << len(WEEKDAYS)) - 1


def days_to_mask(days: "list[str] | tuple[str, ...] | set[str]") -> int:
    """Weekday names ("mon" ... "sun") to a bit mask: Monday is bit 0."""
    mask = 0
    for name in days:
        mask |= 1 << WEEKDAYS.index(name)
    return mask


def mask_to_days(mask: int) -> list[str]:
    return [name for i, name in enumerate(WEEKDAYS) if mask & (1 << i)]


class Daypart(ConstraintsOnFields, models.Model):
    """A weekly window, in the brand's wall-clock time, when a campaign may serve.

    `days` is a bit mask of weekdays (Monday = bit 0, as `date.weekday()`), kept
    as an integer so that matching is one bitwise test in SQL on any backend.
    `end_time <= start_time` is an overnight window that belongs to the day it
    starts on: Fri 22:00-02:00 serves Saturday 01:00. `end_time == start_time`
    is a full 24 hours from the start.
    """

    constraint_errors = {"daypart_days_not_empty": ("days", "Choose at least one weekday.")}

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="dayparts")
    days = models.PositiveSmallIntegerField(help_text="Weekday bit mask; Monday is 1, Sunday 64.")
    start_time = models.TimeField()
    end_time = models.TimeField()

    class Meta:
        ordering = ["campaign", "start_time", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(days__gte=1, days__lte=ALL_DAYS_MASK), name="daypart_days_not_empty"
            ),
        ]

    def __str__(self) -> str:
        days = ",".join(self.day_names)
        return f"{days} {self.start_time:%H:%M}-{self.end_time:%H:%M}"

    @property
    def day_names(self) -> list[str]:
        return mask_to_days(self.days)

    @property
    def is_overnight(self) -> bool:
        return self.end_time <= self.start_time

    @property
    def window(self) -> str:
        """ "22:00 → 06:00 next day" for an overnight window, "09:00 → 17:00" otherwise."""
        text = f"{self.start_time:%H:%M} → {self.end_time:%H:%M}"
        if self.end_time == self.start_time:
            return f"{text} next day (24 hours)"
        return f"{text} next day" if self.is_overnight else text


class Actor(models.TextChoices):
    SYSTEM = "system", "System"
    USER = "user", "User"


class CampaignStatusChange(models.Model):
    """Every change of a campaign's serving state: who, when, why."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="status_changes")
    changed_at = models.DateTimeField()
    old_status = models.CharField(max_length=8, choices=Status.choices)
    old_reason = models.CharField(  # noqa: DJ001 - null while active
        max_length=32, choices=PauseReason.choices, null=True, blank=True
    )
    new_status = models.CharField(max_length=8, choices=Status.choices)
    new_reason = models.CharField(  # noqa: DJ001 - null while active
        max_length=32, choices=PauseReason.choices, null=True, blank=True
    )
    actor = models.CharField(max_length=8, choices=Actor.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    note = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["-changed_at", "-id"]
        indexes = [
            models.Index(fields=["-changed_at"], name="status_change_time_idx"),
            models.Index(fields=["campaign", "-changed_at"], name="status_change_campaign_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                # Both paused means both reasons are set (see below), so `=` is safe.
                condition=~Q(old_status=F("new_status"))
                | Q(old_status="paused", new_status="paused") & ~Q(old_reason=F("new_reason")),
                name="status_change_changes_something",
            ),
            models.CheckConstraint(
                condition=Q(old_status="active", old_reason__isnull=True)
                | Q(old_status="paused", old_reason__isnull=False),
                name="status_change_old_state_consistent",
            ),
            models.CheckConstraint(
                condition=Q(new_status="active", new_reason__isnull=True)
                | Q(new_status="paused", new_reason__isnull=False),
                name="status_change_new_state_consistent",
            ),
            models.CheckConstraint(
                condition=Q(actor="system", user__isnull=True) | Q(actor="user"),
                name="status_change_system_has_no_user",
            ),
        ]

    def __str__(self) -> str:
        return (
            f"{self.campaign_id}: {self.old_status} -> {self.new_status} ({self.new_reason or '-'})"
        )

    def get_absolute_url(self) -> str:
        return reverse("dashboard:history-detail", args=[self.pk])
