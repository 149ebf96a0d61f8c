"""/api/schema/ (OpenAPI 3) names every path and field of API.md; /api/docs/ works offline."""

import re
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.contrib.staticfiles import finders
from django.core.management import call_command
from django.test import Client
from knox.models import AuthToken

pytestmark = pytest.mark.django_db

CONTRACT_PATHS = {
    "/api/brands/": {"get", "post"},
    "/api/brands/{id}/": {"get", "patch", "delete"},
    "/api/brands/{id}/members/": {"get", "post"},
    "/api/brands/{id}/members/{user_id}/": {"patch", "delete"},
    "/api/brands/{id}/changes/": {"get"},
    "/api/budgets/": {"get", "post"},
    "/api/budgets/{id}/": {"get", "patch", "delete"},
    "/api/campaigns/": {"get", "post"},
    "/api/campaigns/{id}/": {"get", "patch", "delete"},
    "/api/campaigns/{id}/pause/": {"post"},
    "/api/campaigns/{id}/resume/": {"post"},
    "/api/dayparts/": {"get", "post"},
    "/api/dayparts/{id}/": {"get", "patch", "delete"},
    "/api/spend/": {"get"},
    "/api/status/": {"get"},
}
CONTRACT_FIELDS = {
    "Brand": "id name timezone currency daily_budget monthly_budget delivery daily_spend "
    "monthly_spend "
    "daily_remaining monthly_remaining campaigns_count",
    "Budget": "id brand name daily_limit monthly_limit daily_spend monthly_spend",
    "Campaign": "id brand budget name enabled starts_on ends_on status pause_reason daily_spend "
    "monthly_spend",
    "Daypart": "id campaign days start_time end_time",
    "Membership": "user username role",
    "SettingChange": "id changed_at actor user via object_type object_id object_repr field "
    "before after",
    "Status": "total_brands total_campaigns active_campaigns paused_campaigns paused_by_reason "
    "over_daily_budget over_monthly_budget server_time",
}
FILTERS = {
    "/api/budgets/": {"brand"},
    "/api/campaigns/": {"brand", "status", "pause_reason"},
    "/api/dayparts/": {"campaign"},
    "/api/spend/": {"campaign", "brand", "date", "since", "until"},
    "/api/brands/{id}/members/": set(),
    "/api/brands/{id}/changes/": set(),
}


@pytest.fixture(scope="module")
def schema(django_db_setup: None, django_db_blocker: Any) -> dict[str, Any]:
    with django_db_blocker.unblock():
        reader = User.objects.create_user("schema-reader")
        try:
            client = Client()
            client.force_login(reader)
            response = client.get("/api/schema/", {"format": "json"})
        finally:
            reader.delete()
    assert response.status_code == 200
    loaded: dict[str, Any] = response.json()
    return loaded


def test_the_schema_and_the_docs_need_a_login(staff_user: User) -> None:
    refused = Client().get("/api/schema/")
    assert refused.status_code == 401
    assert b"Authentication credentials were not provided." in refused.content
    docs = Client().get("/api/docs/")
    assert docs.status_code == 302
    assert docs["Location"] == "/login/?next=/api/docs/"
    assert Client().get("/api/docs/", {"script": ""}).status_code == 302
    _token, token = AuthToken.objects.create(user=staff_user)
    assert Client().get("/api/schema/", HTTP_AUTHORIZATION=f"Token {token}").status_code == 200


def test_the_schema_is_openapi_3_with_every_contract_path(schema: dict[str, Any]) -> None:
    assert schema["openapi"].startswith("3.")
    for path, methods in CONTRACT_PATHS.items():
        assert methods <= set(schema["paths"][path]), path


def test_every_contract_field_is_in_the_schema(schema: dict[str, Any]) -> None:
    components = schema["components"]["schemas"]
    for name, fields in CONTRACT_FIELDS.items():
        assert set(fields.split()) <= set(components[name]["properties"]), name
    assert components["Campaign"]["properties"]["status"]["readOnly"]


def test_delivery_is_an_enum_of_its_two_modes(schema: dict[str, Any]) -> None:
    components = schema["components"]["schemas"]
    assert components["DeliveryEnum"]["enum"] == ["accelerated", "standard"]
    delivery = components["Brand"]["properties"]["delivery"]
    assert delivery["allOf"] == [{"$ref": "#/components/schemas/DeliveryEnum"}]
    assert delivery["default"] == "accelerated"
    assert "brand_daily_pacing" in components["PauseReasonEnum"]["enum"]


def test_every_contract_filter_is_in_the_schema(schema: dict[str, Any]) -> None:
    for path, names in FILTERS.items():
        parameters = {p["name"] for p in schema["paths"][path]["get"]["parameters"]}
        assert names | {"page", "page_size"} <= parameters, path


def test_errors_are_documented(schema: dict[str, Any]) -> None:
    delete = schema["paths"]["/api/brands/{id}/"]["delete"]["responses"]
    assert {"204", "401", "403", "404", "409"} <= set(delete)
    create = schema["paths"]["/api/brands/"]["post"]["responses"]
    assert {"201", "400", "401", "403"} <= set(create)


@pytest.mark.parametrize(
    ("path", "method", "codes"),
    [
        ("/api/budgets/{id}/", "get", {"200", "401", "404"}),
        ("/api/budgets/{id}/", "patch", {"200", "400", "401", "403", "404"}),
        ("/api/campaigns/{id}/pause/", "post", {"200", "401", "403", "404"}),
        ("/api/budgets/", "post", {"201", "400", "401", "403"}),
        ("/api/spend/", "post", {"201", "200", "400", "401", "403", "409", "413", "429"}),
        ("/api/spend/batch/", "post", {"201", "400", "401", "403", "409", "413", "429"}),
        ("/api/brands/", "get", {"200", "401", "429"}),
        ("/api/status/", "get", {"200", "401", "429"}),
        ("/api/brands/{id}/members/", "get", {"200", "401", "403", "404"}),
        ("/api/brands/{id}/members/", "post", {"200", "201", "400", "401", "403", "404"}),
        ("/api/brands/{id}/members/{user_id}/", "patch", {"200", "400", "401", "403", "404"}),
        ("/api/brands/{id}/members/{user_id}/", "delete", {"204", "401", "403", "404"}),
        ("/api/brands/{id}/changes/", "get", {"200", "400", "401", "404"}),
    ],
)
def test_refusals_are_documented(
    schema: dict[str, Any], path: str, method: str, codes: set[str]
) -> None:
    responses = schema["paths"][path][method]["responses"]
    assert codes <= set(responses)
    if "403" in codes:
        assert "manager role" in responses["403"]["description"]
    if "404" in codes:
        assert "a brand you may not see" in responses["404"]["description"]


def test_the_members_and_changes_lists_are_paginated(schema: dict[str, Any]) -> None:
    for path, component in [
        ("/api/brands/{id}/members/", "PaginatedMembershipList"),
        ("/api/brands/{id}/changes/", "PaginatedSettingChangeList"),
    ]:
        ok = schema["paths"][path]["get"]["responses"]["200"]
        assert ok["content"]["application/json"]["schema"]["$ref"].endswith(component)


def test_the_schema_generates_without_warnings(tmp_path: Any) -> None:
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "s.yaml"))


def test_swagger_ui_is_served_from_our_own_static_files(staff_client: Client) -> None:
    response = staff_client.get("/api/docs/")
    assert response.status_code == 200
    page = response.content.decode()
    assets = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert assets, page[:500]
    script = "/api/docs/?script="
    assert script in assets  # its own script, not inline (Content-Security-Policy)
    for url in set(assets) - {script}:
        assert url.startswith("/static/"), url  # no CDN: the docs work offline
        assert finders.find(url.removeprefix("/static/")), url
    assert "<style" not in page
    assert "<script>" not in page
    init = staff_client.get(script)
    assert init["Content-Type"].startswith("application/javascript")
    assert "/api/schema/" in init.content.decode()


def test_the_source_of_spend_is_the_servers_to_set(schema: dict[str, Any]) -> None:
    components = schema["components"]["schemas"]
    assert "source" not in components["SpendEventRequest"]["properties"]
    source = components["SpendEvent"]["properties"]["source"]
    assert source["readOnly"] is True
    assert "set by the server" in source["description"]
    assert "unique per source" in components["SpendEvent"]["properties"]["event_id"]["description"]
    for path in ("/api/spend/", "/api/spend/batch/"):
        refused = schema["paths"][path]["post"]["responses"]["403"]["description"]
        assert "outside its brands" in refused
        assert "right to adjust" in refused


ID_FIELDS = {"id", "brand", "budget", "campaign", "user", "object_id"}


def test_component_names_do_not_repeat_a_word(schema: dict[str, Any]) -> None:
    names = list(schema["components"]["schemas"])
    assert "SpendEventRequest" in names
    assert "SpendBatchRequest" in names
    assert "MembershipRequest" in names
    repeated = [n for n in names if re.search(r"([A-Z][a-z]+)\1", n)]
    assert repeated == []


def _properties(schema: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (component, name, prop)
        for component, body in schema["components"]["schemas"].items()
        for name, prop in body.get("properties", {}).items()
    ]


def test_ids_have_small_examples(schema: dict[str, Any]) -> None:
    ids = [(c, n, p) for c, n, p in _properties(schema) if n in ID_FIELDS]
    assert len(ids) > 15
    for component, name, prop in ids:
        assert isinstance(prop.get("example"), int), (component, name)
        assert 1 <= prop["example"] <= 10_000, (component, name)
    for operations in schema["paths"].values():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                if parameter["schema"].get("type") == "integer" and parameter["name"] not in {
                    "page",
                    "page_size",
                }:
                    assert 1 <= parameter["schema"]["example"] <= 10_000, parameter


def test_money_examples_are_positive_decimal_strings_their_pattern_accepts(
    schema: dict[str, Any],
) -> None:
    money = [(c, n, p) for c, n, p in _properties(schema) if p.get("format") == "decimal"]
    assert len(money) > 20
    for component, name, prop in money:
        example = prop.get("example")
        assert isinstance(example, str), (component, name)
        assert re.fullmatch(r"\d+\.\d{2}", example), (component, name, example)
        if "pattern" in prop:
            assert re.search(prop["pattern"], example), (component, name, example)
    spend = schema["components"]["schemas"]["SpendEventRequest"]["properties"]["amount"]
    assert float(spend["example"]) > 0


def test_zones_currencies_and_times_are_real(schema: dict[str, Any]) -> None:
    from zoneinfo import available_timezones

    zones = [p["example"] for c, n, p in _properties(schema) if n == "timezone"]
    assert zones
    assert all(zone in available_timezones() and zone != "UTC" for zone in zones)
    for _component, name, prop in _properties(schema):
        if name == "currency":
            assert re.fullmatch(r"[A-Z]{3}", prop["example"])
        if prop.get("format") == "date-time" and name != "archived_at":
            assert re.fullmatch(
                r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)", prop.get("example", "")
            ), name
    daypart = schema["components"]["schemas"]["DaypartRequest"]["properties"]
    assert (daypart["start_time"]["example"], daypart["end_time"]["example"]) == ("22:00", "02:00")
