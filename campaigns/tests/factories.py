import datetime as dt

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from budgets.tests.factories import BrandFactory
from campaigns.models import (
    ALL_DAYS_MASK,
    Actor,
    Campaign,
    CampaignStatusChange,
    Daypart,
    PauseReason,
    Status,
)


class CampaignFactory(DjangoModelFactory[Campaign]):
    class Meta:
        model = Campaign

    brand = factory.SubFactory(BrandFactory)
    budget = None
    name = factory.Sequence(lambda n: f"Campaign {n}")
    enabled = True


class DaypartFactory(DjangoModelFactory[Daypart]):
    class Meta:
        model = Daypart

    campaign = factory.SubFactory(CampaignFactory)
    days = ALL_DAYS_MASK
    start_time = dt.time(9, 0)
    end_time = dt.time(17, 0)


class CampaignStatusChangeFactory(DjangoModelFactory[CampaignStatusChange]):
    class Meta:
        model = CampaignStatusChange

    campaign = factory.SubFactory(CampaignFactory)
    changed_at = factory.LazyFunction(timezone.now)
    old_status = Status.ACTIVE
    old_reason = None
    new_status = Status.PAUSED
    new_reason = PauseReason.MANUAL
    actor = Actor.SYSTEM
