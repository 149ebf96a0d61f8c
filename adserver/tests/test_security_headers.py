"""Every answer carries the Content-Security-Policy and the Permissions-Policy."""

from collections.abc import Callable
from typing import Any

import pytest
from csp.constants import NONCE, NONE, SELF
from csp.exceptions import CSPNonceError
from csp.middleware import CSPMiddleware
from django.http import HttpResponse
from django.test import Client, RequestFactory, override_settings

from adserver.middleware import ContentSecurityPolicyMiddleware

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


# The site's middleware sends the policy it built once; django-csp's builds it
# per response. Each case below goes through both and must come out the same.
def _plain(response: HttpResponse) -> None:
    pass


def _updated(response: HttpResponse) -> None:
    response._csp_update = {"img-src": ["https://cdn.example"]}  # type: ignore[attr-defined]


def _replaced_report_only(response: HttpResponse) -> None:
    response._csp_replace_ro = {"default-src": [NONE]}  # type: ignore[attr-defined]


def _exempt(response: HttpResponse) -> None:
    response._csp_exempt = True  # type: ignore[attr-defined]


def _own_header(response: HttpResponse) -> None:
    response["Content-Security-Policy"] = "default-src 'none'"


def _not_found(response: HttpResponse) -> None:
    response.status_code = 404


RESPONSES = [_plain, _updated, _replaced_report_only, _exempt, _own_header, _not_found]
POLICY_SETTINGS = [
    {},
    {
        "CONTENT_SECURITY_POLICY_REPORT_ONLY": {
            "DIRECTIVES": {"default-src": [SELF], "script-src": [SELF, NONCE]},
            "EXCLUDE_URL_PREFIXES": ["/admin/"],
        }
    },
    {
        "CONTENT_SECURITY_POLICY": {
            "DIRECTIVES": {"default-src": [NONE], "img-src": {SELF, "data:"}, "report-uri": "/r/"},
            "EXCLUDE_URL_PREFIXES": ["/api/"],
        },
    },
]
POLICY_HEADERS = ("Content-Security-Policy", "Content-Security-Policy-Report-Only")


def _through(
    middleware_class: type[CSPMiddleware],
    path: str,
    shape: Callable[[HttpResponse], None],
    *,
    nonce: bool,
) -> tuple[dict[str, str], bool]:
    """The policy headers answered, and whether a nonce asked for afterwards is refused."""
    request = RequestFactory().get(path)
    middleware = middleware_class(lambda request: HttpResponse())
    middleware.process_request(request)
    if nonce:
        str(request.csp_nonce)  # type: ignore[attr-defined]  # a template asked for one
    response = HttpResponse()
    shape(response)
    middleware.process_response(request, response)
    given = getattr(request, "_csp_nonce", None) or "no nonce"  # random: compared as a name
    headers = {h: response[h].replace(given, "NONCE") for h in POLICY_HEADERS if h in response}
    try:
        str(request.csp_nonce)  # type: ignore[attr-defined]
    except CSPNonceError:
        return headers, True
    return headers, False


@pytest.mark.parametrize("policy_settings", POLICY_SETTINGS, ids=["site", "report-only", "other"])
@pytest.mark.parametrize("shape", RESPONSES, ids=[f.__name__.strip("_") for f in RESPONSES])
@pytest.mark.parametrize("path", ["/brands/", "/api/spend/", "/admin/"])
@pytest.mark.parametrize("nonce", [False, True], ids=["no-nonce", "nonce"])
@pytest.mark.parametrize("debug", [False, True], ids=["live", "debug"])
def test_the_site_middleware_answers_as_django_csps(
    policy_settings: dict[str, Any],
    shape: Callable[[HttpResponse], None],
    path: str,
    nonce: bool,
    debug: bool,
) -> None:
    with override_settings(DEBUG=debug, **policy_settings):
        ours = _through(ContentSecurityPolicyMiddleware, path, shape, nonce=nonce)
        theirs = _through(CSPMiddleware, path, shape, nonce=nonce)
    assert ours == theirs
    # The site's own policy on the plain answer, so the comparison is not of two empty sets.
    if shape is _plain and not (debug or nonce or policy_settings):
        assert "frame-ancestors 'none'" in ours[0]["Content-Security-Policy"]
        assert ours[1], "a nonce asked for after the header is written is refused"


def test_a_changed_policy_is_sent_at_once(staff_client: Client) -> None:
    before = staff_client.get("/api/status/")["Content-Security-Policy"]
    changed = {"DIRECTIVES": {"default-src": [NONE], "frame-ancestors": [NONE]}}
    with override_settings(CONTENT_SECURITY_POLICY=changed):
        sent = staff_client.get("/api/status/")["Content-Security-Policy"]
    # django-csp orders the directives as a set iterates, which the hash seed decides.
    assert sorted(sent.split("; ")) == ["default-src 'none'", "frame-ancestors 'none'"]
    assert staff_client.get("/api/status/")["Content-Security-Policy"] == before
