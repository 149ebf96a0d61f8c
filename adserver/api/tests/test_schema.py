"""/api/schema/ (OpenAPI 3) names every path and field of API.md; /api/docs/ works offline."""

import re
from typing import Any

import pytest
from django.contrib.staticfiles import finders
from django.core.management import call_command
from django.test import Client

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
    "Brand": "id name timezone currency daily_budget monthly_budget daily_spend monthly_spend "
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
def schema() -> dict[str, Any]:
    response = Client().get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    loaded: dict[str, Any] = response.json()
    return loaded


def test_the_schema_is_openapi_3_with_every_contract_path(schema: dict[str, Any]) -> None:
    assert schema["openapi"].startswith("3.")
    for path, methods in CONTRACT_PATHS.items():
        assert methods <= set(schema["paths"][path]), path


def test_every_contract_field_is_in_the_schema(schema: dict[str, Any]) -> None:
    components = schema["components"]["schemas"]
    for name, fields in CONTRACT_FIELDS.items():
        assert set(fields.split()) <= set(components[name]["properties"]), name
    assert components["Campaign"]["properties"]["status"]["readOnly"]


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
        ("/api/spend/", "post", {"201", "200", "400", "401", "403", "409"}),
        ("/api/spend/batch/", "post", {"201", "400", "401", "403", "409"}),
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


def test_swagger_ui_is_served_from_our_own_static_files() -> None:
    response = Client().get("/api/docs/")
    assert response.status_code == 200
    page = response.content.decode()
    assets = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert assets, page[:500]
    for url in assets:
        assert url.startswith("/static/"), url  # no CDN: the docs work offline
        assert finders.find(url.removeprefix("/static/")), url
    assert "/api/schema/" in page


def test_the_source_of_spend_is_the_servers_to_set(schema: dict[str, Any]) -> None:
    components = schema["components"]["schemas"]
    assert "source" not in components["SpendEventRequestRequest"]["properties"]
    source = components["SpendEvent"]["properties"]["source"]
    assert source["readOnly"] is True
    assert "set by the server" in source["description"]
    assert "unique per source" in components["SpendEvent"]["properties"]["event_id"]["description"]
    for path in ("/api/spend/", "/api/spend/batch/"):
        refused = schema["paths"][path]["post"]["responses"]["403"]["description"]
        assert "outside its brands" in refused
        assert "right to adjust" in refused
