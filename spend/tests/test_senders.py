"""Who sends spend: the source it is booked under, the brands it may post for,
adjustments and closed months only for those who may adjust. Every path of
the recorder: one event alone or in a transaction, a batch by INSERT or COPY."""

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from decimal import Decimal

import pytest
import time_machine
from django.contrib.auth.models import AnonymousUser, Permission, User
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from budgets.tests.factories import BrandFactory
from campaigns.models import Campaign
from campaigns.tests.factories import CampaignFactory
from spend.models import BrandSpend, CampaignSpend, SpendEvent, SpendKind
from spend.recording import batch
from spend.senders import SYSTEM, Sender, sender_of
from spend.services import (
    BatchRecorded,
    SpendBatchInvalid,
    SpendConflict,
    SpendInput,
    SpendInvalid,
    SpendRefused,
    spend_record,
    spend_record_batch,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("frozen_now")]

NOW = dt.datetime(2026, 3, 10, 15, 0, tzinfo=dt.UTC)
ADJUSTMENT = SpendKind.ADJUSTMENT


@pytest.fixture
def frozen_now() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture(params=["alone", "in a transaction"])
def single_path(request: pytest.FixtureRequest) -> Callable[[], AbstractContextManager[object]]:
    """One event as its own statement (no transaction open), or inside a transaction."""
    if request.param == "alone":
        return nullcontext
    return transaction.atomic


@pytest.fixture(params=["insert", "copy"])
def batch_path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Batches of any size take the COPY path (written before the locks) with "copy"."""
    if request.param == "copy":
        monkeypatch.setattr(batch, "COPY_MIN_EVENTS", 1)
    return str(request.param)


def feed(name: str, *brands: int, may_adjust: bool = False) -> Sender:
    return Sender(source=name, may_adjust=may_adjust, brand_ids=frozenset(brands))


def nothing_stored() -> bool:
    return not SpendEvent.objects.exists() and not BrandSpend.objects.filter(amount__gt=0).exists()


# --- source and event_id per source ---------------------------------------------------


def test_the_system_records_under_its_own_source_by_default() -> None:
    campaign = CampaignFactory.create()
    assert spend_record(campaign_id=campaign.pk, amount=Decimal(1)).event.source == "system"
    spend_record_batch([SpendInput(campaign.pk, Decimal(2))])
    assert set(SpendEvent.objects.values_list("source", flat=True)) == {"system"}


def test_the_same_event_id_from_two_sources_is_two_events(
    single_path: Callable[[], AbstractContextManager[object]],
) -> None:
    campaign = CampaignFactory.create()
    google, meta = feed("google", campaign.brand_id), feed("meta", campaign.brand_id)

    with single_path():
        first = spend_record(
            campaign_id=campaign.pk, amount=Decimal(5), event_id="e1", sender=google
        )
        other = spend_record(campaign_id=campaign.pk, amount=Decimal(7), event_id="e1", sender=meta)
        again = spend_record(
            campaign_id=campaign.pk, amount=Decimal(5), event_id="e1", sender=google
        )

    assert (first.created, other.created, again.created) == (True, True, False)
    assert again.event.pk == first.event.pk
    assert sorted(SpendEvent.objects.values_list("source", "event_id", "amount")) == [
        ("google", "e1", Decimal(5)),
        ("meta", "e1", Decimal(7)),
    ]
    assert CampaignSpend.objects.get(period="day").amount == Decimal(12)


def test_a_conflict_is_within_one_source(
    single_path: Callable[[], AbstractContextManager[object]],
) -> None:
    campaign = CampaignFactory.create()
    google, meta = feed("google", campaign.brand_id), feed("meta", campaign.brand_id)
    spend_record(campaign_id=campaign.pk, amount=Decimal(5), event_id="e1", sender=google)

    with pytest.raises(SpendConflict) as conflict, single_path():
        spend_record(campaign_id=campaign.pk, amount=Decimal(6), event_id="e1", sender=google)
    assert conflict.value.fields == ["amount"]
    # The same id with that payload from another sender is that sender's event.
    assert spend_record(
        campaign_id=campaign.pk, amount=Decimal(6), event_id="e1", sender=meta
    ).created


def test_in_a_batch_event_ids_are_per_source(batch_path: str) -> None:
    campaign = CampaignFactory.create()
    google, meta = feed("google", campaign.brand_id), feed("meta", campaign.brand_id)
    spend_record(campaign_id=campaign.pk, amount=Decimal(1), event_id="b1", sender=google)
    events = [SpendInput(campaign.pk, Decimal(1), event_id=f"b{i}") for i in range(1, 4)]

    assert spend_record_batch(events, sender=meta) == BatchRecorded(created=3, duplicates=0)
    assert spend_record_batch(events, sender=google) == BatchRecorded(created=2, duplicates=1)
    assert spend_record_batch(events, sender=meta) == BatchRecorded(created=0, duplicates=3)

    changed = [SpendInput(campaign.pk, Decimal(9), event_id="b2")]
    with pytest.raises(SpendConflict):
        spend_record_batch(changed, sender=google)
    assert SpendEvent.objects.filter(source="meta").count() == 3
    assert SpendEvent.objects.filter(source="google").count() == 3


def test_one_event_of_a_feed_is_still_one_statement() -> None:
    campaign = CampaignFactory.create()
    google = feed("google", campaign.brand_id)
    spend_record(campaign_id=campaign.pk, amount=Decimal(1), sender=google)  # rows, context

    with CaptureQueriesContext(connection) as queries:
        spend_record(campaign_id=campaign.pk, amount=Decimal(1), event_id="x", sender=google)

    # * the statement (the brand check used the campaign's remembered context)
    assert len(queries) == 1


# --- a feed's brands ------------------------------------------------------------------


def test_a_feed_may_not_record_for_another_brands_campaign(
    single_path: Callable[[], AbstractContextManager[object]],
) -> None:
    ours, theirs = CampaignFactory.create(), CampaignFactory.create()
    google = feed("google", ours.brand_id)
    spend_record(campaign_id=theirs.pk, amount=Decimal(1))  # remembered by the fast path

    with pytest.raises(SpendRefused) as refused, single_path():
        spend_record(campaign_id=theirs.pk, amount=Decimal(999), sender=google)

    assert f"campaign {theirs.pk}:" in str(refused.value)
    assert refused.value.campaign_ids == [theirs.pk]
    assert list(SpendEvent.objects.values_list("source", flat=True)) == ["system"]


def test_a_foreign_campaign_seen_before_is_refused_without_a_query() -> None:
    ours, theirs = CampaignFactory.create(), CampaignFactory.create()
    spend_record(campaign_id=theirs.pk, amount=Decimal(1))  # remembered by the fast path

    with CaptureQueriesContext(connection) as queries, pytest.raises(SpendRefused):
        spend_record(campaign_id=theirs.pk, amount=Decimal(1), sender=feed("g", ours.brand_id))

    assert len(queries) == 0


def test_an_unknown_campaign_is_refused_to_a_feed_as_a_foreign_one() -> None:
    ours = CampaignFactory.create()
    with pytest.raises(SpendRefused) as refused:
        spend_record(campaign_id=987654, amount=Decimal(1), sender=feed("google", ours.brand_id))
    assert refused.value.campaign_ids == [987654]
    assert nothing_stored()


def test_a_batch_with_one_foreign_event_is_refused_whole(batch_path: str) -> None:
    ours, theirs = CampaignFactory.create(), CampaignFactory.create()
    events = [SpendInput(ours.pk, Decimal(1))] * 5 + [SpendInput(theirs.pk, Decimal(1))]

    with pytest.raises(SpendRefused) as refused:
        spend_record_batch(events, sender=feed("google", ours.brand_id))

    assert refused.value.campaign_ids == [theirs.pk]
    assert f"campaign {theirs.pk}:" in str(refused.value)
    assert nothing_stored()


def test_a_feed_of_several_brands_posts_for_each(batch_path: str) -> None:
    one, two = CampaignFactory.create(), CampaignFactory.create()
    google = feed("google", one.brand_id, two.brand_id)
    events = [SpendInput(one.pk, Decimal(1)), SpendInput(two.pk, Decimal(2))]
    assert spend_record_batch(events, sender=google).created == 2


# --- adjustments -----------------------------------------------------------------------


def test_an_adjustment_needs_the_right_to_adjust() -> None:
    campaign = CampaignFactory.create()
    spend_record(campaign_id=campaign.pk, amount=Decimal(50))
    refund = {"campaign_id": campaign.pk, "amount": Decimal(-50), "occurred_at": NOW}

    for sender in (feed("google", campaign.brand_id), Sender("user:ann", False, None)):
        with pytest.raises(SpendRefused, match="right to adjust"):
            spend_record(**refund, kind=ADJUSTMENT, sender=sender)  # type: ignore[arg-type]
    assert BrandSpend.objects.get(period="day").amount == Decimal(50)

    allowed = feed("google", campaign.brand_id, may_adjust=True)
    spend_record(**refund, kind=ADJUSTMENT, sender=allowed)  # type: ignore[arg-type]
    assert BrandSpend.objects.get(period="day").amount == Decimal(0)


def test_a_batch_holding_one_adjustment_is_refused_whole(batch_path: str) -> None:
    campaign = CampaignFactory.create()
    spend_record(campaign_id=campaign.pk, amount=Decimal(50))
    events = [SpendInput(campaign.pk, Decimal(1))] * 3 + [
        SpendInput(campaign.pk, Decimal(-10), occurred_at=NOW, kind=ADJUSTMENT)
    ]

    with pytest.raises(SpendRefused) as refused:
        spend_record_batch(events, sender=feed("google", campaign.brand_id))

    assert refused.value.index == 3
    assert SpendEvent.objects.count() == 1
    assert BrandSpend.objects.get(period="day").amount == Decimal(50)


# --- closed months ---------------------------------------------------------------------

# NOW is 2026-03-11 05:00 in Kiritimati (UTC+14): its previous month opened
# on 1 February there, at 2026-01-31 10:00 UTC.
KIRITIMATI_FEBRUARY = dt.datetime(2026, 1, 31, 10, 0, tzinfo=dt.UTC)
JUST_BEFORE = KIRITIMATI_FEBRUARY - dt.timedelta(microseconds=1)


@pytest.fixture
def kiritimati() -> Campaign:
    return CampaignFactory.create(brand=BrandFactory.create(timezone="Pacific/Kiritimati"))


def test_spend_from_before_the_brands_previous_month_is_refused(
    kiritimati: Campaign, single_path: Callable[[], AbstractContextManager[object]]
) -> None:
    google = feed("google", kiritimati.brand_id)
    with pytest.raises(SpendInvalid) as refused, single_path():
        spend_record(
            campaign_id=kiritimati.pk, amount=Decimal(1), occurred_at=JUST_BEFORE, sender=google
        )
    assert list(refused.value.message_dict) == ["occurred_at"]
    assert "2026-02-01" in refused.value.message_dict["occurred_at"][0]
    assert nothing_stored()

    with single_path():
        recorded = spend_record(
            campaign_id=kiritimati.pk,
            amount=Decimal(1),
            occurred_at=KIRITIMATI_FEBRUARY,
            sender=google,
        )
    assert recorded.event.local_date == dt.date(2026, 2, 1)


def test_the_previous_month_is_the_brands_own(kiritimati: Campaign) -> None:
    utc = CampaignFactory.create()  # its previous month opened at 2026-02-01 00:00 UTC
    sender = Sender("user:ann", may_adjust=False, brand_ids=None)
    with pytest.raises(SpendInvalid):
        spend_record(
            campaign_id=utc.pk, amount=Decimal(1), occurred_at=KIRITIMATI_FEBRUARY, sender=sender
        )
    spend_record(
        campaign_id=kiritimati.pk, amount=Decimal(1), occurred_at=KIRITIMATI_FEBRUARY, sender=sender
    )


def test_a_sender_who_may_adjust_records_older_spend(kiritimati: Campaign) -> None:
    year_ago = NOW - dt.timedelta(days=365)
    for sender in (SYSTEM, feed("google", kiritimati.brand_id, may_adjust=True)):
        spend_record(
            campaign_id=kiritimati.pk, amount=Decimal(1), occurred_at=year_ago, sender=sender
        )
    assert SpendEvent.objects.count() == 2


def test_a_batch_names_each_event_from_a_closed_month(
    kiritimati: Campaign, batch_path: str
) -> None:
    events = [SpendInput(kiritimati.pk, Decimal(1))] * 3
    events[1] = SpendInput(kiritimati.pk, Decimal(1), occurred_at=JUST_BEFORE)
    events.append(SpendInput(kiritimati.pk, Decimal(1), occurred_at=JUST_BEFORE))

    with pytest.raises(SpendBatchInvalid) as refused:
        spend_record_batch(events, sender=feed("google", kiritimati.brand_id))

    assert {i: list(fields) for i, fields in refused.value.errors.items()} == {
        1: ["occurred_at"],
        3: ["occurred_at"],
    }
    assert nothing_stored()


# --- the sender of a request ------------------------------------------------------------


@dataclass
class StandInFeed:
    name: str
    may_adjust: bool
    brand_ids: frozenset[int]
    is_spend_feed: bool = True


@dataclass
class StandInRequest:
    user: object
    auth: object


def test_a_feeds_request_is_sent_by_the_feed() -> None:
    auth = StandInFeed("google-ads", True, frozenset({3, 4}))
    assert sender_of(StandInRequest(AnonymousUser(), auth)) == Sender(  # type: ignore[arg-type]
        "google-ads", True, frozenset({3, 4})
    )


def test_a_persons_request_is_sent_by_the_person() -> None:
    ann = User.objects.create_user("ann")
    assert sender_of(StandInRequest(ann, "a token")) == Sender("user:ann", False, None)  # type: ignore[arg-type]

    ann.user_permissions.add(
        Permission.objects.get(codename="add_adjustment", content_type__app_label="spend")
    )
    ann = User.objects.get(pk=ann.pk)  # permissions are cached on the instance
    assert sender_of(StandInRequest(ann, "a token")).may_adjust  # type: ignore[arg-type]
    boss = User.objects.create_superuser("boss")
    assert sender_of(StandInRequest(boss, None)) == Sender("user:boss", True, None)  # type: ignore[arg-type]
