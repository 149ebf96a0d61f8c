"""The ledger is append-only and its rollups are one row per period."""

from decimal import Decimal

import pytest
from django.db import IntegrityError, InternalError, connection, transaction
from django.utils import timezone

from budgets.models import Period
from budgets.tests.factories import BrandFactory
from spend.models import BrandSpend, SpendEvent, SpendKind
from spend.tests.factories import (
    BrandSpendFactory,
    BudgetSpendFactory,
    CampaignSpendFactory,
    SpendEventFactory,
)

pytestmark = pytest.mark.django_db


def test_spend_amount_must_be_positive() -> None:
    for amount in (Decimal("0"), Decimal("-1")):
        with pytest.raises(IntegrityError), transaction.atomic():
            SpendEventFactory.create(amount=amount)


def test_adjustments_may_be_negative_but_not_zero() -> None:
    SpendEventFactory.create(kind=SpendKind.ADJUSTMENT, amount=Decimal("-3.500000"))
    with pytest.raises(IntegrityError), transaction.atomic():
        SpendEventFactory.create(kind=SpendKind.ADJUSTMENT, amount=Decimal("0"))


def test_event_id_is_unique() -> None:
    SpendEventFactory.create(event_id="platform-42")
    with pytest.raises(IntegrityError), transaction.atomic():
        SpendEventFactory.create(event_id="platform-42")
    # Events without a client id are all allowed.
    SpendEventFactory.create(event_id=None)
    SpendEventFactory.create(event_id=None)


def test_amounts_keep_six_decimal_places_exactly() -> None:
    event = SpendEventFactory.create(amount=Decimal("0.000001"))
    event.refresh_from_db()
    assert event.amount == Decimal("0.000001")


@pytest.mark.parametrize("operation", ["update", "delete"])
def test_the_ledger_refuses_updates_and_deletes(operation: str) -> None:
    event = SpendEventFactory.create()
    rows = SpendEvent.objects.filter(pk=event.pk)

    def attempt() -> object:
        if operation == "update":
            return rows.update(amount=Decimal("999"))
        return rows.delete()

    with pytest.raises((IntegrityError, InternalError)), transaction.atomic():
        attempt()
    assert SpendEvent.objects.get(pk=event.pk).amount == event.amount


def test_a_brand_with_spend_cannot_be_deleted() -> None:
    event = SpendEventFactory.create()
    with pytest.raises(IntegrityError), transaction.atomic():
        event.brand.delete()


@pytest.mark.parametrize("factory", [BrandSpendFactory, BudgetSpendFactory, CampaignSpendFactory])
def test_one_rollup_row_per_owner_and_period(factory: type[BrandSpendFactory]) -> None:
    first = factory.create(period=Period.DAY)
    owner = {
        name: getattr(first, name)
        for name in ("brand", "budget", "campaign")
        if hasattr(first, name)
    }
    with pytest.raises(IntegrityError), transaction.atomic():
        factory.create(period=Period.DAY, period_start=first.period_start, **owner)
    factory.create(period=Period.MONTH, period_start=first.period_start.replace(day=1), **owner)


def test_rollup_period_must_be_known() -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        BrandSpendFactory.create(period="week", period_start=timezone.now().date())
    assert not BrandSpend.objects.exists()


def _copy_of(event: SpendEvent, **changes: object) -> SpendEvent:
    fields = {f.attname: getattr(event, f.attname) for f in SpendEvent._meta.concrete_fields}
    fields.update(id=None, event_id=None, **changes)
    # The keys are checked at COMMIT, which a test never reaches: check now.
    connection.cursor().execute("SET CONSTRAINTS ALL IMMEDIATE")
    return SpendEvent.objects.create(**fields)


def test_an_event_must_name_its_campaigns_brand() -> None:
    event = SpendEventFactory.create()
    other = BrandFactory.create()
    with pytest.raises(IntegrityError), transaction.atomic():
        _copy_of(event, brand_id=other.pk)
    assert SpendEvent.objects.count() == 1


def test_an_event_must_name_an_existing_campaign() -> None:
    event = SpendEventFactory.create()
    with pytest.raises(IntegrityError), transaction.atomic():
        _copy_of(event, campaign_id=event.campaign_id + 1000)
    assert SpendEvent.objects.count() == 1


def test_the_same_event_with_its_own_brand_is_stored() -> None:
    event = SpendEventFactory.create()
    _copy_of(event)
    assert SpendEvent.objects.count() == 2
