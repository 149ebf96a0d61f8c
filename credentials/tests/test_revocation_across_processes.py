"""Two web processes: a key revoked (a token deleted) through one is refused by the other
within a second, although each remembers the keys it checked.

Each process is its own gunicorn with one worker, on a PostgreSQL cluster of
this test's own (adserver.tests.fault_services).
"""

import shutil
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import pytest
import requests

from adserver.tests.fault_services import (
    PostgresCluster,
    Process,
    free_port,
    gunicorn,
    manage,
    project_env,
    wait_for,
)

pytestmark = [pytest.mark.faults, pytest.mark.slow]

PASSWORD = "correct-horse-battery"
# How long after the revocation's answer the other process may still accept.
BOUND_SECONDS = 1.0

SETUP = f"""
from decimal import Decimal
from django.contrib.auth.models import User
from knox.models import AuthToken
from budgets.services import brand_create
from campaigns.services import campaign_create
from credentials.services import feed_create
admin = User.objects.create_superuser("ops", "ops@example.com", "{PASSWORD}")
person = User.objects.create_user("analyst")
token, token_key = AuthToken.objects.create(user=admin)
brand = brand_create(name="Acme", timezone="UTC", currency="USD",
                     daily_budget=Decimal("1000000"), monthly_budget=Decimal("10000000"))
campaign = campaign_create(brand=brand, name="Always on")
feed, feed_key = feed_create(name="Connector", brand_ids=[brand.pk])
print(feed.pk, feed_key, token.digest, token_key, campaign.pk)
"""


@dataclass
class Servers:
    a: str
    b: str
    feed_id: str
    feed_key: str
    token_digest: str
    token_key: str
    campaign: int


@pytest.fixture(scope="module")
def servers() -> Iterator[Servers]:
    folder = Path(tempfile.mkdtemp(prefix="adserver-revocation-"))
    folder.chmod(0o755)
    cluster = PostgresCluster(folder)
    cluster.start()
    webs: list[Process] = []
    try:
        cluster.createdb()
        env = project_env(
            DATABASE_URL=cluster.url,
            CELERY_BROKER_URL="redis://127.0.0.1:1/0",  # not needed: nothing is enqueued
            API_TOKEN_CACHE_SECONDS="1",
        )
        manage(env, "migrate", "--no-input")
        manage(env, "collectstatic", "--no-input", "--verbosity", "0")  # the admin's pages
        feed_id, feed_key, digest, token_key, campaign = (
            manage(env, "shell", "-c", SETUP).splitlines()[-1].split()
        )
        bases = []
        for name in ("web-a", "web-b"):
            port = free_port()
            web = gunicorn(env, port, folder, workers=1)
            web.name = name
            web.start()
            webs.append(web)
            bases.append(f"http://127.0.0.1:{port}")
        for base in bases:
            wait_for(partial(_answers, base), f"gunicorn at {base}")
        yield Servers(bases[0], bases[1], feed_id, feed_key, digest, token_key, int(campaign))
    finally:
        for web in webs:
            web.stop()
        cluster.stop("immediate")
        shutil.rmtree(folder, ignore_errors=True)


def _answers(base: str) -> bool:
    try:
        return requests.get(f"{base}/api/status/", timeout=2).status_code == 401
    except requests.RequestException:
        return False


def _admin(base: str) -> requests.Session:
    session = requests.Session()
    session.get(f"{base}/admin/login/", timeout=10)
    form = {
        "username": "ops",
        "password": PASSWORD,
        "csrfmiddlewaretoken": session.cookies["csrftoken"],
        "next": "/admin/",
    }
    logged_in = session.post(f"{base}/admin/login/", data=form, timeout=10)
    assert logged_in.url.endswith("/admin/"), logged_in.text[:500]
    return session


def _post_form(session: requests.Session, url: str, form: dict[str, str]) -> None:
    form = {**form, "csrfmiddlewaretoken": str(session.cookies["csrftoken"])}
    answer = session.post(url, data=form, headers={"Referer": url}, timeout=10)
    assert answer.status_code == 200, answer.text[:500]  # after the redirect


def _refused_within_bound(send: "Sender", revoked_at: float) -> list[tuple[float, int]]:
    """Ask the other process until 1.5 s after the revocation: (seconds after, status)."""
    answers = []
    while (started := time.monotonic() - revoked_at) < BOUND_SECONDS + 0.5:
        answers.append((started, send()))
        time.sleep(0.02)
    return answers


class Sender:
    def __init__(self, url: str, header: str, json: dict[str, Any] | None) -> None:
        self.session = requests.Session()
        self.url, self.header, self.json = url, header, json

    def __call__(self) -> int:
        headers = {"Authorization": self.header}
        if self.json is None:
            return self.session.get(self.url, headers=headers, timeout=10).status_code
        return self.session.post(self.url, json=self.json, headers=headers, timeout=10).status_code


def _check(answers: list[tuple[float, int]], accepted: int) -> None:
    late = [status for started, status in answers if started >= BOUND_SECONDS]
    assert late, answers
    # Refused from then on: 401, and once the address has sent five unknown
    # credentials (a deleted token is one), 429 from the lockout.
    assert set(late) <= {401, 429}, answers
    refused = [status for _started, status in answers if status != accepted]
    assert refused[0] == 401, answers
    assert {status for _started, status in answers} <= {accepted, 401, 429}, answers


def test_a_feed_key_revoked_in_one_process_is_refused_by_the_other_within_a_second(
    servers: Servers,
) -> None:
    admin = _admin(servers.a)
    body = {"campaign": servers.campaign, "amount": "1.00"}
    feed = Sender(f"{servers.b}/api/spend/", f"Api-Key {servers.feed_key}", body)
    assert feed() == 201  # process B has checked the key and remembers it
    _post_form(
        admin,
        f"{servers.a}/admin/credentials/spendfeed/",
        {"action": "revoke", "_selected_action": servers.feed_id},
    )
    revoked_at = time.monotonic()
    _check(_refused_within_bound(feed, revoked_at), accepted=201)


def test_a_token_deleted_in_one_process_is_refused_by_the_other_within_a_second(
    servers: Servers,
) -> None:
    admin = _admin(servers.a)
    person = Sender(f"{servers.b}/api/status/", f"Token {servers.token_key}", None)
    assert person() == 200
    _post_form(
        admin,
        f"{servers.a}/admin/knox/authtoken/{servers.token_digest}/delete/",
        {"post": "yes"},
    )
    revoked_at = time.monotonic()
    _check(_refused_within_bound(person, revoked_at), accepted=200)
