"""Every answer carries the Content-Security-Policy and the Permissions-Policy."""

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

PATHS = [
    "/",
    "/login/",
    "/brands/",
    "/admin/",
    "/admin/login/",
    "/api/status/",
    "/api/docs/",
    "/api/nowhere/",
    "/healthz",
    "/no-such-page/",
]


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("logged_in", [False, True], ids=["anonymous", "staff"])
def test_every_answer_has_the_policies(staff_client: Client, path: str, logged_in: bool) -> None:
    client = staff_client if logged_in else Client()
    response = client.get(path)
    policy = dict(
        directive.strip().split(" ", 1)
        for directive in response["Content-Security-Policy"].split(";")
    )
    assert policy["default-src"] == "'self'"
    assert policy["script-src"] == "'self'"  # no inline script, no eval
    assert policy["style-src"] == "'self'"
    assert policy["object-src"] == "'none'"
    assert policy["frame-ancestors"] == "'none'"
    assert "camera=()" in response["Permissions-Policy"]
    assert "geolocation=()" in response["Permissions-Policy"]


def test_no_page_of_ours_has_inline_style_or_script(staff_client: Client) -> None:
    for path in ["/", "/login/", "/brands/", "/campaigns/", "/spend/", "/api/docs/"]:
        page = staff_client.get(path).content.decode()
        assert "style=" not in page, path
        assert "<style" not in page, path
        assert "<script>" not in page, path
