"""The forms that create and change campaigns and their dayparts (dashboard and admin).

They parse and check; the services write. A campaign's budget is chosen
among its own brand's budgets only, and a daypart is a set of weekday
checkboxes with a start and an end on the brand's wall clock, where an end
at or before the start runs overnight into the next day.
"""

from typing import Any

from django import forms

from budgets.models import Brand, Budget
from campaigns.models import WEEKDAYS, Campaign, Daypart, days_to_mask, mask_to_days

DAY_LABELS = {
    "mon": "Mon",
    "tue": "Tue",
    "wed": "Wed",
    "thu": "Thu",
    "fri": "Fri",
    "sat": "Sat",
    "sun": "Sun",
}


class BudgetChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    """A brand's budgets by name; budgets of several brands named with their brand."""

    def __init__(self, *args: Any, with_brand: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.with_brand = with_brand

    def label_from_instance(self, obj: Budget) -> str:
        return f"{obj.brand.name} · {obj.name}" if self.with_brand else obj.name


class CampaignForm(forms.ModelForm[Campaign]):
    """A campaign of `brand`: its budget is one of that brand's, or none.

    With `brand=None` (the admin's "add" page) the brand is a field of the
    form and the budget must belong to the brand chosen there.
    """

    class Meta:
        model = Campaign
        fields = ["brand", "budget", "name", "enabled", "starts_on", "ends_on"]
        widgets = {
            "starts_on": forms.DateInput(attrs={"type": "date"}),
            "ends_on": forms.DateInput(attrs={"type": "date"}),
        }
        labels = {"budget": "Shared budget", "starts_on": "Starts on", "ends_on": "Ends on"}
        help_texts = {
            "starts_on": "The brand's local day, inclusive; empty to start at once.",
            "ends_on": "The brand's local day, inclusive; empty to run until stopped.",
        }

    def __init__(self, *args: Any, brand: Brand | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        brand = brand or (self.instance.brand if self.instance.brand_id else None)
        field = self.fields.get("budget")
        if isinstance(field, forms.ModelChoiceField) and field.queryset is not None:
            # The admin has narrowed the choices to the user's brands already.
            budgets = field.queryset.select_related("brand").order_by("brand__name", "name")
            if brand is not None:
                budgets = budgets.filter(brand=brand)
            self.fields["budget"] = BudgetChoiceField(
                budgets,
                required=False,
                label=field.label,
                help_text=field.help_text,
                empty_label="None: only the brand's caps",
                with_brand=brand is None,
            )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or self.cleaned_data
        brand = data.get("brand") or (self.instance.brand if self.instance.brand_id else None)
        budget = data.get("budget")
        if budget is not None and brand is not None and budget.brand_id != brand.pk:
            self.add_error("budget", "This budget belongs to another brand.")
        return data


class DashboardCampaignForm(CampaignForm):
    """The dashboard's: the brand is the page's, and pausing has its own button."""

    class Meta(CampaignForm.Meta):
        fields = ["name", "budget", "starts_on", "ends_on"]


class DaypartForm(forms.ModelForm[Daypart]):
    days = forms.MultipleChoiceField(
        label="Weekdays",
        choices=[(day, DAY_LABELS[day]) for day in WEEKDAYS],
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose at least one weekday."},
    )

    class Meta:
        model = Daypart
        fields = ["days", "start_time", "end_time"]
        widgets = {
            "start_time": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "end_time": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        }
        labels = {"start_time": "Starts at", "end_time": "Ends at"}
        help_texts = {
            "start_time": "The brand's wall-clock time.",
            "end_time": (
                "At or before the start for an overnight window: Fri 22:00 → 02:00 "
                "serves into Saturday morning."
            ),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["days"] = mask_to_days(self.instance.days)

    def clean_days(self) -> int:
        return days_to_mask(self.cleaned_data["days"])

    def day_names(self) -> list[str]:
        """The checked weekdays, as the services take them."""
        return mask_to_days(self.cleaned_data["days"])
