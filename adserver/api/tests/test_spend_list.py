"""GET /api/spend/: the ledger, filtered by campaign, brand, local day and time."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from budgets.tests.factories import BrandFactory
from campaigns.tests.factories import CampaignFactory
from spend.tests.factories import SpendEventFactory

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 3, 10, 20, 0, tzinfo=dt.UTC)  # the 11th in Kolkata


def test_an_event_shows_whether_the_campaign_was_serving(api: APIClient) -> None:
    event = SpendEventFactory.create(
        amount=Decimal("1.5"), occurred_at=T0, campaign_was_serving=False, event_id="abc"
    )
    response = api.get("/api/spend/")
    assert response.status_code == 200
    assert response.json()["results"] == [
        {
            "id": event.pk,
            "event_id": "abc",
            "campaign": event.campaign_id,
            "brand": event.brand_id,
            "budget": None,
            "kind": "spend",
            "amount": "1.500000",
            "occurred_at": "2026-03-10T20:00:00Z",
            "local_date": "2026-03-10",
            "recorded_at": response.json()["results"][0]["recorded_at"],
            "source": "test",
            "campaign_was_serving": False,
        }
    ]


def test_filters(api: APIClient) -> None:
    kolkata = CampaignFactory.create(brand=BrandFactory.create(timezone="Asia/Kolkata"))
    utc = CampaignFactory.create()
    late = SpendEventFactory.create(campaign=kolkata, occurred_at=T0)  # local 11 March
    early = SpendEventFactory.create(campaign=kolkata, occurred_at=T0 - dt.timedelta(hours=2))
    other = SpendEventFactory.create(campaign=utc, occurred_at=T0)

    def ids(**params: str | int) -> list[int]:
        response = api.get("/api/spend/", params)
        assert response.status_code == 200, response.json()
        return [e["id"] for e in response.json()["results"]]

    assert ids() == [other.pk, late.pk, early.pk]  # newest first
    assert ids(campaign=kolkata.pk) == [late.pk, early.pk]
    assert ids(brand=utc.brand_id) == [other.pk]
    assert ids(date="2026-03-11") == [late.pk]
    assert ids(date="2026-03-10") == [other.pk, early.pk]
    assert ids(since="2026-03-10T19:00:00Z") == [other.pk, late.pk]
    assert ids(until="2026-03-11T00:00:00+05:30") == [early.pk]
    assert ids(since="2026-03-10T17:00:00Z", until="2026-03-10T20:00:00Z") == [early.pk]
    # Offsets beyond PostgreSQL's +-15:59 are still instants.
    assert ids(until="2026-03-10T00:00:00-18:30") == [early.pk]


@pytest.mark.parametrize(
    ("param", "value"),
    [
        ("date", "2026-02-30"),
        ("since", "yesterday"),
        ("until", "2026-13-01T00:00:00Z"),
        ("since", "0001-01-01T00:00:00+14:00"),
        ("until", "9999-12-31T23:59:59-12:00"),
        ("campaign", "1.5"),
        ("brand", "-1"),
        ("kind", "refund"),
    ],
)
def test_a_bad_filter_is_a_400_naming_it(api: APIClient, param: str, value: str) -> None:
    response = api.get("/api/spend/", {param: value})
    assert response.status_code == 400
    assert set(response.json()) == {param}


@pytest.mark.parametrize("rows", [2, 40])
def test_list_runs_the_same_queries_whatever_the_page_size(api: APIClient, rows: int) -> None:
    SpendEventFactory.create_batch(rows)
    with CaptureQueriesContext(connection) as queries:
        response = api.get("/api/spend/", {"page_size": 100})
    assert len(response.json()["results"]) == rows
    # * the token and its user  * count  * the page
    assert len(queries) == 3, [q["sql"] for q in queries]
