"""The API's content negotiation answers as DRF's, whatever the client accepts."""

import pytest
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BaseRenderer, BrowsableAPIRenderer
from rest_framework.request import Request
from rest_framework.test import APIClient, APIRequestFactory

from adserver.api.negotiation import ContentNegotiation
from adserver.api.renderers import JSONRenderer
from campaigns.tests.factories import CampaignFactory

ACCEPTS = [
    None,
    "*/*",
    "",
    "application/json",
    "application/json; indent=4",
    "application/*",
    "application/json, text/html",
    "text/html",
    "text/html;q=0.9, */*;q=0.1",
    "application/xml",
    "*/*; charset=utf-8",
    "nonsense",
]
QUERIES = ["", "format=json", "format=xml", "brand=1"]


def _answer(
    negotiation: DefaultContentNegotiation,
    renderers: list[BaseRenderer],
    accept: str | None,
    query: str,
    suffix: str | None,
) -> tuple[str, str] | str:
    django_request = APIRequestFactory().get(f"/api/brands/?{query}")
    if accept is not None:
        django_request.META["HTTP_ACCEPT"] = accept
    request = Request(django_request)
    try:
        renderer, media_type = negotiation.select_renderer(request, renderers, suffix)
    except Exception as exc:  # noqa: BLE001 - the refusal is part of the answer
        return type(exc).__name__
    return type(renderer).__name__, media_type


@pytest.mark.parametrize("accept", ACCEPTS)
@pytest.mark.parametrize("query", QUERIES)
@pytest.mark.parametrize("suffix", [None, "json", "xml"])
@pytest.mark.parametrize("several", [False, True])
def test_the_renderer_and_media_type_are_drfs(
    accept: str | None, query: str, suffix: str | None, several: bool
) -> None:
    renderers: list[BaseRenderer] = [JSONRenderer()]
    if several:
        renderers.append(BrowsableAPIRenderer())
    ours = _answer(ContentNegotiation(), renderers, accept, query, suffix)
    assert ours == _answer(DefaultContentNegotiation(), renderers, accept, query, suffix)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("accept", "status"), [("*/*", 201), ("application/json", 201), ("text/html", 406)]
)
def test_a_spend_post_is_refused_only_when_json_is_not_accepted(
    api: APIClient, accept: str, status: int
) -> None:
    campaign = CampaignFactory.create()
    event = {"campaign": campaign.pk, "amount": "1"}
    response = api.post("/api/spend/", event, format="json", HTTP_ACCEPT=accept)
    assert response.status_code == status
