"""Query filters of the list endpoints; a bad value is a 400 naming the filter.

Filters by id (`?brand=`, `?campaign=`, `?budget=`) take any well-formed id
and narrow the list, which the view has already narrowed to the brands the
person may see: an unknown id and the id of a brand they may not see both
give an empty list, so a filter cannot tell which ids exist.
"""

import datetime as dt
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q
from django_filters import fields
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema_field

from budgets.models import Brand, Budget
from budgets.pacing import PacingStatus
from campaigns.models import Campaign, Daypart, PauseReason, Status
from spend.models import SpendEvent, SpendKind
from spend.pacing import pacing_status_q, with_pacing
from spend.selectors import local_todays_by_zone


class StrictFilterSet(filters.FilterSet):
    """A filter sent without a value is refused, not silently ignored."""

    def is_valid(self) -> bool:
        errors = self.form.errors  # runs the form's own validation first
        for name in self.filters:
            if name in self.data and self.data.get(name) == "" and name not in errors:
                self.form.add_error(name, "Give a value, or leave this filter out.")
        return bool(super().is_valid())


class UtcDateTimeField(fields.IsoDateTimeField):
    """An ISO 8601 instant, in UTC before it reaches the database.

    Python accepts offsets up to 23:59 and PostgreSQL only to 15:59; the
    instant is the same, so convert it rather than fail.
    """

    def to_python(self, value: Any) -> dt.datetime | None:
        instant: dt.datetime | None = super().to_python(value)
        if instant is None:
            return None
        try:
            return instant.astimezone(dt.UTC)
        except OverflowError as exc:
            raise ValidationError("This instant is out of range.", code="invalid") from exc


class UtcDateTimeFilter(filters.IsoDateTimeFilter):
    field_class = UtcDateTimeField


BIGINT_MAX = 2**63 - 1


@extend_schema_field({"type": "integer", "minimum": 1, "maximum": BIGINT_MAX})
class IdFilter(filters.Filter):
    """A row id: a positive integer (1.5, "abc" or 10**30 is a 400 naming the filter)."""

    field_class = forms.IntegerField

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", BIGINT_MAX)
        super().__init__(*args, **kwargs)


ARCHIVED_HELP = (
    "true: only the archived; false (the default): only the others. An archived object "
    "keeps its page and history."
)


def archived_q(lookups: tuple[str, ...]) -> Q:
    """Rows archived by any of `lookups` (a campaign also by its brand's archive)."""
    archived = Q()
    for lookup in lookups:
        archived |= Q(**{f"{lookup}__isnull": False})
    return archived


class ArchivedFilterSet(StrictFilterSet):
    """`?archived=true` lists the archived; the view leaves them out of a list by default."""

    archived = filters.BooleanFilter(method="filter_archived", help_text=ARCHIVED_HELP)
    archived_lookups: tuple[str, ...] = ("archived_at",)

    def filter_archived(self, queryset: Any, name: str, value: bool | None) -> Any:
        if value is None:
            return queryset
        archived = archived_q(self.archived_lookups)
        return queryset.filter(archived) if value else queryset.exclude(archived)


PACING_HELP = (
    "Brands whose pacing status is this: under or over the expected spend of the "
    "local month by the thresholds, or on_pace (always before the 3rd local day)."
)


class BrandFilter(ArchivedFilterSet):
    pacing = filters.ChoiceFilter(
        choices=[(status, status) for status in PacingStatus.ALL],
        method="filter_pacing",
        help_text=PACING_HELP,
    )

    def filter_pacing(self, queryset: Any, name: str, value: str) -> Any:
        # * the time zones brands use (the status is computed per zone in SQL)
        zones = local_todays_by_zone()
        return with_pacing(queryset, zones).filter(pacing_status_q(value))

    class Meta:
        model = Brand
        fields = ["archived", "pacing"]


class BudgetFilter(StrictFilterSet):
    brand = IdFilter(field_name="brand_id", help_text="Brand id.")

    class Meta:
        model = Budget
        fields = ["brand"]


class CampaignFilter(ArchivedFilterSet):
    brand = IdFilter(field_name="brand_id", help_text="Brand id.")
    budget = IdFilter(field_name="budget_id", help_text="Shared budget id.")
    status = filters.ChoiceFilter(choices=Status.choices)
    pause_reason = filters.ChoiceFilter(choices=PauseReason.choices)
    # A campaign of an archived brand is archived with it.
    archived_lookups = ("archived_at", "brand__archived_at")

    class Meta:
        model = Campaign
        fields = ["brand", "budget", "status", "pause_reason", "archived"]


class DaypartFilter(StrictFilterSet):
    campaign = IdFilter(field_name="campaign_id", help_text="Campaign id.")

    class Meta:
        model = Daypart
        fields = ["campaign"]


class SpendEventFilter(StrictFilterSet):
    campaign = IdFilter(field_name="campaign_id", help_text="Campaign id.")
    brand = IdFilter(field_name="brand_id", help_text="Brand id.")
    date = filters.DateFilter(
        field_name="local_date", help_text="The brand-local day the spend counts for."
    )
    since = UtcDateTimeFilter(
        field_name="occurred_at", lookup_expr="gte", help_text="occurred_at at or after (ISO 8601)."
    )
    until = UtcDateTimeFilter(
        field_name="occurred_at", lookup_expr="lt", help_text="occurred_at before (ISO 8601)."
    )
    kind = filters.ChoiceFilter(choices=SpendKind.choices)

    class Meta:
        model = SpendEvent
        fields = ["campaign", "brand", "date", "since", "until", "kind"]
