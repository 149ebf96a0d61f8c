"""/api/dayparts/: weekly windows with weekday names and HH:MM times."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from campaigns.models import Daypart
from campaigns.tests.factories import CampaignFactory, DaypartFactory

pytestmark = pytest.mark.django_db


def test_create_an_overnight_window(api: APIClient, announced: list[frozenset[int]]) -> None:
    campaign = CampaignFactory.create()
    response = api.post(
        "/api/dayparts/",
        {
            "campaign": campaign.pk,
            "days": ["sat", "fri"],
            "start_time": "22:00",
            "end_time": "02:00",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json() == {
        "id": response.json()["id"],
        "campaign": campaign.pk,
        "days": ["fri", "sat"],
        "start_time": "22:00",
        "end_time": "02:00",
    }
    part = Daypart.objects.get()
    assert (part.days, part.is_overnight) == (16 + 32, True)
    assert announced == [frozenset({campaign.brand_id})]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("days", []),
        ("days", ["funday"]),
        ("days", "mon"),
        ("days", [1]),
        ("start_time", "25:00"),
        ("start_time", "9am"),
        ("end_time", "10:00:00+02:00"),
        ("end_time", None),
        ("campaign", 987654),
    ],
)
def test_create_refuses_a_bad_value_naming_the_field(
    api: APIClient, field: str, value: object
) -> None:
    campaign = CampaignFactory.create()
    data = {"campaign": campaign.pk, "days": ["mon"], "start_time": "09:00", "end_time": "17:00"}
    response = api.post("/api/dayparts/", {**data, field: value}, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {field}
    assert not Daypart.objects.exists()


def test_list_filters_by_campaign(api: APIClient) -> None:
    part = DaypartFactory.create(days=1 + 64)
    DaypartFactory.create()
    response = api.get("/api/dayparts/", {"campaign": part.campaign_id})
    assert [p["days"] for p in response.json()["results"]] == [["mon", "sun"]]


@pytest.mark.parametrize("rows", [2, 30])
def test_list_runs_the_same_queries_whatever_the_page_size(api: APIClient, rows: int) -> None:
    DaypartFactory.create_batch(rows)
    with CaptureQueriesContext(connection) as queries:
        response = api.get("/api/dayparts/")
    assert len(response.json()["results"]) == rows
    # * the token and its user  * count  * the page
    assert len(queries) == 3, [q["sql"] for q in queries]


def test_patch_days_and_times(api: APIClient) -> None:
    part = DaypartFactory.create()
    response = api.patch(
        f"/api/dayparts/{part.pk}/", {"days": ["tue"], "end_time": "23:30"}, format="json"
    )
    assert response.status_code == 200
    assert (response.json()["days"], response.json()["end_time"]) == (["tue"], "23:30")


def test_a_daypart_cannot_move_to_another_campaign(api: APIClient) -> None:
    part = DaypartFactory.create()
    other = CampaignFactory.create()
    response = api.patch(f"/api/dayparts/{part.pk}/", {"campaign": other.pk}, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"campaign"}


def test_delete(api: APIClient, announced: list[frozenset[int]]) -> None:
    part = DaypartFactory.create()
    assert api.delete(f"/api/dayparts/{part.pk}/").status_code == 204
    assert not Daypart.objects.exists()
    assert announced == [frozenset({part.campaign.brand_id})]
