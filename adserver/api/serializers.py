"""Shapes of the API's resources (API.md). Serializers validate shape only.

They never write: the views hand `validated_data` to the services, which
own every rule that spans fields or rows. Current-period spend is read once
per page through `spend.selectors` by `CurrentTotalsListSerializer`.
"""

import datetime as dt
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any, Generic, TypeVar
from zoneinfo import available_timezones

from django.contrib.auth.models import User
from django.db import models
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from budgets.access import scope_to_visible
from budgets.models import (
    BUDGET_DECIMALS,
    MIN_BUDGET,
    MONEY_DIGITS,
    Brand,
    BrandMembership,
    Budget,
    Delivery,
    Role,
    SettingChange,
)
from budgets.pacing import Pacing, PacingStatus
from budgets.periods import validate_timezone
from campaigns.models import WEEKDAYS, Campaign, Daypart, PauseReason, Status, mask_to_days
from spend.models import AMOUNT_DECIMALS, AMOUNT_DIGITS, TOTAL_DIGITS, SpendEvent, SpendKind
from spend.pacing import brand_pacing, budget_pacing
from spend.recording.validation import EVENT_ID_MAX_LENGTH
from spend.selectors import (
    PeriodTotals,
    brand_current_totals,
    budget_current_totals,
    campaign_current_totals,
)
from spend.services import SpendRecorded

M = TypeVar("M", bound=models.Model)
ZERO = Decimal("0")
BIGINT_MAX = 2**63 - 1


def id_field() -> serializers.IntegerField:
    """Ids are integers: anything else (1.5, "abc", 1e999) is refused by name."""
    return serializers.IntegerField(min_value=1, max_value=BIGINT_MAX)


class VisibleRelatedField(serializers.PrimaryKeyRelatedField[M]):
    """A related id that resolves only to rows of brands the requester may see.

    A row of any other brand is refused exactly as an unknown id is (400,
    "does not exist"), so a body cannot probe which ids exist elsewhere.
    Whether the person may also change that brand is the view's check (403).
    """

    def __init__(self, *, brand_field: str, **kwargs: Any) -> None:
        self.brand_field = brand_field
        kwargs.setdefault("pk_field", id_field())
        super().__init__(**kwargs)

    def get_queryset(self) -> models.QuerySet[M]:
        queryset = super().get_queryset()
        if queryset is None:
            raise TypeError("VisibleRelatedField needs a queryset")
        request = self.context.get("request")
        user = getattr(request, "user", None)
        return scope_to_visible(queryset, user, brand_field=self.brand_field)


# --- current-period totals, read once per page --------------------------------------


class CurrentTotalsListSerializer(serializers.ListSerializer[M]):
    """Loads the totals of every item of a page with one query, then renders."""

    def to_representation(self, data: Any) -> list[Any]:
        items: list[M] = list(data.all() if isinstance(data, models.Manager) else data)
        if not isinstance(self.child, WithCurrentTotals):
            raise TypeError("CurrentTotalsListSerializer renders WithCurrentTotals serializers")
        self.child.load_totals(items)
        return super().to_representation(items)


class WithCurrentTotals(serializers.ModelSerializer[M], Generic[M]):
    def select_totals(self, items: Sequence[M]) -> dict[int, PeriodTotals]:
        raise NotImplementedError

    def select_pacing(self, items: Sequence[M]) -> dict[int, Pacing | None]:
        return {}

    def load_totals(self, items: Sequence[M]) -> None:
        self._totals = self.select_totals(items)
        self._pacing = self.select_pacing(items)

    def current_pacing(self, instance: M) -> Pacing | None:
        self.current_totals(instance)  # loads a single object's figures
        return self._pacing.get(instance.pk)

    def current_totals(self, instance: M) -> PeriodTotals:
        totals: dict[int, PeriodTotals] = getattr(self, "_totals", {})
        if instance.pk not in totals:  # a single object: detail, create, update
            self.load_totals([instance])
            totals = self._totals
        return totals[instance.pk]


class PeriodAmountField(serializers.DecimalField):
    """A read-only amount computed from the object and its current totals."""

    def __init__(self, compute: Callable[[Any, PeriodTotals], Decimal | None], **kwargs: Any):
        self.compute = compute
        kwargs.setdefault("max_digits", TOTAL_DIGITS)
        kwargs.setdefault("decimal_places", AMOUNT_DECIMALS)
        super().__init__(read_only=True, source="*", **kwargs)

    def to_representation(self, value: Any) -> Any:
        parent = self.parent
        if not isinstance(parent, WithCurrentTotals):
            raise TypeError("PeriodAmountField belongs in a WithCurrentTotals serializer")
        amount = self.compute(value, parent.current_totals(value))
        return None if amount is None else super().to_representation(amount)


# --- pacing, read once per page like the totals ----------------------------------------


class PacingSerializer(serializers.Serializer[Any]):
    """The shape of `pacing` (docs/architecture.md, "Pacing"), for the schema."""

    month_expected_to_date = serializers.DecimalField(
        max_digits=TOTAL_DIGITS,
        decimal_places=2,
        help_text="The monthly cap x the elapsed share of the local month.",
    )
    month_pacing_percent = serializers.DecimalField(
        max_digits=TOTAL_DIGITS,
        decimal_places=2,
        allow_null=True,
        help_text=(
            "Month-to-date spend over the expected spend, in percent; "
            "null at the month's first instant."
        ),
    )
    month_projected = serializers.DecimalField(
        max_digits=TOTAL_DIGITS,
        decimal_places=2,
        help_text="Where the month lands at the recent run rate (never past the cap).",
    )
    month_cap_reached_on = serializers.DateField(
        allow_null=True,
        help_text=(
            "Brand-local date the monthly cap is (or was) reached at that rate; "
            "null if not this month."
        ),
    )
    recommended_daily_budget = serializers.DecimalField(
        max_digits=TOTAL_DIGITS,
        decimal_places=2,
        help_text="The daily cap that lands the month on its cap.",
    )
    status = serializers.ChoiceField(choices=list(PacingStatus.ALL))
    day_cap_reached_at = serializers.DateTimeField(
        allow_null=True,
        help_text=(
            "Brand-local time today's spend meets the daily cap at the last hour's "
            "rate; null if not before the day or today's serving windows end (or "
            "already reached)."
        ),
    )


def pacing_body(pacing: Pacing | None) -> dict[str, Any] | None:
    if pacing is None:
        return None
    percent = pacing.month_pacing_percent
    reached_at = pacing.day_cap_reached_at
    return {
        "month_expected_to_date": str(pacing.month_expected_to_date),
        "month_pacing_percent": None if percent is None else str(percent),
        "month_projected": str(pacing.month_projected),
        "month_cap_reached_on": (
            None if pacing.month_cap_reached_on is None else pacing.month_cap_reached_on.isoformat()
        ),
        "recommended_daily_budget": str(pacing.recommended_daily_budget),
        "status": pacing.status,
        "day_cap_reached_at": (
            None if reached_at is None else reached_at.replace(microsecond=0).isoformat()
        ),
    }


@extend_schema_field(PacingSerializer(allow_null=True))
class PacingField(serializers.Field):  # type: ignore[type-arg]
    """Read-only: the object's pacing, loaded for the whole page by its serializer."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(read_only=True, source="*", **kwargs)

    def to_representation(self, value: Any) -> Any:
        parent = self.parent
        if not isinstance(parent, WithCurrentTotals):
            raise TypeError("PacingField belongs in a WithCurrentTotals serializer")
        return pacing_body(parent.current_pacing(value))


def _daily(_obj: object, totals: PeriodTotals) -> Decimal:
    return totals.daily_spend


def _monthly(_obj: object, totals: PeriodTotals) -> Decimal:
    return totals.monthly_spend


# --- field shapes that the schema states exactly ------------------------------------------

POSITIVE_MONEY = r"^([1-9]\d{0,11}(\.\d{1,2})?|0?\.(0[1-9]|[1-9]\d?))$"


@extend_schema_field(
    {"type": "string", "format": "decimal", "pattern": POSITIVE_MONEY, "example": "100.00"}
)
class BudgetAmountField(serializers.DecimalField):
    """A cap: positive, at most 2 decimal places, sent and shown as a string."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_digits", MONEY_DIGITS)
        kwargs.setdefault("decimal_places", BUDGET_DECIMALS)
        super().__init__(min_value=MIN_BUDGET, **kwargs)


@extend_schema_field({"type": "string", "enum": sorted(available_timezones()), "example": "UTC"})
class TimeZoneField(serializers.CharField):
    """An IANA time zone name: the brand's day and month start at its midnight."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(max_length=64, validators=[validate_timezone], **kwargs)


# --- resources ----------------------------------------------------------------------------


class BrandSerializer(WithCurrentTotals[Brand]):
    def select_totals(self, items: Sequence[Brand]) -> dict[int, PeriodTotals]:
        return brand_current_totals(items)

    def select_pacing(self, items: Sequence[Brand]) -> dict[int, Pacing | None]:
        return brand_pacing(items)

    daily_spend = PeriodAmountField(_daily, help_text="Spend of the brand's local today.")
    monthly_spend = PeriodAmountField(_monthly, help_text="Spend of the brand's local month.")
    daily_remaining = PeriodAmountField(
        lambda brand, totals: max(brand.daily_budget - totals.daily_spend, ZERO),
        help_text="What today's budget has left; never negative (see daily_overspend).",
    )
    monthly_remaining = PeriodAmountField(
        lambda brand, totals: max(brand.monthly_budget - totals.monthly_spend, ZERO),
        help_text="What this month's budget has left; never negative (see monthly_overspend).",
    )
    daily_overspend = PeriodAmountField(
        lambda brand, totals: max(totals.daily_spend - brand.daily_budget, ZERO),
        help_text="What today's spend went past the daily budget; 0 while under it.",
    )
    monthly_overspend = PeriodAmountField(
        lambda brand, totals: max(totals.monthly_spend - brand.monthly_budget, ZERO),
        help_text="What this month's spend went past the monthly budget; 0 while under it.",
    )
    campaigns_count = serializers.IntegerField(read_only=True)
    pacing = PacingField(help_text="Pacing of the brand's local month (docs: Pacing).")
    timezone = TimeZoneField(
        default="UTC",
        help_text="IANA time zone, e.g. Europe/Paris; fixed once the brand has spend.",
    )
    daily_budget = BudgetAmountField()
    monthly_budget = BudgetAmountField()
    delivery = serializers.ChoiceField(
        choices=Delivery.choices,
        default=Delivery.ACCELERATED,
        help_text=(
            "accelerated: spend as fast as traffic allows, up to the caps. standard: today's "
            "spend may not run ahead of the daily budget's share of the serving time passed "
            "plus a tolerance; past that the campaigns are held (brand_daily_pacing) until "
            "spend is back on the even line."
        ),
    )

    class Meta:
        model = Brand
        list_serializer_class = CurrentTotalsListSerializer
        fields = [
            "id",
            "name",
            "timezone",
            "currency",
            "daily_budget",
            "monthly_budget",
            "delivery",
            "daily_spend",
            "monthly_spend",
            "daily_remaining",
            "monthly_remaining",
            "daily_overspend",
            "monthly_overspend",
            "campaigns_count",
            "pacing",
            "archived_at",
        ]
        read_only_fields = ["archived_at"]
        # Uniqueness is the service's rule; it names the field.
        validators: list[Any] = []


class BudgetSerializer(WithCurrentTotals[Budget]):
    def select_totals(self, items: Sequence[Budget]) -> dict[int, PeriodTotals]:
        return budget_current_totals(items)

    def select_pacing(self, items: Sequence[Budget]) -> dict[int, Pacing | None]:
        return budget_pacing(items)

    brand = VisibleRelatedField[Brand](queryset=Brand.objects.all(), brand_field="id")
    daily_limit = BudgetAmountField(
        allow_null=True, required=False, help_text="Null: no daily cap at this level."
    )
    monthly_limit = BudgetAmountField(
        allow_null=True, required=False, help_text="Null: no monthly cap at this level."
    )
    daily_spend = PeriodAmountField(_daily, help_text="Spend of the brand's local today.")
    monthly_spend = PeriodAmountField(_monthly, help_text="Spend of the brand's local month.")
    pacing = PacingField(
        help_text="Pacing of the brand's local month; null without a monthly limit."
    )

    class Meta:
        model = Budget
        list_serializer_class = CurrentTotalsListSerializer
        fields = [
            "id",
            "brand",
            "name",
            "daily_limit",
            "monthly_limit",
            "daily_spend",
            "monthly_spend",
            "pacing",
        ]
        validators: list[Any] = []


class CampaignSerializer(WithCurrentTotals[Campaign]):
    def select_totals(self, items: Sequence[Campaign]) -> dict[int, PeriodTotals]:
        return campaign_current_totals(items)

    brand = VisibleRelatedField[Brand](
        queryset=Brand.objects.all(),
        brand_field="id",
        help_text="Set at creation; a campaign never changes brand.",
    )
    budget = VisibleRelatedField[Budget](
        queryset=Budget.objects.all(),
        brand_field="brand_id",
        allow_null=True,
        required=False,
        help_text="A shared budget of the same brand, or null.",
    )
    status = serializers.ChoiceField(choices=Status.choices, read_only=True)
    pause_reason = serializers.ChoiceField(
        choices=PauseReason.choices,
        read_only=True,
        allow_null=True,
        help_text=(
            "Null when active; a manual pause outranks the schedule, then money, then "
            "standard delivery's pacing (brand_daily_pacing)."
        ),
    )
    daily_spend = PeriodAmountField(_daily, help_text="Spend of the brand's local today.")
    monthly_spend = PeriodAmountField(_monthly, help_text="Spend of the brand's local month.")

    class Meta:
        model = Campaign
        list_serializer_class = CurrentTotalsListSerializer
        fields = [
            "id",
            "brand",
            "budget",
            "name",
            "enabled",
            "starts_on",
            "ends_on",
            "status",
            "pause_reason",
            "daily_spend",
            "monthly_spend",
            "archived_at",
        ]
        read_only_fields = ["archived_at"]
        extra_kwargs = {
            "enabled": {"help_text": "False is a manual pause (see /pause/ and /resume/)."},
        }
        validators: list[Any] = []


@extend_schema_field(
    {
        "type": "array",
        "items": {"type": "string", "enum": list(WEEKDAYS)},
        "minItems": 1,
        "example": ["fri", "sat"],
    }
)
class WeekdaysField(serializers.ListField):
    """Weekday names in, weekday names out; stored as a bit mask."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(child=serializers.ChoiceField(choices=WEEKDAYS), **kwargs)

    def to_internal_value(self, data: Any) -> list[str]:
        names = super().to_internal_value(data)
        return sorted(set(names), key=WEEKDAYS.index)

    def to_representation(self, data: Any) -> list[str]:
        return mask_to_days(int(data))


TIME_SCHEMA = {"type": "string", "pattern": r"^([01]\d|2[0-3]):[0-5]\d$", "example": "22:00"}


@extend_schema_field(TIME_SCHEMA)
class WallClockTimeField(serializers.TimeField):
    """ "HH:MM" in the brand's local wall-clock time."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%H:%M", input_formats=["%H:%M"], **kwargs)


class DaypartSerializer(serializers.ModelSerializer[Daypart]):
    campaign = VisibleRelatedField[Campaign](
        queryset=Campaign.objects.all(),
        brand_field="brand_id",
        help_text="Set at creation; a daypart never moves.",
    )
    days = WeekdaysField(help_text='Weekdays the window starts on: "mon" ... "sun".')
    start_time = WallClockTimeField(help_text="Brand-local HH:MM.")
    end_time = WallClockTimeField(
        help_text="Brand-local HH:MM; at or before start_time runs overnight into the next day."
    )

    class Meta:
        model = Daypart
        fields = ["id", "campaign", "days", "start_time", "end_time"]


def _total_field() -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=TOTAL_DIGITS, decimal_places=AMOUNT_DECIMALS)


# --- spend ----------------------------------------------------------------------------------


class SpendEventSerializer(serializers.ModelSerializer[SpendEvent]):
    """A ledger row as listed by GET /api/spend/."""

    campaign_was_serving = serializers.BooleanField(
        read_only=True, help_text="False when the campaign was paused: overspend."
    )

    class Meta:
        model = SpendEvent
        fields = [
            "id",
            "event_id",
            "campaign",
            "brand",
            "budget",
            "kind",
            "amount",
            "occurred_at",
            "local_date",
            "recorded_at",
            "source",
            "campaign_was_serving",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "source": {
                "help_text": "Who sent it, set by the server: a spend feed's name, or "
                "user:<username> for a person."
            },
            "event_id": {"help_text": "The sender's id for the event, unique per source."},
        }


class SpendEventRequestSerializer(serializers.Serializer[Any]):
    """The body of POST /api/spend/ and each item of a batch (schema only).

    Requests are read by `adserver.api.spend_input` and validated by
    `spend.services`; this describes them for the OpenAPI schema.
    """

    campaign = serializers.IntegerField(min_value=1, max_value=BIGINT_MAX)
    amount = serializers.DecimalField(
        max_digits=AMOUNT_DIGITS,
        decimal_places=AMOUNT_DECIMALS,
        help_text="Up to 6 decimal places; positive, or non-zero for an adjustment.",
    )
    occurred_at = serializers.DateTimeField(
        required=False,
        allow_null=True,
        help_text="ISO 8601 with a UTC offset; defaults to now. Not in the future.",
    )
    event_id = serializers.CharField(
        required=False,
        allow_null=True,
        max_length=EVENT_ID_MAX_LENGTH,
        help_text=(
            "The client's id, unique per sender: a replay with the same payload is not "
            "counted twice."
        ),
    )
    kind = serializers.ChoiceField(
        choices=SpendKind.choices,
        required=False,
        help_text="An adjustment (refund, correction) may be negative.",
    )


class SpendBatchRequestSerializer(serializers.Serializer[Any]):
    events = serializers.ListField(
        child=SpendEventRequestSerializer(),
        min_length=1,
        max_length=10_000,
        help_text="All of them are stored, or none.",
    )


class SpendRecordedSerializer(serializers.Serializer[Any]):
    """A recorded event and where its brand stands now (spend.services.SpendRecorded)."""

    id = serializers.IntegerField(source="event.id")
    event_id = serializers.CharField(source="event.event_id", allow_null=True)
    campaign = serializers.IntegerField(source="event.campaign_id")
    amount = serializers.DecimalField(
        source="event.amount", max_digits=AMOUNT_DIGITS, decimal_places=AMOUNT_DECIMALS
    )
    occurred_at = serializers.DateTimeField(source="event.occurred_at")
    kind = serializers.ChoiceField(source="event.kind", choices=SpendKind.choices)
    source = serializers.CharField(source="event.source")  # type: ignore[assignment]
    local_date = serializers.DateField(
        source="event.local_date", help_text="The brand-local day it counts for."
    )
    campaign_was_serving = serializers.BooleanField(
        source="event.campaign_was_serving",
        help_text="False: the campaign was paused when the spend arrived (overspend).",
    )
    campaign_status = serializers.ChoiceField(choices=Status.choices)
    pause_reason = serializers.ChoiceField(choices=PauseReason.choices, allow_null=True)
    brand_daily_spend = _total_field()
    brand_monthly_spend = _total_field()
    brand_daily_remaining = _total_field()
    brand_monthly_remaining = _total_field()


MICROS = Decimal(1).scaleb(-AMOUNT_DECIMALS)


def _micros(value: Decimal) -> str:
    return f"{value.quantize(MICROS):f}"


def spend_recorded_body(recorded: SpendRecorded) -> dict[str, Any]:
    """What SpendRecordedSerializer renders, built directly: it is the answer to
    every spend event, and a serializer's field machinery costs more than the
    rest of the response. A test holds the two equal."""
    event = recorded.event
    occurred_at = event.occurred_at.astimezone(dt.UTC).isoformat()
    return {
        "id": event.pk,
        "event_id": event.event_id,
        "campaign": event.campaign_id,
        "amount": _micros(event.amount),
        "occurred_at": occurred_at.removesuffix("+00:00") + "Z"
        if occurred_at.endswith("+00:00")
        else occurred_at,
        "kind": event.kind,
        "source": event.source,
        "local_date": event.local_date.isoformat(),
        "campaign_was_serving": event.campaign_was_serving,
        "campaign_status": recorded.campaign_status,
        "pause_reason": recorded.pause_reason,
        "brand_daily_spend": _micros(recorded.brand_daily_spend),
        "brand_monthly_spend": _micros(recorded.brand_monthly_spend),
        "brand_daily_remaining": _micros(recorded.brand_daily_remaining),
        "brand_monthly_remaining": _micros(recorded.brand_monthly_remaining),
    }


class SpendBatchRecordedSerializer(serializers.Serializer[Any]):
    created = serializers.IntegerField(help_text="Events stored by this request.")
    duplicates = serializers.IntegerField(
        help_text="Events whose event_id was already recorded (or repeated in the batch)."
    )


class SpendConflictSerializer(serializers.Serializer[Any]):
    detail = serializers.CharField()
    event_id = serializers.CharField(
        required=False, help_text="A replay with another payload: the event_id."
    )
    fields = serializers.ListField(  # type: ignore[assignment]
        child=serializers.CharField(),
        required=False,
        help_text="A replay with another payload: the fields that differ.",
    )
    archived = serializers.CharField(
        required=False,
        help_text='Spend for something archived: what is, e.g. "Campaign 42 (Summer sale)".',
    )
    campaign = serializers.IntegerField(
        required=False, help_text="Spend for something archived: the event's campaign."
    )
    index = serializers.IntegerField(required=False, help_text="Position of the event in a batch.")


# --- who may see a brand, and what changed in it -----------------------------------------


class MembershipSerializer(serializers.ModelSerializer[BrandMembership]):
    """A person's role on the brand."""

    username = serializers.CharField(source="user.username", read_only=True)
    role = serializers.ChoiceField(choices=Role.choices)

    class Meta:
        model = BrandMembership
        fields = ["user", "username", "role"]
        read_only_fields = ["user", "username", "role"]


class MembershipRequestSerializer(serializers.Serializer[Any]):
    """POST /api/brands/{id}/members/: give a person a role (or change it)."""

    user = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.all(), pk_field=id_field(), help_text="The person's user id."
    )
    role = serializers.ChoiceField(
        choices=Role.choices, help_text="viewer reads the brand; manager also changes it."
    )


class MembershipRoleSerializer(serializers.Serializer[Any]):
    """PATCH /api/brands/{id}/members/{user_id}/: a member's new role."""

    role = serializers.ChoiceField(choices=Role.choices)


class SettingChangeSerializer(serializers.ModelSerializer[SettingChange]):
    """One field of the brand's settings changed: who, when, through what, from what."""

    class Meta:
        model = SettingChange
        fields = [
            "id",
            "changed_at",
            "actor",
            "user",
            "via",
            "object_type",
            "object_id",
            "object_repr",
            "field",
            "before",
            "after",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "user": {"help_text": "The person's user id; null for a command or the system."},
            "before": {"help_text": "Null: the object did not exist yet."},
            "after": {"help_text": "Null: the object was deleted."},
        }


# --- status -----------------------------------------------------------------------------------


class StatusSerializer(serializers.Serializer[Any]):
    total_brands = serializers.IntegerField()
    total_campaigns = serializers.IntegerField()
    active_campaigns = serializers.IntegerField()
    paused_campaigns = serializers.IntegerField()
    paused_by_reason = serializers.DictField(
        child=serializers.IntegerField(), help_text="Paused campaigns per pause_reason."
    )
    over_daily_budget = serializers.IntegerField(
        help_text="Brands whose local today's spend reached the daily budget."
    )
    over_monthly_budget = serializers.IntegerField(
        help_text="Brands whose local month's spend reached the monthly budget."
    )
    server_time = serializers.DateTimeField()
