"""Brand and budget writes: validated, naming the field, and announced when they move caps."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from budgets import services
from budgets.models import Brand, Budget
from budgets.tests.factories import BrandFactory, BudgetFactory
from campaigns.models import Campaign, Daypart
from campaigns.tests.factories import CampaignFactory, DaypartFactory
from spend.tests.factories import SpendEventFactory

pytestmark = pytest.mark.django_db


def _field_errors(excinfo: pytest.ExceptionInfo[ValidationError]) -> set[str]:
    return set(excinfo.value.message_dict)


def test_brand_create_stores_a_valid_brand() -> None:
    brand = services.brand_create(
        name="Acme",
        timezone="Asia/Kolkata",
        currency="INR",
        daily_budget=Decimal("100.00"),
        monthly_budget=Decimal("3000"),
    )
    stored = Brand.objects.get(pk=brand.pk)
    assert (stored.timezone, stored.currency, stored.monthly_budget) == (
        "Asia/Kolkata",
        "INR",
        Decimal("3000.00"),
    )


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("timezone", "Mars/Olympus_Mons"),
        ("currency", "usd"),
        ("daily_budget", Decimal("0")),
        ("daily_budget", Decimal("-5")),
        ("monthly_budget", Decimal("10.001")),
        ("monthly_budget", Decimal("1E+20")),
        ("daily_budget", Decimal("NaN")),
        ("name", ""),
    ],
)
def test_brand_create_refuses_bad_values_naming_the_field(field: str, value: object) -> None:
    fields: dict[str, object] = {
        "name": "Acme",
        "daily_budget": Decimal("1"),
        "monthly_budget": Decimal("1"),
        field: value,
    }
    with pytest.raises(ValidationError) as excinfo:
        services.brand_create(**fields)  # type: ignore[arg-type]
    assert field in _field_errors(excinfo)
    assert not Brand.objects.exists()


def test_brand_names_are_unique() -> None:
    BrandFactory.create(name="Acme")
    with pytest.raises(ValidationError) as excinfo:
        services.brand_create(name="Acme", daily_budget=Decimal(1), monthly_budget=Decimal(1))
    assert _field_errors(excinfo) == {"name"}


def test_changing_a_brand_cap_announces_the_brand(announced: list[frozenset[int]]) -> None:
    brand = BrandFactory.create()
    services.brand_update(brand_id=brand.pk, daily_budget=Decimal("250.00"))
    assert announced == [frozenset({brand.pk})]
    assert Brand.objects.get(pk=brand.pk).daily_budget == Decimal("250.00")


def test_renaming_a_brand_announces_nothing(announced: list[frozenset[int]]) -> None:
    brand = BrandFactory.create()
    services.brand_update(brand_id=brand.pk, name="Renamed", daily_budget=brand.daily_budget)
    assert announced == []
    assert Brand.objects.get(pk=brand.pk).name == "Renamed"


def test_a_bad_brand_update_leaves_the_brand_as_it_was(announced: list[frozenset[int]]) -> None:
    brand = BrandFactory.create(timezone="Europe/Paris")
    with pytest.raises(ValidationError) as excinfo:
        services.brand_update(brand_id=brand.pk, timezone="Europe/Atlantis", name="New")
    assert _field_errors(excinfo) == {"timezone"}
    brand.refresh_from_db()
    assert (brand.timezone, brand.name) != ("Europe/Atlantis", "New")
    assert announced == []


def test_a_brand_with_spend_cannot_be_deleted() -> None:
    event = SpendEventFactory.create()
    brand_id = event.brand_id
    with pytest.raises(services.DeletionRefused, match="recorded spend"):
        services.brand_delete(brand_id=brand_id)
    assert Brand.objects.filter(pk=brand_id).exists()
    assert Campaign.objects.filter(pk=event.campaign_id).exists()


def test_deleting_a_brand_removes_its_budgets_campaigns_and_dayparts() -> None:
    budget = BudgetFactory.create()
    campaign = CampaignFactory.create(brand=budget.brand, budget=budget)
    DaypartFactory.create(campaign=campaign)
    other = CampaignFactory.create()

    services.brand_delete(brand_id=budget.brand_id)

    assert not Budget.objects.filter(pk=budget.pk).exists()
    assert list(Campaign.objects.all()) == [other]
    assert not Daypart.objects.exists()


def test_budget_names_are_unique_within_a_brand_only() -> None:
    existing = BudgetFactory.create(name="Search")
    with pytest.raises(ValidationError) as excinfo:
        services.budget_create(brand=existing.brand, name="Search")
    assert _field_errors(excinfo) == {"name"}
    other = services.budget_create(brand=BrandFactory.create(), name="Search")
    assert other.pk is not None


def test_a_name_taken_in_a_race_is_still_reported_on_the_name() -> None:
    # The unique check in the service ran before the other writer committed:
    # the database constraint is the backstop, reported on the same field.
    existing = BudgetFactory.create(name="Search")
    with pytest.raises(ValidationError) as excinfo:
        services.validated_save(
            Budget(brand=existing.brand, name="Search"),
            constraint_fields=services.BUDGET_CONSTRAINT_FIELDS,
        )
    assert _field_errors(excinfo) == {"name"}
    assert Budget.objects.count() == 1


def test_budget_limits_must_be_positive_or_null() -> None:
    brand = BrandFactory.create()
    with pytest.raises(ValidationError) as excinfo:
        services.budget_create(brand=brand, name="x", daily_limit=Decimal("0"))
    assert _field_errors(excinfo) == {"daily_limit"}
    budget = services.budget_create(brand=brand, name="y", daily_limit=None, monthly_limit=None)
    assert (budget.daily_limit, budget.monthly_limit) == (None, None)


def test_changing_a_budget_limit_announces_its_brand(announced: list[frozenset[int]]) -> None:
    budget = BudgetFactory.create(daily_limit=Decimal("50.00"))
    services.budget_update(budget_id=budget.pk, daily_limit=None)
    assert announced == [frozenset({budget.brand_id})]
    assert Budget.objects.get(pk=budget.pk).daily_limit is None


def test_a_budget_cannot_move_to_another_brand() -> None:
    budget = BudgetFactory.create()
    with pytest.raises(ValidationError) as excinfo:
        services.budget_update(budget_id=budget.pk, brand=BrandFactory.create(), name="moved")
    assert _field_errors(excinfo) == {"brand"}
    assert Budget.objects.get(pk=budget.pk).name == budget.name


def test_a_budget_in_use_by_campaigns_cannot_be_deleted() -> None:
    budget = BudgetFactory.create()
    CampaignFactory.create(brand=budget.brand, budget=budget)
    with pytest.raises(services.DeletionRefused, match="used by campaigns"):
        services.budget_delete(budget_id=budget.pk)
    assert Budget.objects.filter(pk=budget.pk).exists()


def test_an_unused_budget_is_deleted() -> None:
    budget = BudgetFactory.create()
    services.budget_delete(budget_id=budget.pk)
    assert not Budget.objects.exists()
    with pytest.raises(Budget.DoesNotExist):
        services.budget_delete(budget_id=budget.pk)
