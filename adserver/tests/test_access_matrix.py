"""The access matrix: every URL of the dashboard, the API and the admin, tried by
five people on brand A's objects and on brand B's.

The people: nobody logged in; a staff member with every model permission but no
membership; a viewer of A; a manager of A; an agency admin (the
`manage_all_brands` permission, not a superuser). Everyone logged in is staff
with every model permission of the three apps, so the admin's answers come from
the brand rule alone, not from Django's model permissions.

The URLs are read from the URL configuration: a new URL without an expectation
here fails `test_every_url_has_an_expectation`. Every write is tried too; a
refused one must leave the database exactly as it was.
"""

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest
from django.apps import apps
from django.contrib.auth.models import Group, Permission, User
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from knox.models import AuthToken

from budgets import services as budget_services
from budgets.models import Alert, Brand, BrandMembership, Budget, Role, SettingChange
from budgets.tests.factories import AlertFactory, BrandFactory
from campaigns import services as campaign_services
from campaigns.models import Campaign, CampaignStatusChange, Daypart
from spend.models import AlertWebhook, BrandSpend, BudgetSpend, CampaignSpend, SpendEvent
from spend.services import spend_record

pytestmark = pytest.mark.django_db

PEOPLE = ("anonymous", "nobody", "viewer", "manager", "agency")
BRANDS = ("A", "B")

# ----------------------------------------------------------------------- the world


@dataclass
class World:
    people: dict[str, User | None]
    pk: dict[tuple[str, str], int]  # (kind, brand letter) -> primary key
    names: dict[str, list[str]] = field(default_factory=dict)  # brand letter -> its words

    def sees(self, person: str, letter: str) -> bool:
        return person == "agency" or (person in {"viewer", "manager"} and letter == "A")

    def manages(self, person: str, letter: str) -> bool:
        return person == "agency" or (person == "manager" and letter == "A")


def _brand_objects(letter: str, word: str) -> dict[str, int]:
    brand = BrandFactory.create(
        name=f"Brand {word}", daily_budget=Decimal("100.00"), monthly_budget=Decimal("3000.00")
    )
    budget = budget_services.budget_create(brand=brand, name=f"Pool {word}")
    campaign = campaign_services.campaign_create(
        brand=brand, name=f"Campaign {word}", budget=budget
    )
    spare = campaign_services.campaign_create(brand=brand, name=f"Spare {word}")
    daypart = campaign_services.daypart_create(
        campaign=campaign, days=["mon"], start_time=dt.time(0), end_time=dt.time(0)
    )
    # 60% of the daily cap: raises the 50% alert
    event = spend_record(campaign_id=campaign.pk, amount=Decimal("60"), event_id=f"e-{letter}")
    campaign_services.campaign_pause(campaign_id=spare.pk)
    alert = Alert.objects.filter(brand=brand).first() or AlertFactory.create(brand=brand)
    return {
        "brand": brand.pk,
        "budget": budget.pk,
        "campaign": campaign.pk,
        "spare": spare.pk,
        "daypart": daypart.pk,
        "spendevent": event.event.pk,
        "alert": alert.pk,
        "campaignstatuschange": CampaignStatusChange.objects.filter(campaign=spare).first().pk,  # type: ignore[union-attr]
        "settingchange": SettingChange.objects.filter(brand=brand).first().pk,  # type: ignore[union-attr]
        "brandspend": BrandSpend.objects.filter(brand=brand).first().pk,  # type: ignore[union-attr]
        "budgetspend": BudgetSpend.objects.filter(budget=budget).first().pk,  # type: ignore[union-attr]
        "campaignspend": CampaignSpend.objects.filter(campaign=campaign).first().pk,  # type: ignore[union-attr]
        "alertwebhook": AlertWebhook.objects.create(
            brand=brand, url=f"https://hooks.example.com/{letter}"
        ).pk,
    }


@pytest.fixture
def world(db: None) -> World:
    pks: dict[tuple[str, str], int] = {}
    for letter, word in (("A", "Alpha"), ("B", "Bravo")):
        for kind, pk in _brand_objects(letter, word).items():
            pks[(kind, letter)] = pk
    staff = Group.objects.create(name="Matrix staff")
    staff.permissions.set(
        Permission.objects.filter(
            content_type__app_label__in=["budgets", "campaigns", "spend"]
        ).exclude(codename="manage_all_brands")
    )
    people: dict[str, User | None] = {"anonymous": None}
    for name in PEOPLE[1:]:
        user = User.objects.create_user(name, password="correct-horse-battery", is_staff=True)
        user.groups.add(staff)
        people[name] = user
        if name == "agency":
            user.user_permissions.add(Permission.objects.get(codename="manage_all_brands"))
        if name in {"viewer", "manager"}:
            BrandMembership.objects.create(user=user, brand_id=pks[("brand", "A")], role=Role(name))
    for letter, word in (("A", "Alpha"), ("B", "Bravo")):
        pks[("membership", letter)] = BrandMembership.objects.create(
            user=User.objects.create_user(f"client-{word.lower()}"),
            brand_id=pks[("brand", letter)],
            role=Role.VIEWER,
        ).user_id
    return World(
        people=people,
        pk=pks,
        names={
            "A": ["Brand Alpha", "Campaign Alpha", "Pool Alpha"],
            "B": ["Brand Bravo", "Campaign Bravo", "Pool Bravo"],
        },
    )


def snapshot() -> str:
    """Everything a write could change, as one fingerprint."""
    tables: list[Any] = [
        list(Brand.objects.order_by("pk").values_list()),
        list(Budget.objects.order_by("pk").values_list()),
        list(
            Campaign.objects.order_by("pk").values_list(
                "pk",
                "name",
                "budget",
                "enabled",
                "starts_on",
                "ends_on",
                "schedule_hold",
                "budget_hold",
            )
        ),
        list(Daypart.objects.order_by("pk").values_list()),
        list(BrandMembership.objects.order_by("pk").values_list("pk", "user", "brand", "role")),
        list(SpendEvent.objects.order_by("pk").values_list("pk", "amount")),
        list(Alert.objects.order_by("pk").values_list("pk", "acknowledged_at")),
        list(SettingChange.objects.order_by("pk").values_list("pk")),
        list(CampaignStatusChange.objects.order_by("pk").values_list("pk")),
        list(User.objects.order_by("pk").values_list("pk", "username", "is_active", "is_staff")),
    ]
    return hashlib.sha256(repr(tables).encode()).hexdigest()


# ----------------------------------------------------------------------- the probes

Body = Callable[[World, str], dict[str, Any]]


@dataclass(frozen=True)
class Probe:
    """One request: `rule` says who may make it (see `expected`)."""

    method: str
    rule: str
    kind: str | None = None  # the object whose pk goes into the URL
    body: Body | None = None
    url_kwargs: Callable[[World, str], dict[str, Any]] | None = None
    ok: frozenset[int] = frozenset({200})


def _pk(kind: str) -> Callable[[World, str], dict[str, Any]]:
    return lambda world, letter: {"pk": world.pk[(kind, letter)]}


def _campaign_body(world: World, letter: str) -> dict[str, Any]:
    return {"brand": world.pk[("brand", letter)], "name": f"New {letter}"}


def _budget_body(world: World, letter: str) -> dict[str, Any]:
    return {"brand": world.pk[("brand", letter)], "name": f"New pool {letter}"}


def _daypart_body(world: World, letter: str) -> dict[str, Any]:
    return {
        "campaign": world.pk[("campaign", letter)],
        "days": ["tue"],
        "start_time": "08:00",
        "end_time": "09:00",
    }


def _spend_body(world: World, letter: str) -> dict[str, Any]:
    return {"campaign": world.pk[("campaign", letter)], "amount": "1.00"}


def _batch_body(world: World, letter: str) -> dict[str, Any]:
    return {"events": [_spend_body(world, "A"), _spend_body(world, letter)]}


def _member_kwargs(world: World, letter: str) -> dict[str, Any]:
    return {"pk": world.pk[("brand", letter)], "user_id": world.pk[("membership", letter)]}


def _new_member_body(world: World, letter: str) -> dict[str, Any]:
    newcomer = User.objects.get_or_create(username=f"newcomer-{letter}")[0]
    return {"user": newcomer.pk, "role": "viewer"}


def _brand_form(name: str) -> dict[str, Any]:
    return {
        "name": name,
        "timezone": "UTC",
        "currency": "usd",
        "daily_budget": "10",
        "monthly_budget": "100",
    }


def _window_form() -> dict[str, Any]:
    return {"days": ["tue"], "start_time": "22:00", "end_time": "06:00"}


REDIRECT = frozenset({302})
OK_WRITE = frozenset({200, 201, 204, 302, 409})  # 409: refused for its data, not its user
LIST, DETAIL, WRITE = "list", "detail", "write"

DASHBOARD: dict[str, list[Probe]] = {
    "dashboard:overview": [Probe("GET", LIST)],
    "dashboard:brand-list": [Probe("GET", LIST)],
    "dashboard:budget-list": [Probe("GET", LIST)],
    "dashboard:campaign-list": [Probe("GET", LIST)],
    "dashboard:spend-list": [Probe("GET", LIST)],
    "dashboard:alert-list": [Probe("GET", LIST)],
    "dashboard:history-list": [Probe("GET", LIST)],
    "dashboard:brand-detail": [Probe("GET", DETAIL, "brand")],
    "dashboard:budget-detail": [Probe("GET", DETAIL, "budget")],
    "dashboard:campaign-detail": [Probe("GET", DETAIL, "campaign")],
    "dashboard:spend-detail": [Probe("GET", DETAIL, "spendevent")],
    "dashboard:alert-detail": [Probe("GET", DETAIL, "alert")],
    "dashboard:history-detail": [Probe("GET", DETAIL, "campaignstatuschange")],
    "dashboard:campaign-pause": [
        Probe("GET", WRITE, "campaign"),
        Probe("POST", WRITE, "campaign", body=lambda w, x: {"note": "why"}, ok=REDIRECT),
    ],
    "dashboard:campaign-resume": [Probe("POST", WRITE, "spare", ok=REDIRECT)],
    "dashboard:brand-create": [
        Probe("GET", "agency"),
        Probe("POST", "agency", body=lambda w, x: _brand_form(f"New brand {x}"), ok=REDIRECT),
    ],
    "dashboard:brand-edit": [
        Probe("GET", WRITE, "brand"),
        Probe("POST", WRITE, "brand", body=lambda w, x: _brand_form(f"Renamed {x}"), ok=REDIRECT),
    ],
    "dashboard:budget-create": [
        Probe("GET", WRITE, "brand"),
        Probe("POST", WRITE, "brand", body=lambda w, x: {"name": "New pool"}, ok=REDIRECT),
    ],
    "dashboard:budget-edit": [
        Probe("GET", WRITE, "budget"),
        Probe("POST", WRITE, "budget", body=lambda w, x: {"name": "Renamed"}, ok=REDIRECT),
    ],
    "dashboard:campaign-create": [
        Probe("GET", WRITE, "brand"),
        Probe("POST", WRITE, "brand", body=lambda w, x: {"name": "New one"}, ok=REDIRECT),
    ],
    "dashboard:campaign-edit": [
        Probe("GET", WRITE, "campaign"),
        Probe("POST", WRITE, "campaign", body=lambda w, x: {"name": "Renamed"}, ok=REDIRECT),
    ],
    "dashboard:daypart-create": [
        Probe("GET", WRITE, "campaign"),
        Probe("POST", WRITE, "campaign", body=lambda w, x: _window_form(), ok=REDIRECT),
    ],
    "dashboard:daypart-edit": [
        Probe("GET", WRITE, "daypart"),
        Probe("POST", WRITE, "daypart", body=lambda w, x: _window_form(), ok=REDIRECT),
    ],
    "dashboard:daypart-delete": [
        Probe("GET", WRITE, "daypart"),
        Probe("POST", WRITE, "daypart", ok=REDIRECT),
    ],
    "dashboard:alert-acknowledge": [
        Probe("POST", WRITE, body=lambda w, x: {"alert": [w.pk[("alert", x)]]}, ok=REDIRECT),
    ],
}

API: dict[str, list[Probe]] = {
    "spend-list": [
        Probe("GET", LIST),
        Probe("POST", "spend", body=_spend_body, ok=frozenset({201})),
    ],
    "spend-batch": [Probe("POST", "spend", body=_batch_body, ok=frozenset({201}))],
    "spend-detail": [Probe("GET", DETAIL, "spendevent")],
    "brand-list": [
        Probe("GET", LIST),
        Probe(
            "POST",
            "agency",
            body=lambda w, x: {
                "name": f"New {x}",
                "daily_budget": "1.00",
                "monthly_budget": "9.00",
            },
            ok=frozenset({201}),
        ),
    ],
    "brand-detail": [
        Probe("GET", DETAIL, "brand"),
        Probe("PATCH", WRITE, "brand", body=lambda w, x: {"daily_budget": "55.00"}),
        Probe("DELETE", "agency_object", "brand", ok=frozenset({409})),
    ],
    "brand-members": [
        Probe("GET", "agency_object", "brand"),
        Probe("POST", "agency_object", "brand", body=_new_member_body, ok=frozenset({201})),
    ],
    "brand-member": [
        Probe(
            "PATCH",
            "agency_object",
            url_kwargs=_member_kwargs,
            body=lambda w, x: {"role": "manager"},
        ),
        Probe("DELETE", "agency_object", url_kwargs=_member_kwargs, ok=frozenset({204})),
    ],
    "brand-changes": [Probe("GET", DETAIL, "brand")],
    "budget-list": [
        Probe("GET", LIST),
        Probe("POST", "create", body=_budget_body, ok=frozenset({201})),
    ],
    "budget-detail": [
        Probe("GET", DETAIL, "budget"),
        Probe("PATCH", WRITE, "budget", body=lambda w, x: {"daily_limit": "12.00"}),
        Probe("DELETE", WRITE, "budget", ok=frozenset({409})),
    ],
    "campaign-list": [
        Probe("GET", LIST),
        Probe("POST", "create", body=_campaign_body, ok=frozenset({201})),
    ],
    "campaign-detail": [
        Probe("GET", DETAIL, "campaign"),
        Probe("PATCH", WRITE, "campaign", body=lambda w, x: {"name": f"Renamed {x}"}),
        Probe("DELETE", WRITE, "campaign", ok=frozenset({409})),
    ],
    "campaign-pause": [Probe("POST", WRITE, "campaign")],
    "campaign-resume": [Probe("POST", WRITE, "spare")],
    "campaign-archive": [Probe("POST", WRITE, "campaign")],
    "campaign-unarchive": [Probe("POST", WRITE, "campaign")],
    "brand-archive": [Probe("POST", "agency_object", "brand")],
    "brand-unarchive": [Probe("POST", "agency_object", "brand")],
    "daypart-list": [
        Probe("GET", LIST),
        Probe("POST", "create", body=_daypart_body, ok=frozenset({201})),
    ],
    "daypart-detail": [
        Probe("GET", DETAIL, "daypart"),
        Probe("PATCH", WRITE, "daypart", body=lambda w, x: {"end_time": "06:00"}),
        Probe("DELETE", WRITE, "daypart", ok=frozenset({204})),
    ],
    "api-status": [Probe("GET", LIST)],
}

# Not about brands: the same answer for everyone (by person where it differs).
# None: whatever the anonymous visitor gets (the health of this test's services).
SAME_FOR_ALL = dict.fromkeys(PEOPLE)
ELSEWHERE: dict[str, dict[str, int | None]] = {
    "healthz": SAME_FOR_ALL,
    "metrics": SAME_FOR_ALL,  # loopback or a token, whoever is logged in
    "login": dict.fromkeys(PEOPLE, 200),
    # Any login; anonymous: a 401 for the schema, the login page for the docs.
    "api-schema": {**dict.fromkeys(PEOPLE, 200), "anonymous": 401},
    "api-docs": {**dict.fromkeys(PEOPLE, 200), "anonymous": 302},
}
NOT_PROBED = {
    "admin-view-on-site",  # test_admin_view_on_site
    "logout",  # POST only; ends the session the other probes need
    "api-not-found",  # the catch-all: a 404 for every address no other pattern takes
    "admin-login",  # the admin's own login page, throttled: test_throttles, test_lockout
}


def expected(world: World, probe: Probe, person: str, letter: str, *, api: bool) -> set[int]:
    if person == "anonymous":
        return {401, 403} if api else {302}
    sees, manages, agency = (
        world.sees(person, letter),
        world.manages(person, letter),
        person == "agency",
    )
    refused_invisible = {404}
    answers: dict[str, set[int]] = {
        LIST: {200},
        DETAIL: {200} if sees else refused_invisible,
        WRITE: set(probe.ok) if manages else {403} if sees else refused_invisible,
        "agency": set(probe.ok) if agency else {403},
        "agency_object": set(probe.ok) if agency else {403} if sees else refused_invisible,
        # A brand one may not see is an unknown choice: the same 400 as a wrong id.
        "create": set(probe.ok) if manages else {403} if sees else {400},
        "spend": set(probe.ok) if manages else {403},
    }
    return answers[probe.rule]


def _client(world: World, person: str, *, api: bool) -> Client:
    client = Client()
    user = world.people[person]
    if user is None:
        return client
    if api:
        _token, key = AuthToken.objects.create(user=user)
        return Client(HTTP_AUTHORIZATION=f"Token {key}")
    client.force_login(user)
    return client


def _send(client: Client, probe: Probe, url: str, body: dict[str, Any] | None, *, api: bool) -> Any:
    method = getattr(client, probe.method.lower())
    if probe.method == "GET":
        return method(url)
    if api:
        return method(url, json.dumps(body or {}), content_type="application/json")
    return method(url, body or {})


def _visible_words(world: World, person: str) -> tuple[list[str], list[str]]:
    """The names a person's pages must show, and those they must never show."""
    shown = [
        word for letter in BRANDS if world.sees(person, letter) for word in world.names[letter]
    ]
    hidden = [
        word for letter in BRANDS if not world.sees(person, letter) for word in world.names[letter]
    ]
    return shown, hidden


API_LIST_KINDS = {
    "spend-list": ("spendevent",),
    "brand-list": ("brand",),
    "budget-list": ("budget",),
    "campaign-list": ("campaign", "spare"),
    "daypart-list": ("daypart",),
}


def _check_list_content(world: World, name: str, person: str, response: Any, *, api: bool) -> None:
    if person == "anonymous":
        return
    if not api:
        _shown, hidden = _visible_words(world, person)
        page = response.content.decode()
        assert not [word for word in hidden if word in page], (
            f"{name} shows what {person} may not see"
        )
        return
    data = response.json()
    if name == "api-status":
        assert data["total_brands"] == sum(world.sees(person, letter) for letter in BRANDS)
        return
    if name not in API_LIST_KINDS:
        return
    allowed = {
        world.pk[(kind, letter)]
        for kind in API_LIST_KINDS[name]
        for letter in BRANDS
        if world.sees(person, letter)
    }
    listed = {row["id"] for row in data["results"]}
    assert listed - allowed == set(), f"{name} lists for {person} what they may not see"
    assert allowed - listed == set(), f"{name} leaves out for {person} what they may see"


def _cases(table: dict[str, list[Probe]], *, api: bool) -> list[Any]:
    return [
        pytest.param(name, index, api, id=f"{name}-{probe.method}")
        for name, probes in table.items()
        for index, probe in enumerate(probes)
    ]


@contextmanager
def rolled_back() -> Iterator[None]:
    """Each person starts from the same world: what a permitted write did is undone."""
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


@pytest.mark.parametrize(
    ("name", "index", "api"), _cases(DASHBOARD, api=False) + _cases(API, api=True)
)
def test_dashboard_and_api(world: World, name: str, index: int, api: bool) -> None:
    probe = (API if api else DASHBOARD)[name][index]
    for person in PEOPLE:
        with rolled_back():
            _try_probe(world, name, probe, person, api=api)


def _try_probe(world: World, name: str, probe: Probe, person: str, *, api: bool) -> None:
    client = _client(world, person, api=api)
    for letter in BRANDS if (probe.kind or probe.url_kwargs or probe.body) else ("-",):
        kwargs = (
            probe.url_kwargs(world, letter)
            if probe.url_kwargs
            else _pk(probe.kind)(world, letter)
            if probe.kind
            else {}
        )
        url = reverse(name, kwargs=kwargs)
        body = probe.body(world, letter) if probe.body else None
        before = snapshot()
        response = _send(client, probe, url, body, api=api)
        want = expected(world, probe, person, letter, api=api)
        assert response.status_code in want, (
            f"{probe.method} {url} as {person} ({letter}): {response.status_code}, "
            f"expected {sorted(want)}: {response.content[:300]!r}"
        )
        if probe.method != "GET" and response.status_code not in probe.ok:
            assert snapshot() == before, f"refused {probe.method} {url} as {person} changed data"
        if probe.rule == LIST:
            _check_list_content(world, name, person, response, api=api)


@pytest.mark.parametrize("name", sorted(ELSEWHERE))
def test_pages_about_no_brand(world: World, name: str) -> None:
    answers = {
        person: _client(world, person, api=False).get(reverse(name)).status_code
        for person in PEOPLE
    }
    for person in PEOPLE:
        want = ELSEWHERE[name][person]
        assert answers[person] == (answers["anonymous"] if want is None else want), (name, person)


# ----------------------------------------------------------------------- completeness


def _route_names(patterns: list[Any], namespace: str = "") -> Iterator[str]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = namespace
            if pattern.namespace:
                inner = f"{namespace}{pattern.namespace}:"
            yield from _route_names(pattern.url_patterns, inner)
        elif isinstance(pattern, URLPattern):
            yield f"{namespace}{pattern.name}"


def test_every_url_has_an_expectation() -> None:
    names = {
        name for name in _route_names(get_resolver().url_patterns) if not name.startswith("admin:")
    }
    known = set(DASHBOARD) | set(API) | set(ELSEWHERE) | NOT_PROBED
    assert names - known == set(), "a URL without an expected answer for each person"
    stale = {name for name in known - names if not name.startswith("admin:")}
    assert stale == set(), "an expectation for a URL that no longer exists"


# ----------------------------------------------------------------------- the admin
#
# The admin shows a person the brands they MANAGE (a viewer reads in the
# dashboard). Another brand's object is the admin's "doesn't exist" redirect to
# its index, never a 403, so its existence is not revealed.

ADMIN_KINDS = {
    "budgets.brand": "brand",
    "budgets.budget": "budget",
    "budgets.alert": "alert",
    "budgets.settingchange": "settingchange",
    "campaigns.campaign": "campaign",
    "campaigns.campaignstatuschange": "campaignstatuschange",
    "spend.spendevent": "spendevent",
    "spend.brandspend": "brandspend",
    "spend.budgetspend": "budgetspend",
    "spend.campaignspend": "campaignspend",
    "spend.alertwebhook": "alertwebhook",
}
# Rows that no one adds or deletes in the admin: money, history and the trail.
READ_ONLY = {
    "budgets.settingchange",
    "campaigns.campaignstatuschange",
    "spend.spendevent",
    "spend.brandspend",
    "spend.budgetspend",
    "spend.campaignspend",
}
AGENCY_ADDS_AND_DELETES = {"budgets.brand"}
NO_ADD = READ_ONLY | {"budgets.alert"}
NO_DELETE = READ_ONLY | {"budgets.alert"}
# Their objects in the world have spend: the delete page sends the person back
# to the object's page with "archive it instead".
ARCHIVED_INSTEAD = {"budgets.brand", "campaigns.campaign"}
ADMIN_VIEWS = ("changelist", "add", "history", "delete", "change")
HIDDEN, LOGIN, FORBIDDEN, OK = "hidden", "login", 403, 200
ARCHIVE_INSTEAD = "archive instead"


def _admin_models() -> dict[str, str]:
    """Each admin URL name of a model, with the model's label: `budgets_budget_change` ..."""
    found = {}
    for model in apps.get_models():
        for view in ADMIN_VIEWS:
            found[f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}"] = (
                model._meta.label_lower
            )
    return found


def admin_expected(label: str, view: str, person: str, letter: str, world: World) -> Any:
    if person == "anonymous":
        return LOGIN
    if label not in ADMIN_KINDS:
        return FORBIDDEN  # users, groups, tokens, the scheduler: no one here has their permissions
    manages = world.manages(person, letter)
    if view == "changelist":
        return OK
    if view == "add":
        if label in NO_ADD or (label in AGENCY_ADDS_AND_DELETES and person != "agency"):
            return FORBIDDEN
        return OK
    if view == "delete" and (
        label in NO_DELETE or (label in AGENCY_ADDS_AND_DELETES and person != "agency")
    ):
        return FORBIDDEN  # asked before the object is looked up: the same for every object
    if view == "delete" and label in ARCHIVED_INSTEAD and manages:
        return ARCHIVE_INSTEAD
    return OK if manages else HIDDEN


def _admin_cases() -> list[Any]:
    return [
        pytest.param(name, label, id=name)
        for name, label in sorted(_admin_models().items())
        if _route_exists(name)
    ]


def _route_exists(name: str) -> bool:
    return name in set(_route_names(get_resolver().url_patterns))


def _check_answer(response: Any, want: Any, what: str) -> None:
    if want == LOGIN:
        assert response.status_code == 302, what
        assert response["Location"].startswith(reverse("admin:login")), what
    elif want == HIDDEN:
        assert response.status_code == 302, what
        assert response["Location"] == reverse("admin:index"), what
    elif want == ARCHIVE_INSTEAD:
        assert response.status_code == 302, what
        assert response["Location"].endswith("/change/"), what
    else:
        assert response.status_code == want, f"{what}: {response.status_code}"


@pytest.mark.parametrize(("name", "label"), _admin_cases())
def test_admin_pages(world: World, name: str, label: str) -> None:
    for person in PEOPLE:
        _try_admin_page(world, name, label, person)


def _try_admin_page(world: World, name: str, label: str, person: str) -> None:
    client = _client(world, person, api=False)
    view = name.rsplit("_", 1)[1]
    kind = ADMIN_KINDS.get(label)
    for letter in BRANDS:
        if view in {"changelist", "add"} or kind is None:
            url = reverse(name) if view in {"changelist", "add"} else None
            if url is None:
                model = apps.get_model(label)
                first = model._default_manager.order_by("pk").first()
                if first is None:
                    continue
                url = reverse(name, args=[first.pk])
        else:
            url = reverse(name, args=[world.pk[(kind, letter)]])
        response = client.get(url)
        _check_answer(
            response, admin_expected(label, view, person, letter, world), f"{url} as {person}"
        )
        if view == "changelist" and response.status_code == 200:
            hidden = [
                word
                for other in BRANDS
                if not world.manages(person, other)
                for word in world.names[other]
            ]
            page = response.content.decode()
            assert not [word for word in hidden if word in page], (
                f"{url} as {person} shows {hidden}"
            )


def _budget_form(world: World, letter: str) -> dict[str, Any]:
    return {"name": f"Pool renamed {letter}", "daily_limit": "7.00", "monthly_limit": ""}


def test_admin_writes(world: World) -> None:
    """Change, delete and the pause action: refused ones change nothing."""
    for person in PEOPLE:
        with rolled_back():
            _try_admin_writes(world, person)


def _try_admin_writes(world: World, person: str) -> None:
    client = _client(world, person, api=False)
    for letter in BRANDS:
        allowed = world.manages(person, letter)
        attempts = [
            (
                reverse("admin:budgets_budget_change", args=[world.pk[("budget", letter)]]),
                _budget_form(world, letter),
            ),
            (
                reverse("admin:campaigns_campaign_delete", args=[world.pk[("spare", letter)]]),
                {"post": "yes"},
            ),
            (
                reverse("admin:campaigns_campaign_changelist"),
                {"action": "pause_selected", "_selected_action": [world.pk[("campaign", letter)]]},
            ),
        ]
        for url, data in attempts:
            before = snapshot()
            response = client.post(url, data)
            what = f"POST {url} as {person} ({letter}): {response.status_code}"
            if allowed:
                assert response.status_code == 302, what
                assert snapshot() != before, f"{what} changed nothing"
            else:
                assert response.status_code in {302, 403, 404}, what
                assert snapshot() == before, f"{what} changed data"


def test_admin_view_on_site(world: World) -> None:
    """The admin's "view on site" redirect tells no one whether another brand's row exists."""
    brand_type = ContentType.objects.get_for_model(Brand)
    for person in PEOPLE:
        client = _client(world, person, api=False)
        for letter in BRANDS:
            brand_id = world.pk[("brand", letter)]
            url = reverse("admin:view_on_site", args=[brand_type.pk, brand_id])
            response = client.get(url)
            what = f"{url} as {person} ({letter})"
            if person == "anonymous":
                _check_answer(response, LOGIN, what)
            elif world.manages(person, letter):
                assert response.status_code == 302, what
                assert response["Location"].endswith(f"/brands/{brand_id}/"), what
            else:
                assert response.status_code == 404, what
        unknown = reverse("admin:view_on_site", args=[brand_type.pk, 10**9])
        assert client.get(unknown).status_code in {302, 404}
