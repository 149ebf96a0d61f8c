"""The API against its own OpenAPI schema, fuzzed by Schemathesis.

For every operation, valid (positive) and invalid (negative) requests
generated from /api/schema/: no server error, every answer documented and
shaped as documented, invalid input refused. Hypothesis is derandomized and
bounded, so the run is the same every time and takes seconds.
"""

import os
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.contrib.auth.models import User
from django.core import signals
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from knox.models import AuthToken
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from adserver.wsgi import application
from budgets.tests.factories import BudgetFactory
from campaigns.tests.factories import CampaignFactory, DaypartFactory
from spend.tests.factories import SpendEventFactory

SCHEMA = schemathesis.openapi.from_wsgi("/api/schema/", application)
OPERATIONS = [result.ok() for result in SCHEMA.get_all_operations()]  # type: ignore[union-attr]
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
]
# Raise it for a deeper local run: API_FUZZ_EXAMPLES=500 pytest -k schemathesis
EXAMPLES_PER_OPERATION = int(os.environ.get("API_FUZZ_EXAMPLES", "25"))
# Negative cases need a query or a body to spoil: an id alone is always
# "valid" once it is in a URL (the contract tests cover abc, -1 and 10**30).
CASES = [(op, GenerationMode.POSITIVE) for op in OPERATIONS] + [
    (op, GenerationMode.NEGATIVE) for op in OPERATIONS if len(op.query) or len(op.body)
]


@pytest.fixture
def connection_kept_across_requests() -> Iterator[None]:
    """Requests go through the raw WSGI handler, which closes the connection
    at each request's end; the test's transaction lives on it. Django's own
    test client does the same."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


def _seed() -> dict[str, int]:
    """A brand with a budget, a campaign with a daypart and spend: ids that resolve."""
    budget = BudgetFactory.create()
    campaign = CampaignFactory.create(brand=budget.brand, budget=budget)
    daypart = DaypartFactory.create(campaign=campaign)
    event = SpendEventFactory.create(campaign=campaign)
    return {
        "brand": budget.brand_id,
        "budget": budget.pk,
        "campaign": campaign.pk,
        "daypart": daypart.pk,
        "spend": event.pk,
    }


def _point_at_seeded_rows(case: Any, seeded: dict[str, int], mode: GenerationMode) -> None:
    """Name existing rows half of the time, or requests would only ever meet 400 and 404.

    Only values the schema allows are replaced, so a negative case stays negative.
    Spend events also get a plausible time and amount: random instants are
    almost never inside [2000, now].
    """
    resource = case.operation.path.split("/")[2].rstrip("s")
    path = case.path_parameters or {}
    if isinstance(path.get("id"), int) and resource in seeded:
        path["id"] = seeded[resource]
    if mode is not GenerationMode.POSITIVE or not isinstance(case.body, dict):
        return
    bodies = case.body.get("events") if resource == "spend" else [case.body]
    for body in bodies if isinstance(bodies, list) else [case.body]:
        for field in ("brand", "budget", "campaign"):
            if field in body:
                body[field] = seeded[field]
        if resource == "spend":
            body.update(occurred_at=None, amount="1.25", kind="spend")


@pytest.mark.django_db
@pytest.mark.slow
@pytest.mark.parametrize(
    ("operation", "mode"), CASES, ids=[f"{op.label} {mode.value}" for op, mode in CASES]
)
@pytest.mark.usefixtures("connection_kept_across_requests")
def test_the_api_keeps_its_schema(operation: Any, mode: GenerationMode, staff_user: User) -> None:
    _token, token = AuthToken.objects.create(user=staff_user)
    seeded = _seed()
    headers = {"Authorization": f"Token {token}"}

    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode), aim=st.booleans())
    def run(case: Any, aim: bool) -> None:
        if aim:
            _point_at_seeded_rows(case, seeded, mode)
        response = case.call(headers=headers)
        case.validate_response(response, checks=CHECKS, headers=headers)

    run()
