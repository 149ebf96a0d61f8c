from decimal import Decimal

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from budgets.models import Period
from budgets.periods import local_date
from budgets.tests.factories import BrandFactory, BudgetFactory
from campaigns.tests.factories import CampaignFactory
from spend.models import BrandSpend, BudgetSpend, CampaignSpend, SpendEvent, SpendKind


class SpendEventFactory(DjangoModelFactory[SpendEvent]):
    """Writes a ledger row directly, without rollups: for model-level tests.

    Tests of behaviour record spend through spend.services instead.
    """

    class Meta:
        model = SpendEvent

    campaign = factory.SubFactory(CampaignFactory)
    brand = factory.SelfAttribute("campaign.brand")
    budget = factory.SelfAttribute("campaign.budget")
    kind = SpendKind.SPEND
    amount = Decimal("1.250000")
    occurred_at = factory.LazyFunction(timezone.now)
    local_date = factory.LazyAttribute(lambda o: local_date(o.occurred_at, o.brand.timezone))
    source = "test"
    event_id = factory.Sequence(lambda n: f"evt-{n}")


class BrandSpendFactory(DjangoModelFactory[BrandSpend]):
    class Meta:
        model = BrandSpend

    brand = factory.SubFactory(BrandFactory)
    period = Period.DAY
    period_start = factory.LazyFunction(lambda: timezone.now().date())
    amount = Decimal("0")


class BudgetSpendFactory(DjangoModelFactory[BudgetSpend]):
    class Meta:
        model = BudgetSpend

    budget = factory.SubFactory(BudgetFactory)
    period = Period.DAY
    period_start = factory.LazyFunction(lambda: timezone.now().date())
    amount = Decimal("0")


class CampaignSpendFactory(DjangoModelFactory[CampaignSpend]):
    class Meta:
        model = CampaignSpend

    campaign = factory.SubFactory(CampaignFactory)
    period = Period.DAY
    period_start = factory.LazyFunction(lambda: timezone.now().date())
    amount = Decimal("0")
