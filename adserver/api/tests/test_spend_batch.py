"""POST /api/spend/batch/: up to 10,000 events, all stored or none."""

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from budgets.models import Period
from budgets.tests.factories import BrandFactory
from campaigns.models import Campaign
from campaigns.tests.factories import CampaignFactory
from spend.models import BrandSpend, SpendEvent
from spend.recording.batch import COPY_MIN_EVENTS

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_now")]

NOW = dt.datetime(2026, 3, 10, 15, 0, tzinfo=dt.UTC)


@pytest.fixture
def frozen_now() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


def _events(campaigns: list[Campaign], count: int, prefix: str = "e") -> list[dict[str, Any]]:
    return [
        {
            "campaign": campaigns[i % len(campaigns)].pk,
            "amount": "0.25",
            "event_id": f"{prefix}-{i}",
            "occurred_at": "2026-03-10T14:00:00Z",
        }
        for i in range(count)
    ]


def _post(api: APIClient, events: object) -> Any:
    return api.post("/api/spend/batch/", {"events": events}, format="json")


def test_a_batch_is_stored_whole(api: APIClient) -> None:
    campaigns = CampaignFactory.create_batch(3)
    response = _post(api, _events(campaigns, 30))
    assert response.status_code == 201, response.json()
    assert response.json() == {"created": 30, "duplicates": 0}
    assert SpendEvent.objects.count() == 30
    day = BrandSpend.objects.filter(brand_id=campaigns[0].brand_id, period=Period.DAY).get()
    assert day.amount == Decimal("2.5")


def test_a_replayed_batch_is_all_duplicates(api: APIClient) -> None:
    campaigns = CampaignFactory.create_batch(2)
    _post(api, _events(campaigns, 10))
    again = _post(api, _events(campaigns, 12))
    assert again.json() == {"created": 2, "duplicates": 10}
    assert SpendEvent.objects.count() == 12


def test_one_bad_event_refuses_the_whole_batch_naming_it(api: APIClient) -> None:
    campaigns = CampaignFactory.create_batch(2)
    events = _events(campaigns, 5)
    events[1]["amount"] = "NaN"
    events[3]["occurred_at"] = "2026-03-10T14:00:00"
    del events[4]["campaign"]
    response = _post(api, events)
    assert response.status_code == 400
    errors = response.json()["events"]
    assert {index: set(fields) for index, fields in errors.items()} == {
        "1": {"amount"},
        "3": {"occurred_at"},
        "4": {"campaign"},
    }
    assert errors["1"]["amount"][0].startswith("A decimal number is required: digits")
    assert not SpendEvent.objects.exists()
    assert not BrandSpend.objects.exists()


def test_an_unknown_campaign_refuses_the_whole_batch(api: APIClient) -> None:
    events = _events(CampaignFactory.create_batch(1), 3)
    events[2]["campaign"] = 987654
    response = _post(api, events)
    assert response.status_code == 400
    assert set(response.json()["events"]) == {"2"}
    assert not SpendEvent.objects.exists()


def test_a_conflicting_replay_is_a_409_naming_the_event(api: APIClient) -> None:
    campaigns = CampaignFactory.create_batch(1)
    _post(api, _events(campaigns, 3))
    events = _events(campaigns, 5, prefix="new")
    events[4] = {**_events(campaigns, 3)[1], "amount": "9.99"}  # "e-1" stored with 0.25
    response = _post(api, events)
    assert response.status_code == 409
    assert (response.json()["event_id"], response.json()["index"]) == ("e-1", 4)
    assert response.json()["fields"] == ["amount"]
    assert SpendEvent.objects.count() == 3


def test_an_event_id_repeated_in_a_batch_with_another_payload_is_a_400(api: APIClient) -> None:
    campaigns = CampaignFactory.create_batch(1)
    events = _events(campaigns, 3)
    events[2] = {**events[0], "amount": "1.00"}
    response = _post(api, events)
    assert response.status_code == 400
    assert set(response.json()["events"]["2"]) == {"event_id"}
    assert not SpendEvent.objects.exists()


@pytest.mark.parametrize(
    "body",
    [{}, {"events": []}, {"events": "lots"}, {"events": {"0": {}}}, {"events": None}],
)
def test_the_events_must_be_a_non_empty_list(api: APIClient, body: object) -> None:
    response = api.post("/api/spend/batch/", body, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"events"}


def test_a_batch_holds_at_most_10000_events(api: APIClient, settings: Any) -> None:
    settings.SPEND_BATCH_MAX_EVENTS = 5
    campaigns = CampaignFactory.create_batch(1)
    response = _post(api, _events(campaigns, 6))
    assert response.status_code == 400
    assert response.json() == {"events": ["Send at most 5 events per batch."]}
    assert _post(api, _events(campaigns, 5)).status_code == 201


def test_a_batch_that_reaches_a_cap_pauses_the_brand_at_once(api: APIClient) -> None:
    brand = BrandFactory.create(daily_budget=Decimal("1.00"))
    campaigns = CampaignFactory.create_batch(2, brand=brand)
    response = _post(api, _events(campaigns, 6))  # 1.50 of a 1.00 cap
    assert response.status_code == 201
    assert set(Campaign.objects.values_list("pause_reason", flat=True)) == {"brand_daily_budget"}


@pytest.mark.parametrize(
    ("size", "expected"),
    [(10, 10), (COPY_MIN_EVENTS - 1, 10), (COPY_MIN_EVENTS, 13), (4 * COPY_MIN_EVENTS, 13)],
)
def test_a_batch_runs_the_same_queries_whatever_its_size(
    api: APIClient, size: int, expected: int
) -> None:
    campaigns = CampaignFactory.create_batch(4)
    with CaptureQueriesContext(connection) as queries:
        response = _post(api, _events(campaigns, size))
    assert response.status_code == 201
    # * the token and its user  * savepoint  * the campaigns, locking their brands
    # Fewer than COPY_MIN_EVENTS: * lock the capped rollups  * create the missing ones
    # * lock them again  * the campaigns' states  * insert the events  * upsert the
    # rollups and alerts. From COPY_MIN_EVENTS (COPY, before the locks): * read the
    # capped rollups and the campaigns' states  * check the ledger's keys at once  * COPY
    # the events  * defer the keys again (the test's transaction)  * lock the capped
    # rollups  * create the missing ones  * lock them again  * the campaigns' states
    # * upsert the rollups and alerts.
    # * release the savepoint: nothing per event
    assert len(queries) == expected, [q["sql"][:80] for q in queries]
