"""Rules of one row, held by the models, so that the services, the admin and the
dashboard's forms refuse the same things, each on its field."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from budgets import services
from budgets.models import Brand, Budget
from budgets.tests.factories import BrandFactory, BudgetFactory

pytestmark = pytest.mark.django_db


def test_a_daily_budget_above_the_monthly_one_is_refused_on_the_daily_field() -> None:
    with pytest.raises(ValidationError) as raised:
        services.brand_create(
            name="Northwind", daily_budget=Decimal("500"), monthly_budget=Decimal("400")
        )
    assert list(raised.value.message_dict) == ["daily_budget"]
    assert "cannot be above the monthly budget (400.00)" in raised.value.messages[0]
    assert not Brand.objects.exists()


def test_lowering_the_monthly_budget_below_the_daily_one_is_refused_and_changes_nothing() -> None:
    brand = BrandFactory.create(daily_budget=Decimal("100"), monthly_budget=Decimal("3000"))
    with pytest.raises(ValidationError) as raised:
        services.brand_update(brand_id=brand.pk, monthly_budget=Decimal("99"))
    assert list(raised.value.message_dict) == ["daily_budget"]
    brand.refresh_from_db()
    assert brand.monthly_budget == Decimal("3000")


def test_equal_daily_and_monthly_budgets_are_allowed() -> None:
    brand = services.brand_create(
        name="Flat", daily_budget=Decimal("100"), monthly_budget=Decimal("100")
    )
    assert brand.pk is not None


def test_a_budgets_daily_limit_above_its_monthly_limit_is_refused() -> None:
    brand = BrandFactory.create()
    with pytest.raises(ValidationError) as raised:
        services.budget_create(
            brand=brand, name="Odd", daily_limit=Decimal("60"), monthly_limit=Decimal("50")
        )
    assert list(raised.value.message_dict) == ["daily_limit"]
    assert not Budget.objects.exists()


def test_a_limit_above_the_brands_cap_is_allowed_and_named_as_unreachable() -> None:
    brand = BrandFactory.create(
        name="Northwind", daily_budget=Decimal("100"), monthly_budget=Decimal("3000")
    )
    budget = BudgetFactory.create(
        brand=brand, daily_limit=Decimal("150"), monthly_limit=Decimal("2000")
    )
    assert budget.limits_above_brand_caps(brand) == [
        "The daily limit 150.00 USD is above Northwind's daily budget of 100.00 USD: "
        "the brand's cap stops spend first."
    ]


def test_a_violated_constraint_is_reported_on_its_field_in_words() -> None:
    brand = Brand(
        name="", timezone="UTC", currency="usd", daily_budget=Decimal(1), monthly_budget=Decimal(1)
    )
    with pytest.raises(ValidationError) as raised:
        brand.validate_constraints()
    assert raised.value.message_dict == {
        "currency": ["Use an ISO 4217 code such as USD or EUR."],
        "name": ["Give the brand a name."],
    }
