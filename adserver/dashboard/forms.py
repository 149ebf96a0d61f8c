"""Filters of the list pages. A value a form refuses is a 400 that names the field.

Brands, budgets and campaigns are chosen by id (the links on every page
carry it) and shown by name: a select of 10,000 brands would make every page
load them all. The choices are the rows of the brands the user may see: an
id of another brand's row is refused exactly as an id that does not exist,
so a filter never reveals that a brand exists.
"""

import datetime as dt
from typing import Any

from django import forms

from adserver.dashboard.log_selectors import Cursor
from adserver.dashboard.selectors import BRAND_SORTS
from budgets.access import AnyUser, scope_to_visible
from budgets.models import ALERT_THRESHOLDS, Brand, Budget, Period
from budgets.pacing import PacingStatus
from campaigns.models import Actor, Campaign, PauseReason, Status
from spend.models import SpendKind

MAX_DATE_RANGE_DAYS = 366


def _blank(choices: list[tuple[str, str]], label: str = "Any") -> list[tuple[str, str]]:
    return [("", label), *choices]


class HiddenModelChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    """An id in the query string; one query to load the row, none to render."""

    widget = forms.HiddenInput

    def __init__(self, queryset: Any, *, brand_field: str, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault(
            "error_messages", {"invalid_choice": "No such record; it may have been deleted."}
        )
        super().__init__(queryset, **kwargs)
        self.brand_field = brand_field  # the path from a row to its brand's id


class VisibleChoicesForm(forms.Form):
    """A filter form whose brand, budget and campaign choices are those `user` may see."""

    def __init__(self, *args: Any, user: AnyUser, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if isinstance(field, HiddenModelChoiceField) and field.queryset is not None:
                field.queryset = scope_to_visible(
                    field.queryset, user, brand_field=field.brand_field
                )


class ExportForm(forms.Form):
    """`?format=csv` downloads every row the filters select, instead of a page."""

    format = forms.ChoiceField(
        required=False, choices=[("", "Page"), ("csv", "CSV")], widget=forms.HiddenInput
    )

    def wants_csv(self) -> bool:
        return self.cleaned_data.get("format") == "csv"


class PageForm(ExportForm):
    page = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def page_number(self) -> int:
        return self.cleaned_data.get("page") or 1


class DateRangeMixin(forms.Form):
    date_from = forms.DateField(
        required=False, label="From", widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        required=False, label="To", widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        first: dt.date | None = cleaned.get("date_from")
        last: dt.date | None = cleaned.get("date_to")
        if first and last:
            if first > last:
                self.add_error("date_to", "The end of the range is before its start.")
            elif (last - first).days >= MAX_DATE_RANGE_DAYS:
                self.add_error("date_to", f"Choose at most {MAX_DATE_RANGE_DAYS} days.")
        return cleaned


class BrandFilterForm(PageForm):
    q = forms.CharField(required=False, max_length=200, label="Search")
    currency = forms.RegexField(
        required=False,
        regex=r"^[A-Z]{3}\Z",
        max_length=3,
        error_messages={"invalid": "Use an ISO 4217 code such as USD or EUR."},
        widget=forms.TextInput(attrs={"size": 4, "placeholder": "USD"}),
    )
    over = forms.ChoiceField(
        required=False,
        label="At cap",
        choices=_blank([("daily", "Daily budget spent"), ("monthly", "Monthly budget spent")]),
    )
    pacing = forms.ChoiceField(
        required=False,
        label="Pacing",
        choices=_blank(
            [
                (PacingStatus.UNDER, "Under pace"),
                (PacingStatus.ON_PACE, "On pace"),
                (PacingStatus.OVER, "Over pace"),
            ]
        ),
    )
    archived = forms.BooleanField(required=False, label="Archived only")
    sort = forms.ChoiceField(
        required=False, choices=[(key, key) for key in BRAND_SORTS], widget=forms.HiddenInput
    )


class BudgetFilterForm(VisibleChoicesForm, PageForm):
    brand = HiddenModelChoiceField(Brand.objects.all(), brand_field="id")
    q = forms.CharField(required=False, max_length=200, label="Search")


class CampaignFilterForm(VisibleChoicesForm, PageForm):
    brand = HiddenModelChoiceField(Brand.objects.all(), brand_field="id")
    budget = HiddenModelChoiceField(Budget.objects.select_related("brand"), brand_field="brand_id")
    q = forms.CharField(required=False, max_length=200, label="Search")
    status = forms.ChoiceField(required=False, choices=_blank(Status.choices))
    reason = forms.ChoiceField(required=False, choices=_blank(PauseReason.choices))
    archived = forms.BooleanField(required=False, label="Archived only")


class SpendFilterForm(VisibleChoicesForm, DateRangeMixin, ExportForm):
    brand = HiddenModelChoiceField(Brand.objects.all(), brand_field="id")
    campaign = HiddenModelChoiceField(
        Campaign.objects.select_related("brand"), brand_field="brand_id"
    )
    kind = forms.ChoiceField(required=False, choices=_blank(SpendKind.choices))
    before = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput)
    after = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput)

    def _cursor(self, name: str) -> Cursor | None:
        value = self.cleaned_data.get(name)
        if not value:
            return None
        try:
            return Cursor.decode(value)
        except ValueError:
            raise forms.ValidationError(
                "Not a position in the log; use the Newer and Older links."
            ) from None

    def clean_before(self) -> Cursor | None:
        return self._cursor("before")

    def clean_after(self) -> Cursor | None:
        return self._cursor("after")


class AlertFilterForm(VisibleChoicesForm, DateRangeMixin, PageForm):
    brand = HiddenModelChoiceField(Brand.objects.all(), brand_field="id")
    state = forms.ChoiceField(
        required=False,
        choices=_blank(
            [
                ("open", "Open (this day or month, not acknowledged)"),
                ("acknowledged", "Acknowledged"),
            ],
            label="All",
        ),
    )
    period = forms.ChoiceField(required=False, choices=_blank(Period.choices))
    threshold = forms.TypedChoiceField(
        required=False,
        coerce=int,
        empty_value=None,
        choices=_blank([(str(t), f"{t}%") for t in ALERT_THRESHOLDS]),
    )


class HistoryFilterForm(VisibleChoicesForm, DateRangeMixin, PageForm):
    brand = HiddenModelChoiceField(Brand.objects.all(), brand_field="id")
    campaign = HiddenModelChoiceField(
        Campaign.objects.select_related("brand"), brand_field="brand_id"
    )
    status = forms.ChoiceField(required=False, label="New status", choices=_blank(Status.choices))
    reason = forms.ChoiceField(
        required=False, label="New reason", choices=_blank(PauseReason.choices)
    )
    actor = forms.ChoiceField(required=False, choices=_blank(Actor.choices))


class ChangesPageForm(forms.Form):
    """The page of a brand's settings trail: its own parameter beside the page's others."""

    changes_page = forms.IntegerField(required=False, min_value=1, label="Changes page")

    def page_number(self) -> int:
        return self.cleaned_data.get("changes_page") or 1


class PauseForm(forms.Form):
    note = forms.CharField(
        required=False,
        max_length=255,
        label="Note (optional)",
        help_text="Why, for whoever reads the status history.",
        widget=forms.Textarea(attrs={"rows": 2, "cols": 50, "maxlength": 255}),
    )


MAX_IDS_AT_ONCE = 500


class IdsField(forms.Field):
    """Ids of rows, from checkboxes that share one name (a page holds 50)."""

    widget = forms.MultipleHiddenInput
    default_error_messages = {
        "invalid": "Not a list of ids.",
        "too_many": f"Choose at most {MAX_IDS_AT_ONCE} at once.",
    }

    def to_python(self, value: Any) -> list[int]:
        if not value:
            return []
        values = value if isinstance(value, list | tuple) else [value]
        try:
            ids = sorted({int(item) for item in values})
        except (TypeError, ValueError):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None
        if any(pk < 1 or pk > 2**63 - 1 for pk in ids):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        if len(ids) > MAX_IDS_AT_ONCE:
            raise forms.ValidationError(self.error_messages["too_many"], code="too_many")
        return ids


class AlertAcknowledgeForm(forms.Form):
    alert = IdsField(error_messages={"required": "Tick at least one alert to acknowledge."})
    next = forms.CharField(required=False, max_length=2000, widget=forms.HiddenInput)
