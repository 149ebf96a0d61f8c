"""The spend ledger and its per-period rollups.

`SpendEvent` is append-only: never edited or deleted (database triggers refuse
both; see migration 0002). A correction is a new event of kind `adjustment`,
which may be negative.

The rollups hold the exact total per brand-local day and month for each
brand, budget and campaign. They are written only by `spend.services`, with
atomic `INSERT ... ON CONFLICT DO UPDATE SET amount = amount + excluded.amount`
in the same transaction as the event: a new day is a new row, so a "reset" is
never missed or raced, and no update is lost under concurrency.
"""

from decimal import Decimal

from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from budgets.models import Brand, Budget, Period
from campaigns.models import Campaign

AMOUNT_DIGITS = 18
# "user:" and the longest username Django allows (150), or a feed's name.
SOURCE_MAX_LENGTH = 160
AMOUNT_DECIMALS = 6
TOTAL_DIGITS = 24


class SpendKind(models.TextChoices):
    SPEND = "spend", "Spend"
    ADJUSTMENT = "adjustment", "Adjustment (refund or correction)"


class SpendEvent(models.Model):
    # No single-column indexes on campaign and brand: the (owner, -occurred_at)
    # indexes below serve those lookups too, and every index is paid for by
    # every event recorded.
    campaign = models.ForeignKey(
        Campaign,
        on_delete=models.PROTECT,
        related_name="spend_events",
        db_index=False,
        db_constraint=False,  # enforced with brand_id: see below
    )
    # Denormalised at record time so brand and budget queries need no join,
    # and so the event keeps counting against the budget it was spent from.
    # The database checks it together with the campaign, through one foreign
    # key (campaign_id, brand_id) -> campaign (id, brand_id) (migration 0007):
    # the campaign exists, the brand is the campaign's (so it exists too), and
    # a campaign with spend cannot move to another brand; one check per event
    # instead of two.
    brand = models.ForeignKey(
        Brand,
        on_delete=models.PROTECT,
        related_name="spend_events",
        db_index=False,
        db_constraint=False,
    )
    budget = models.ForeignKey(
        Budget, on_delete=models.PROTECT, null=True, blank=True, related_name="spend_events"
    )
    kind = models.CharField(max_length=16, choices=SpendKind.choices, default=SpendKind.SPEND)
    amount = models.DecimalField(max_digits=AMOUNT_DIGITS, decimal_places=AMOUNT_DECIMALS)
    occurred_at = models.DateTimeField()
    local_date = models.DateField(help_text="Brand-local day of occurred_at: the rollup key.")
    recorded_at = models.DateTimeField(default=timezone.now)
    # Set by the server (spend.senders): a feed's name or "user:<username>".
    source = models.CharField(max_length=SOURCE_MAX_LENGTH, default="system")
    # Unique per source through Meta.constraints, so that one sender cannot
    # take another's id first. NULL (not "") when the client gives no id, so
    # that those never collide.
    event_id = models.CharField(max_length=128, null=True, blank=True)  # noqa: DJ001
    campaign_was_serving = models.BooleanField(
        default=True,
        help_text="False when the campaign was paused as this was recorded: overspend.",
    )

    class Meta:
        ordering = ["-occurred_at", "-id"]
        permissions = [
            ("add_adjustment", "Can record adjustments and spend dated before last month"),
        ]
        indexes = [
            models.Index(fields=["campaign", "-occurred_at"], name="spend_campaign_time_idx"),
            models.Index(fields=["brand", "-occurred_at"], name="spend_brand_time_idx"),
            models.Index(fields=["-occurred_at"], name="spend_time_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "event_id"], name="spend_source_event_id_unique"
            ),
            models.CheckConstraint(
                condition=Q(kind=SpendKind.SPEND, amount__gt=0)
                | Q(kind=SpendKind.ADJUSTMENT) & ~Q(amount=0),
                name="spend_amount_positive_unless_adjustment",
            ),
            models.CheckConstraint(condition=~Q(event_id=""), name="spend_event_id_not_empty"),
            models.CheckConstraint(condition=Q(kind__in=SpendKind.values), name="spend_kind_known"),
        ]

    def __str__(self) -> str:
        return f"{self.amount} on campaign {self.campaign_id} at {self.occurred_at:%Y-%m-%d %H:%M}"

    def get_absolute_url(self) -> str:
        return reverse("dashboard:spend-detail", args=[self.pk])


class PeriodRollup(models.Model):
    """A total for one brand-local day or month (period_start is its 1st).

    `overspend` is the part of `amount` recorded after the period's cap had
    been reached (brand and budget rows: the events that arrived while the
    total already stood at or above the cap), or while the campaign was not
    serving (campaign rows). `alerted_threshold` is the highest alert raised
    for the period, so that the recorder knows without a query which alerts
    are still due; the unique key on Alert is what guarantees "once".
    """

    period = models.CharField(max_length=8, choices=Period.choices)
    period_start = models.DateField()
    amount = models.DecimalField(max_digits=TOTAL_DIGITS, decimal_places=AMOUNT_DECIMALS)
    events_count = models.PositiveIntegerField(default=0)
    overspend = models.DecimalField(
        max_digits=TOTAL_DIGITS,
        decimal_places=AMOUNT_DECIMALS,
        default=Decimal("0"),
        db_default=Decimal("0"),
        help_text="Spend recorded after the cap was reached (campaign: while paused).",
    )
    alerted_threshold = models.PositiveSmallIntegerField(
        default=0, db_default=0, help_text="Highest alert raised for this period, in percent."
    )

    class Meta:
        abstract = True

    @staticmethod
    def period_constraints(prefix: str) -> list[models.BaseConstraint]:
        return [
            models.CheckConstraint(
                condition=Q(period__in=Period.values), name=f"{prefix}_period_known"
            ),
            models.CheckConstraint(
                condition=Q(overspend__gte=0), name=f"{prefix}_overspend_not_negative"
            ),
        ]


class BrandSpend(PeriodRollup):
    brand = models.ForeignKey(Brand, on_delete=models.PROTECT, related_name="spend_rollups")

    class Meta:
        indexes = [
            # Every brand's current day (or month) at once: the overview's
            # counts and totals read a few period_start values across brands.
            models.Index(fields=["period", "period_start"], name="brand_spend_period_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["brand", "period", "period_start"], name="brand_spend_one_row_per_period"
            ),
            *PeriodRollup.period_constraints("brand_spend"),
        ]

    def __str__(self) -> str:
        return f"brand {self.brand_id} {self.period} {self.period_start}: {self.amount}"


class BudgetSpend(PeriodRollup):
    budget = models.ForeignKey(Budget, on_delete=models.PROTECT, related_name="spend_rollups")

    class Meta:
        indexes = [
            # The current day's and month's rollups of every budget (the overview).
            models.Index(fields=["period", "period_start"], name="budget_spend_period_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["budget", "period", "period_start"], name="budget_spend_one_row_per_period"
            ),
            *PeriodRollup.period_constraints("budget_spend"),
        ]

    def __str__(self) -> str:
        return f"budget {self.budget_id} {self.period} {self.period_start}: {self.amount}"


class CampaignSpend(PeriodRollup):
    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="spend_rollups")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "period", "period_start"],
                name="campaign_spend_one_row_per_period",
            ),
            *PeriodRollup.period_constraints("campaign_spend"),
        ]

    def __str__(self) -> str:
        return f"campaign {self.campaign_id} {self.period} {self.period_start}: {self.amount}"


class AlertWebhook(models.Model):
    """A URL that receives every alert of one brand (or of every brand, with no brand).

    `settings.ALERT_WEBHOOK_URLS` adds URLs for every brand without a row.
    """

    brand = models.ForeignKey(
        Brand,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="alert_webhooks",
        help_text="Empty: every brand's alerts.",
    )
    url = models.URLField(max_length=500)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["brand", "url"], name="alert_webhook_once_per_brand", nulls_distinct=False
            ),
        ]

    def __str__(self) -> str:
        return self.url


class AlertDelivery(models.Model):
    """One alert on one channel: the e-mail to ALERT_EMAILS, or one webhook URL.

    `delivered_at` is set once, by compare-and-swap (`WHERE delivered_at IS
    NULL`); `claimed_until` keeps two deliverers from sending at once.
    `attempts` and `last_error` show failures on the alert's page.
    """

    alert = models.ForeignKey("budgets.Alert", on_delete=models.CASCADE, related_name="deliveries")
    channel = models.CharField(max_length=520, help_text='"email" or "webhook <url>".')
    delivered_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")
    claimed_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["alert_id", "channel"]
        constraints = [
            models.UniqueConstraint(fields=["alert", "channel"], name="alert_delivery_once"),
        ]
        indexes = [
            models.Index(
                fields=["alert"], condition=Q(delivered_at__isnull=True),
                name="alert_delivery_pending_idx",
            ),
        ]  # fmt: skip

    def __str__(self) -> str:
        return f"alert {self.alert_id} by {self.channel}"


class ReconcileTick(models.Model):
    """When each periodic reconcile task last finished (one row per task name).

    /healthz, the dashboard's banner and /metrics read it: a stopped beat or
    worker shows as an old `finished_at`.
    """

    name = models.CharField(max_length=100, primary_key=True)
    finished_at = models.DateTimeField()
    duration_seconds = models.FloatField()
    holds_changed = models.PositiveBigIntegerField(
        default=0, help_text="Campaign holds changed by this task since it first ran."
    )

    def __str__(self) -> str:
        return f"{self.name} at {self.finished_at:%Y-%m-%d %H:%M:%S}"
