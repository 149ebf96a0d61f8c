"""The spend endpoints refuse an over-large body with a JSON 413 before parsing it."""

import io
import json
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import User
from pytest_django.fixtures import Settings
from rest_framework.request import Request
from rest_framework.test import APIClient, APIRequestFactory

from adserver.api.parsers import JSONParser, PayloadTooLarge, RawNumber, decimals_in
from adserver.api.views import SpendViewSet
from campaigns.tests.factories import CampaignFactory
from spend.models import SpendEvent

pytestmark = pytest.mark.django_db


def _view(action: str) -> SpendViewSet:
    view = SpendViewSet()
    view.action = action
    return view


def _context(action: str, *, content_length: str | None) -> dict[str, Any]:
    request = APIRequestFactory().post("/api/spend/batch/")
    request.META.pop("CONTENT_LENGTH", None)
    if content_length is not None:
        request.META["CONTENT_LENGTH"] = content_length
    return {"view": _view(action), "request": Request(request), "encoding": "utf-8"}


def test_a_single_event_over_the_limit_is_a_413_naming_it(api: APIClient) -> None:
    campaign = CampaignFactory.create()
    body = {"campaign": campaign.pk, "amount": "1", "event_id": "x" * 20_000}
    response = api.post("/api/spend/", body, format="json")
    assert response.status_code == 413
    assert response.json()["detail"] == (
        "The body is larger than 16,384 bytes, the most this endpoint takes."
    )
    assert SpendEvent.objects.count() == 0


def test_a_batch_over_the_limit_is_a_413(api: APIClient, settings: Settings) -> None:
    settings.SPEND_BATCH_MAX_BYTES = 1_000
    campaign = CampaignFactory.create()
    events = [{"campaign": campaign.pk, "amount": "1", "event_id": f"e-{i}"} for i in range(40)]
    response = api.post("/api/spend/batch/", {"events": events}, format="json")
    assert response.status_code == 413
    assert "1,000 bytes" in response.json()["detail"]
    assert SpendEvent.objects.count() == 0
    # Within the limit, the same endpoint records.
    response = api.post("/api/spend/batch/", {"events": events[:5]}, format="json")
    assert response.status_code == 201
    assert SpendEvent.objects.count() == 5


def test_other_endpoints_keep_no_spend_limit(staff_user: User, api: APIClient) -> None:
    response = api.post("/api/brands/", {"name": "x" * 20_000}, format="json")
    assert response.status_code == 400  # read and refused for its name, not its size


def test_the_declared_length_is_refused_before_a_byte_is_read(settings: Settings) -> None:
    settings.SPEND_BATCH_MAX_BYTES = 100
    stream = io.BytesIO(b'{"events": []}')
    with pytest.raises(PayloadTooLarge):
        JSONParser().parse(stream, "application/json", _context("batch", content_length="101"))
    assert stream.tell() == 0


def test_a_body_without_a_length_is_read_only_one_byte_past_the_limit(
    settings: Settings,
) -> None:
    settings.SPEND_BATCH_MAX_BYTES = 100
    stream = io.BytesIO(b"[" + b"1," * 10_000 + b"1]")
    with pytest.raises(PayloadTooLarge):
        JSONParser().parse(stream, "application/json", _context("batch", content_length=None))
    assert stream.tell() == 101


def test_a_batch_is_parsed_without_decimals_until_it_is_counted() -> None:
    body = json.dumps({"events": [{"campaign": 7, "amount": 1.5, "n": [2e1]}]}).encode()
    parsed = JSONParser().parse(
        io.BytesIO(body), "application/json", _context("batch", content_length=str(len(body)))
    )
    event = parsed["events"][0]
    assert type(event["amount"]) is RawNumber
    decimals_in(event)
    assert event == {"campaign": Decimal(7), "amount": Decimal("1.5"), "n": [Decimal("20.0")]}
    assert all(type(value) is not RawNumber for value in (event["campaign"], event["amount"]))


def test_a_batch_over_the_event_count_is_refused_by_count(
    api: APIClient, settings: Settings
) -> None:
    settings.SPEND_BATCH_MAX_EVENTS = 3
    campaign = CampaignFactory.create()
    events = [{"campaign": campaign.pk, "amount": 1} for _ in range(4)]
    response = api.post("/api/spend/batch/", {"events": events}, format="json")
    assert response.status_code == 400
    assert response.json() == {"events": ["Send at most 3 events per batch."]}
    assert SpendEvent.objects.count() == 0


def test_single_events_still_parse_numbers_as_decimals() -> None:
    body = b'{"campaign": 7, "amount": 1.5}'
    parsed = JSONParser().parse(
        io.BytesIO(body), "application/json", _context("create", content_length=str(len(body)))
    )
    assert parsed == {"campaign": Decimal(7), "amount": Decimal("1.5")}
    assert type(parsed["amount"]) is Decimal
