"""The database itself refuses bad brands, budgets and alerts."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from budgets.models import Alert, AlertScope, Brand, Budget, Period
from budgets.tests.factories import AlertFactory, BrandFactory, BudgetFactory

pytestmark = pytest.mark.django_db


def _refused(**fields: object) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        Brand.objects.create(**{"name": "Bad", "daily_budget": 1, "monthly_budget": 1, **fields})


@pytest.mark.parametrize("value", [Decimal("0"), Decimal("-1.00")])
def test_brand_daily_budget_must_be_positive(value: Decimal) -> None:
    _refused(daily_budget=value)


@pytest.mark.parametrize("value", [Decimal("0"), Decimal("-0.01")])
def test_brand_monthly_budget_must_be_positive(value: Decimal) -> None:
    _refused(monthly_budget=value)


@pytest.mark.parametrize("currency", ["usd", "US", "E1R", ""])
def test_brand_currency_must_be_iso_4217_shape(currency: str) -> None:
    _refused(currency=currency)


def test_brand_timezone_and_name_must_not_be_empty() -> None:
    _refused(timezone="")
    _refused(name="")


def test_brand_name_is_unique() -> None:
    BrandFactory.create(name="Acme")
    with pytest.raises(IntegrityError), transaction.atomic():
        BrandFactory.create(name="Acme")


def test_brand_timezone_is_validated_against_iana_names() -> None:
    brand = BrandFactory.build(timezone="Mars/Olympus_Mons")
    with pytest.raises(ValidationError) as excinfo:
        brand.full_clean()
    assert "timezone" in excinfo.value.message_dict
    BrandFactory.build(name="Fine", timezone="Asia/Kolkata").full_clean()


def test_brand_money_is_decimal_with_two_places() -> None:
    brand = BrandFactory.create(daily_budget=Decimal("10.10"), monthly_budget=Decimal("300.30"))
    brand.refresh_from_db()
    assert brand.daily_budget == Decimal("10.10")
    assert isinstance(brand.daily_budget, Decimal)
    brand.daily_budget = Decimal("10.123")
    with pytest.raises(ValidationError):
        brand.full_clean()


@pytest.mark.parametrize("field", ["daily_limit", "monthly_limit"])
@pytest.mark.parametrize("value", [Decimal("0"), Decimal("-5")])
def test_budget_limits_are_null_or_positive(field: str, value: Decimal) -> None:
    brand = BrandFactory.create()
    with pytest.raises(IntegrityError), transaction.atomic():
        Budget.objects.create(brand=brand, name="Pool", **{field: value})
    budget = Budget.objects.create(
        brand=brand, name="Uncapped", daily_limit=None, monthly_limit=None
    )
    assert budget.daily_limit is None


def test_budget_name_is_unique_within_a_brand_only() -> None:
    one, two = BrandFactory.create(), BrandFactory.create()
    BudgetFactory.create(brand=one, name="Always-on")
    BudgetFactory.create(brand=two, name="Always-on")
    with pytest.raises(IntegrityError), transaction.atomic():
        BudgetFactory.create(brand=one, name="Always-on")


def test_alert_is_raised_once_per_brand_period_and_threshold() -> None:
    brand = BrandFactory.create()
    today = timezone.now().date()
    AlertFactory.create(brand=brand, period=Period.DAY, period_start=today, threshold=80)
    with pytest.raises(IntegrityError), transaction.atomic():
        AlertFactory.create(brand=brand, period=Period.DAY, period_start=today, threshold=80)
    AlertFactory.create(
        brand=brand, period=Period.MONTH, period_start=today.replace(day=1), threshold=80
    )
    assert Alert.objects.count() == 2


def test_alert_is_raised_once_per_budget_period_and_threshold() -> None:
    budget = BudgetFactory.create()
    fields = {
        "brand": budget.brand,
        "budget": budget,
        "scope": AlertScope.BUDGET,
        "period_start": timezone.now().date(),
        "threshold": 100,
    }
    AlertFactory.create(**fields)
    with pytest.raises(IntegrityError), transaction.atomic():
        AlertFactory.create(**fields)


@pytest.mark.parametrize(
    ("fields"),
    [
        {"threshold": 75},
        {"period": "week"},
        {"scope": AlertScope.BUDGET},  # a budget alert without a budget
    ],
)
def test_alert_refuses_unknown_threshold_period_and_scope(fields: dict[str, object]) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        AlertFactory.create(**fields)
