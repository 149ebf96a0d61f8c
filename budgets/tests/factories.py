from decimal import Decimal

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from budgets.models import Alert, AlertScope, Brand, Budget, Period


class BrandFactory(DjangoModelFactory[Brand]):
    class Meta:
        model = Brand

    name = factory.Sequence(lambda n: f"Brand {n}")
    timezone = "UTC"
    currency = "USD"
    daily_budget = Decimal("100.00")
    monthly_budget = Decimal("3000.00")


class BudgetFactory(DjangoModelFactory[Budget]):
    class Meta:
        model = Budget

    brand = factory.SubFactory(BrandFactory)
    name = factory.Sequence(lambda n: f"Shared budget {n}")
    daily_limit = Decimal("50.00")
    monthly_limit = None


class AlertFactory(DjangoModelFactory[Alert]):
    class Meta:
        model = Alert

    brand = factory.SubFactory(BrandFactory)
    budget = None
    scope = AlertScope.BRAND
    period = Period.DAY
    period_start = factory.LazyFunction(lambda: timezone.now().date())
    threshold = 50
    cap = Decimal("100.00")
    spend = Decimal("50.000000")
    raised_at = factory.LazyFunction(timezone.now)
