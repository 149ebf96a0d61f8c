from decimal import Decimal

import factory
from django.contrib.auth.models import User
from django.utils import timezone
from factory.django import DjangoModelFactory

from budgets.models import Alert, AlertScope, Brand, BrandMembership, Budget, Period, Role


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


class UserFactory(DjangoModelFactory[User]):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"person{n}")
    password = factory.django.Password("correct-horse-battery")


class BrandMembershipFactory(DjangoModelFactory[BrandMembership]):
    class Meta:
        model = BrandMembership

    user = factory.SubFactory(UserFactory)
    brand = factory.SubFactory(BrandFactory)
    role = Role.VIEWER
