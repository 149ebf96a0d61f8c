"""The forms that create and change brands and shared budgets (dashboard and admin).

They parse and check; the writes are the services'. The single-row rules
live on the models (`clean()`, `constraint_errors`), so a form, the admin
and the API refuse the same things with the same words, each beside its
field.
"""

import zoneinfo
from functools import cache
from typing import Any

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from budgets.models import Brand, Budget
from budgets.signals import brand_has_spend


@cache
def time_zone_names() -> tuple[str, ...]:
    # Not "localtime" nor the bare "Factory": no brand lives there.
    return tuple(
        sorted(name for name in zoneinfo.available_timezones() if name not in {"localtime"})
    )


@cache
def _canonical_zone_names() -> dict[str, str]:
    return {name.lower(): name for name in time_zone_names()}


class DatalistInput(forms.TextInput):
    """A text input with a `<datalist>` of its choices: type "par" to find Europe/Paris."""

    def __init__(self, options: tuple[str, ...], attrs: dict[str, Any] | None = None) -> None:
        super().__init__({"autocomplete": "off", "spellcheck": "false", **(attrs or {})})
        self.options = options

    def render(
        self,
        name: str,
        value: Any,
        attrs: dict[str, Any] | None = None,
        renderer: Any = None,
    ) -> SafeString:
        list_id = f"{(attrs or {}).get('id') or name}-options"
        field = super().render(name, value, {**(attrs or {}), "list": list_id}, renderer)
        options = format_html_join("", '<option value="{}">', ((o,) for o in self.options))
        return format_html('{}<datalist id="{}">{}</datalist>', field, list_id, options)


class TimeZoneField(forms.CharField):
    """An IANA zone, searchable as you type; any letter case is accepted."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 64)
        kwargs.setdefault("widget", DatalistInput(time_zone_names()))
        kwargs.setdefault("help_text", "The brand's days and months start at its local midnight.")
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> str:
        text = super().to_python(value) or ""
        if not text:
            return text
        canonical = _canonical_zone_names().get(text.lower())
        if canonical is None:
            raise ValidationError(
                "Choose a time zone from the list, such as Europe/Paris or America/New_York.",
                code="invalid_timezone",
            )
        return canonical


class CurrencyField(forms.CharField):
    """An ISO 4217 code: "eur" is EUR."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 3)
        kwargs.setdefault("min_length", 3)
        kwargs.setdefault("help_text", "ISO 4217 code, such as USD or EUR (for display only).")
        kwargs.setdefault(
            "widget", forms.TextInput(attrs={"size": 4, "autocapitalize": "characters"})
        )
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> str:
        return (super().to_python(value) or "").upper()


def add_service_errors(form: forms.BaseForm, error: ValidationError) -> None:
    """A service's refusal, each message on its field when the form has it."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for field, errors in error.error_dict.items():
        target = field if field in form.fields and field != NON_FIELD_ERRORS else None
        if target is not None and form.fields[target].disabled:
            target = None
        form.add_error(target, errors)


class BrandForm(forms.ModelForm[Brand]):
    timezone = TimeZoneField(label="Time zone")
    currency = CurrencyField()

    class Meta:
        model = Brand
        fields = ["name", "timezone", "currency", "daily_budget", "monthly_budget", "delivery"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "delivery" in self.fields:
            # A post without it (a script, an older page) keeps the brand's mode.
            self.fields["delivery"].required = False
        if "timezone" in self.fields and self.instance.pk and brand_has_spend(self.instance.pk):
            # Its spend is counted in this zone's days (budgets.services.brand_update).
            field = self.fields["timezone"]
            field.disabled = True
            field.help_text = "Fixed: the brand's spend is already counted in this zone's days."

    def clean_delivery(self) -> str:
        delivery: str = self.cleaned_data.get("delivery") or self.instance.delivery
        return delivery


class BudgetForm(forms.ModelForm[Budget]):
    """A shared budget of one brand: pass `instance=Budget(brand=...)` to create one."""

    class Meta:
        model = Budget
        fields = ["name", "daily_limit", "monthly_limit"]
        help_texts = {
            "daily_limit": "Empty for no daily limit of its own.",
            "monthly_limit": "Empty for no monthly limit of its own.",
        }

    def limit_warnings(self) -> list[str]:
        """After a valid form: limits the brand's caps make unreachable (allowed)."""
        return self.instance.limits_above_brand_caps(self.instance.brand)
