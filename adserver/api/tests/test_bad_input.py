"""Nothing a client sends produces a 500: every bad input is a 4xx naming what was wrong."""

import json

import pytest
from rest_framework.test import APIClient

from budgets.models import Brand, Budget
from budgets.tests.factories import BudgetFactory
from campaigns.models import Campaign, Daypart
from campaigns.tests.factories import CampaignFactory, DaypartFactory
from spend.models import SpendEvent

pytestmark = pytest.mark.django_db

# Raw JSON text of values that no field accepts, some of them not JSON at all
# in the strict sense (NaN, Infinity) and some absurd in size.
NASTY = [
    "NaN",
    "Infinity",
    "-Infinity",
    "1e999999999",
    "-1e-999999999",
    "1" * 5000,
    "1.5",
    "true",
    "[]",
    "{}",
    '"\\u0000"',
    '"\\ud800"',
    '"' + "x" * 5000 + '"',
    '{"nested": [1, {"deeper": null}]}',
]


def _resources() -> dict[str, tuple[str, dict[str, object]]]:
    """Each write endpoint with a valid body, to spoil one field at a time."""
    budget = BudgetFactory.create()
    campaign = CampaignFactory.create(brand=budget.brand)
    daypart = DaypartFactory.create(campaign=campaign)
    return {
        "brand": (
            "/api/brands/",
            {
                "name": "Acme",
                "timezone": "UTC",
                "currency": "USD",
                "daily_budget": "1",
                "monthly_budget": "2",
            },
        ),
        "budget": (
            "/api/budgets/",
            {"brand": budget.brand_id, "name": "B", "daily_limit": "1", "monthly_limit": "2"},
        ),
        "campaign": (
            "/api/campaigns/",
            {
                "brand": budget.brand_id,
                "budget": budget.pk,
                "name": "C",
                "enabled": True,
                "starts_on": "2026-01-01",
                "ends_on": "2026-02-01",
            },
        ),
        "daypart": (
            f"/api/dayparts/?{daypart.pk}",
            {"campaign": campaign.pk, "days": ["mon"], "start_time": "09:00", "end_time": "17:00"},
        ),
    }


MODELS: dict[str, type[Brand] | type[Budget] | type[Campaign] | type[Daypart]] = {
    "brand": Brand,
    "budget": Budget,
    "campaign": Campaign,
    "daypart": Daypart,
}


def _counts() -> tuple[int, ...]:
    return (
        Brand.objects.count(),
        Budget.objects.count(),
        Campaign.objects.count(),
        Daypart.objects.count(),
    )


@pytest.mark.parametrize("resource", ["brand", "budget", "campaign", "daypart"])
def test_every_field_refuses_every_nasty_value_by_name(api: APIClient, resource: str) -> None:
    url, valid = _resources()[resource]
    url = url.split("?")[0]
    before = _counts()
    for field in valid:
        for i, raw in enumerate(NASTY):
            fresh = {**valid, "name": f"{field} {i}"}  # an accepted row must not block the next
            body = (
                "{"
                + ", ".join(
                    f"{json.dumps(k)}: {raw if k == field else json.dumps(v)}"
                    for k, v in fresh.items()
                )
                + "}"
            )
            response = api.post(url, body, content_type="application/json")
            if response.status_code == 201:  # e.g. a number where a string is fine
                continue
            assert response.status_code == 400, (field, raw, response.content[:300])
            assert field in response.json(), (field, raw, response.json())
    created = _counts()
    # Whatever was accepted was a valid row; nothing half-written.
    assert all(now >= then for now, then in zip(created, before, strict=True))


@pytest.mark.parametrize(
    "body",
    [
        "{",
        '{"name": "x",}',
        "[" * 100_000 + "]" * 100_000,
        "\xff\xfe",
        '{"name": "\\ud83d"',
    ],
)
def test_malformed_json_is_a_400(api: APIClient, body: str) -> None:
    response = api.post(
        "/api/brands/", body.encode("utf-8", "surrogatepass"), content_type="application/json"
    )
    assert response.status_code == 400
    assert "JSON parse error" in response.json()["detail"]


@pytest.mark.parametrize("charset", ["rot13", "zlib", "bz2", "base64", "hex", "uu", "quopri"])
def test_a_charset_that_is_no_text_encoding_is_a_400(api: APIClient, charset: str) -> None:
    campaign = CampaignFactory.create()
    response = api.post(
        "/api/spend/",
        json.dumps({"campaign": campaign.pk, "amount": "1"}),
        content_type=f"application/json; charset={charset}",
    )
    assert response.status_code == 400
    assert response.json() == {
        "detail": f"JSON parse error - charset {charset!r} is not a text encoding."
    }
    assert not SpendEvent.objects.exists()


@pytest.mark.parametrize("charset", ["utf-8", "latin-1", "utf-16"])
def test_a_body_in_a_text_encoding_it_names_is_read(api: APIClient, charset: str) -> None:
    campaign = CampaignFactory.create()
    body = json.dumps({"campaign": campaign.pk, "amount": "1"}).encode(charset)
    response = api.post("/api/spend/", body, content_type=f"application/json; charset={charset}")
    assert response.status_code == 201, response.json()


@pytest.mark.parametrize("body", ["[]", "null", '"brand"', "1", "[{}]"])
def test_a_body_that_is_not_an_object_is_a_400(api: APIClient, body: str) -> None:
    response = api.post("/api/brands/", body, content_type="application/json")
    assert response.status_code == 400
    assert "non_field_errors" in response.json()


def test_form_encoded_bodies_are_refused(api: APIClient) -> None:
    response = api.post("/api/brands/", {"name": "x"})  # multipart
    assert response.status_code == 415


def test_json_numbers_keep_every_digit_of_money(api: APIClient) -> None:
    body = '{"name": "Exact", "daily_budget": 0.30, "monthly_budget": 12345678901.23}'
    response = api.post("/api/brands/", body, content_type="application/json")
    assert response.status_code == 201, response.json()
    assert (response.json()["daily_budget"], response.json()["monthly_budget"]) == (
        "0.30",
        "12345678901.23",
    )


def test_nan_sent_as_a_json_literal_is_refused_by_the_field(api: APIClient) -> None:
    body = '{"name": "x", "daily_budget": NaN, "monthly_budget": Infinity}'
    response = api.post("/api/brands/", body, content_type="application/json")
    assert response.status_code == 400
    assert set(response.json()) == {"daily_budget", "monthly_budget"}


@pytest.mark.parametrize("resource", ["brands", "budgets", "campaigns", "dayparts"])
def test_patch_with_nasty_values_is_refused_and_changes_nothing(
    api: APIClient, resource: str
) -> None:
    resources = _resources()
    key = resource.rstrip("s")
    _url, valid = resources[key]
    model = MODELS[key]
    row = model._default_manager.order_by("-pk").first()
    assert row is not None
    before = {f.attname: getattr(row, f.attname) for f in model._meta.concrete_fields}
    accepted: set[str] = set()
    for field in valid:
        for raw in NASTY:
            response = api.patch(
                f"/api/{resource}/{row.pk}/",
                "{" + f"{json.dumps(field)}: {raw}" + "}",
                content_type="application/json",
            )
            assert response.status_code in {200, 400}, (field, raw, response.content[:300])
            if response.status_code == 200:  # 1.5 is a fine budget
                accepted.add(getattr(model._meta.get_field(field), "attname", field))
            else:
                assert field in response.json(), (field, raw, response.json())
    row.refresh_from_db()
    after = {f.attname: getattr(row, f.attname) for f in model._meta.concrete_fields}
    changed = {k for k in before if before[k] != after[k]} - {"updated_at"}
    assert changed <= accepted, changed


@pytest.mark.parametrize(
    "url", ["/api/", "/api/nothing/", "/api/brands/1.5/", "/api/brands/1/nothing/", "/api/x"]
)
def test_unknown_api_paths_are_a_json_404(api: APIClient, url: str) -> None:
    response = api.get(url)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"


@pytest.mark.parametrize(
    "url", ["/api/brands/", "/api/budgets/", "/api/campaigns/", "/api/dayparts/", "/api/spend/"]
)
def test_options_describes_an_endpoint(api: APIClient, url: str) -> None:
    response = api.options(url)
    assert response.status_code == 200
    assert response.json()["name"]


def test_a_missing_trailing_slash_is_a_404_that_says_so_even_for_a_post(api: APIClient) -> None:
    response = api.post("/api/spend", {"campaign": 1, "amount": "1"}, format="json")
    assert response.status_code == 404
    assert response.json()["detail"].endswith("/api/spend/")
