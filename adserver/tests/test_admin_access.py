"""The brand rule in the admin: a staff manager of brand A never sees or changes brand B.

Model permissions still open the pages (is_staff, view/change/...); the
brand rule narrows on top of them. Each refusal is checked to change nothing.
"""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission, User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from budgets import services as budget_services
from budgets.models import Alert, Brand, BrandMembership, Budget, Role, SettingChange
from budgets.staff import brand_managers_group
from budgets.tests.factories import AlertFactory, BudgetFactory
from campaigns.models import Campaign, CampaignStatusChange, Daypart
from campaigns.tests.factories import CampaignFactory, CampaignStatusChangeFactory, DaypartFactory
from spend.models import BrandSpend, BudgetSpend, CampaignSpend, SpendEvent
from spend.tests.factories import (
    BrandSpendFactory,
    BudgetSpendFactory,
    CampaignSpendFactory,
    SpendEventFactory,
)

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery"
NOT_FOUND_REDIRECT = "/admin/"  # the admin's "… doesn't exist. Perhaps it was deleted?"


@dataclass
class BrandRows:
    """One of every admin-listed object under a brand."""

    brand: Brand
    budget: Budget
    campaign: Campaign
    daypart: Daypart
    alert: Alert
    status_change: CampaignStatusChange
    event: SpendEvent
    brand_spend: BrandSpend
    budget_spend: BudgetSpend
    campaign_spend: CampaignSpend
    setting_change: SettingChange


def _brand_rows(name: str) -> BrandRows:
    brand = budget_services.brand_create(
        name=name, daily_budget=Decimal("100.00"), monthly_budget=Decimal("3000.00")
    )
    budget = BudgetFactory.create(brand=brand, name=f"{name} budget")
    campaign = CampaignFactory.create(brand=brand, budget=budget, name=f"{name} campaign")
    return BrandRows(
        brand=brand,
        budget=budget,
        campaign=campaign,
        daypart=DaypartFactory.create(campaign=campaign),
        alert=AlertFactory.create(brand=brand),
        status_change=CampaignStatusChangeFactory.create(campaign=campaign),
        event=SpendEventFactory.create(campaign=campaign),
        brand_spend=BrandSpendFactory.create(brand=brand),
        budget_spend=BudgetSpendFactory.create(budget=budget),
        campaign_spend=CampaignSpendFactory.create(campaign=campaign),
        setting_change=SettingChange.objects.filter(brand=brand).earliest("id"),
    )


@pytest.fixture
def brand_a() -> BrandRows:
    return _brand_rows("Alpha")


@pytest.fixture
def brand_b() -> BrandRows:
    return _brand_rows("Bravo")


def _staff(username: str, *perms: str) -> User:
    user = User.objects.create_user(username, password=PASSWORD, is_staff=True)
    for name in perms:
        app_label, codename = name.split(".")
        user.user_permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )
    return user


def _client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def manager_a(brand_a: BrandRows) -> User:
    """Staff, in the Brand managers group, manager of brand A only."""
    user = _staff("manager-a")
    user.groups.add(brand_managers_group())
    BrandMembership.objects.create(user=user, brand=brand_a.brand, role=Role.MANAGER)
    return user


@pytest.fixture
def manager_client(manager_a: User) -> Client:
    return _client_for(manager_a)


VIEW_PERMS = (
    "campaigns.view_campaign",
    "budgets.view_brand",
    "budgets.view_budget",
)


@pytest.fixture
def view_only_client(brand_a: BrandRows) -> Client:
    """Staff with only view permissions, though a manager of brand A."""
    user = _staff("viewer-staff", *VIEW_PERMS)
    BrandMembership.objects.create(user=user, brand=brand_a.brand, role=Role.MANAGER)
    return _client_for(user)


# url of the changelist, and the row of each brand it lists
LISTS: list[tuple[str, Callable[[BrandRows], object]]] = [
    ("budgets/brand", lambda rows: rows.brand),
    ("budgets/budget", lambda rows: rows.budget),
    ("budgets/alert", lambda rows: rows.alert),
    ("budgets/settingchange", lambda rows: rows.setting_change),
    ("campaigns/campaign", lambda rows: rows.campaign),
    ("campaigns/campaignstatuschange", lambda rows: rows.status_change),
    ("spend/spendevent", lambda rows: rows.event),
    ("spend/brandspend", lambda rows: rows.brand_spend),
    ("spend/budgetspend", lambda rows: rows.budget_spend),
    ("spend/campaignspend", lambda rows: rows.campaign_spend),
]


def _brand_of(row: object) -> int:
    if isinstance(row, Brand):
        return row.pk
    for path in ("brand_id", "campaign", "budget"):
        value = getattr(row, path, None)
        if isinstance(value, int):
            return value
        if value is not None:
            return int(value.brand_id)
    raise AssertionError(row)


@pytest.mark.parametrize(("model", "row_of"), LISTS, ids=[m for m, _ in LISTS])
def test_a_manager_lists_only_their_brands_rows(
    manager_client: Client,
    brand_a: BrandRows,
    brand_b: BrandRows,
    model: str,
    row_of: Callable[[BrandRows], object],
) -> None:
    response = manager_client.get(f"/admin/{model}/")
    assert response.status_code == 200
    listed = list(response.context["cl"].result_list)
    assert row_of(brand_a) in listed
    assert {_brand_of(row) for row in listed} == {brand_a.brand.pk}


@pytest.mark.parametrize(("model", "row_of"), LISTS, ids=[m for m, _ in LISTS])
def test_an_agency_admin_lists_every_brand(
    brand_a: BrandRows, brand_b: BrandRows, model: str, row_of: Callable[[BrandRows], object]
) -> None:
    agency = _staff("agency", "budgets.manage_all_brands")
    agency.groups.add(brand_managers_group())
    response = _client_for(agency).get(f"/admin/{model}/")
    assert response.status_code == 200
    listed = list(response.context["cl"].result_list)
    assert {row_of(brand_a), row_of(brand_b)} <= set(listed)
    assert {_brand_of(row) for row in listed} == {brand_a.brand.pk, brand_b.brand.pk}


@pytest.mark.parametrize(("model", "row_of"), LISTS, ids=[m for m, _ in LISTS])
def test_another_brands_pages_do_not_exist_for_a_manager(
    manager_client: Client,
    brand_a: BrandRows,
    brand_b: BrandRows,
    model: str,
    row_of: Callable[[BrandRows], object],
) -> None:
    pk = row_of(brand_b).pk  # type: ignore[attr-defined]
    for page in ("change", "history"):
        response = manager_client.get(f"/admin/{model}/{pk}/{page}/")
        assert response.status_code == 302, page
        assert response["Location"] == NOT_FOUND_REDIRECT, page
    # Deleting: the "doesn't exist" redirect, or a 403 where the manager may
    # delete no such row at all; either way the same as for an id that is free.
    theirs = manager_client.get(f"/admin/{model}/{pk}/delete/")
    free = manager_client.get(f"/admin/{model}/999999999/delete/")
    assert theirs.status_code in (302, 403)
    assert (theirs.status_code, theirs.get("Location")) == (free.status_code, free.get("Location"))
    own = row_of(brand_a).pk  # type: ignore[attr-defined]
    assert manager_client.get(f"/admin/{model}/{own}/change/").status_code == 200


def test_a_manager_cannot_change_or_delete_another_brands_objects(
    manager_client: Client, brand_a: BrandRows, brand_b: BrandRows
) -> None:
    budget = brand_b.budget
    response = manager_client.post(
        f"/admin/budgets/budget/{budget.pk}/change/",
        {"name": "Taken over", "daily_limit": "1.00", "monthly_limit": ""},
    )
    assert response.status_code == 302
    assert response["Location"] == NOT_FOUND_REDIRECT
    spare = BudgetFactory.create(brand=brand_b.brand, name="Unused")
    response = manager_client.post(f"/admin/budgets/budget/{spare.pk}/delete/", {"post": "yes"})
    assert response["Location"] == NOT_FOUND_REDIRECT
    response = manager_client.post(
        f"/admin/budgets/brand/{brand_b.brand.pk}/change/",
        {
            "name": "Bravo",
            "timezone": "UTC",
            "currency": "USD",
            "daily_budget": "1.00",
            "monthly_budget": "1.00",
        },
    )
    assert response["Location"] == NOT_FOUND_REDIRECT
    budget.refresh_from_db()
    assert (budget.name, budget.daily_limit) == ("Bravo budget", Decimal("50.00"))
    assert Budget.objects.filter(pk=spare.pk).exists()
    assert Brand.objects.get(pk=brand_b.brand.pk).daily_budget == Decimal("100.00")
    assert not SettingChange.objects.filter(via="admin").exists()


def test_bulk_delete_of_another_brands_rows_deletes_nothing(
    manager_client: Client, brand_a: BrandRows, brand_b: BrandRows
) -> None:
    own = BudgetFactory.create(brand=brand_a.brand, name="Own spare")
    theirs = BudgetFactory.create(brand=brand_b.brand, name="Their spare")
    # Posted as the confirmation page would post it, with B's budget slipped in.
    response = manager_client.post(
        "/admin/budgets/budget/",
        {"action": "delete_selected", "_selected_action": [own.pk, theirs.pk], "post": "yes"},
    )
    assert response.status_code == 404
    assert Budget.objects.filter(pk__in=[own.pk, theirs.pk]).count() == 2


def test_a_manager_deletes_their_own_brands_rows_in_bulk(
    manager_client: Client, brand_a: BrandRows
) -> None:
    spares = BudgetFactory.create_batch(2, brand=brand_a.brand)
    ids = [b.pk for b in spares]
    manager_client.post(
        "/admin/budgets/budget/",
        {"action": "delete_selected", "_selected_action": ids, "post": "yes"},
    )
    assert not Budget.objects.filter(pk__in=ids).exists()


def test_a_manager_changes_their_brands_caps_as_themselves(
    manager_client: Client, manager_a: User, brand_a: BrandRows
) -> None:
    brand = brand_a.brand
    response = manager_client.post(
        f"/admin/budgets/brand/{brand.pk}/change/",
        {
            "name": brand.name,
            "timezone": brand.timezone,
            "currency": brand.currency,
            "daily_budget": "80.00",
            "monthly_budget": str(brand.monthly_budget),
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Brand.objects.get(pk=brand.pk).daily_budget == Decimal("80.00")
    change = SettingChange.objects.get(via="admin")
    assert (change.user, change.field, change.after) == (manager_a, "daily_budget", "80.00")


def test_adding_and_deleting_brands_is_for_agency_admins(
    manager_client: Client, brand_a: BrandRows
) -> None:
    assert manager_client.get("/admin/budgets/brand/add/").status_code == 403
    response = manager_client.post(
        f"/admin/budgets/brand/{brand_a.brand.pk}/delete/", {"post": "yes"}
    )
    assert response.status_code == 403
    assert Brand.objects.filter(pk=brand_a.brand.pk).exists()


def _campaign_form(brand: Brand, budget: Budget | None, name: str = "New one") -> dict[str, object]:
    return {
        "brand": brand.pk,
        "budget": "" if budget is None else budget.pk,
        "name": name,
        "enabled": "on",
        "dayparts-TOTAL_FORMS": "0",
        "dayparts-INITIAL_FORMS": "0",
        "dayparts-MIN_NUM_FORMS": "0",
        "dayparts-MAX_NUM_FORMS": "1000",
    }


def test_a_manager_cannot_pick_another_brands_brand_or_budget(
    manager_client: Client, brand_a: BrandRows, brand_b: BrandRows
) -> None:
    before = Campaign.objects.count()
    response = manager_client.post(
        "/admin/campaigns/campaign/add/", _campaign_form(brand_b.brand, brand_b.budget)
    )
    assert response.status_code == 200  # the form again, with errors
    errors = response.context["adminform"].form.errors
    assert "brand" in errors
    assert "budget" in errors
    assert "Select a valid choice" in str(errors["budget"])
    response = manager_client.post(
        f"/admin/campaigns/campaign/{brand_a.campaign.pk}/change/",
        _campaign_form(brand_a.brand, brand_b.budget, name=brand_a.campaign.name),
    )
    assert "budget" in response.context["adminform"].form.errors
    assert Campaign.objects.count() == before
    assert Campaign.objects.get(pk=brand_a.campaign.pk).budget_id == brand_a.budget.pk

    response = manager_client.post(
        "/admin/campaigns/campaign/add/", _campaign_form(brand_a.brand, brand_a.budget)
    )
    assert response.status_code == 302
    assert Campaign.objects.filter(brand=brand_a.brand, name="New one").exists()


def test_autocompletes_offer_only_the_managers_brands(
    manager_client: Client, brand_a: BrandRows, brand_b: BrandRows
) -> None:
    for field, model in (("brand", "Alpha"), ("budget", "Alpha budget")):
        response = manager_client.get(
            "/admin/autocomplete/",
            {"app_label": "campaigns", "model_name": "campaign", "field_name": field},
        )
        assert response.status_code == 200
        assert [r["text"] for r in response.json()["results"]] == [model]


def _pause(client: Client, *campaigns: Campaign) -> int:
    response = client.post(
        "/admin/campaigns/campaign/",
        {"action": "pause_selected", "_selected_action": [c.pk for c in campaigns]},
    )
    return response.status_code


def test_a_manager_cannot_pause_another_brands_campaigns(
    manager_client: Client, brand_a: BrandRows, brand_b: BrandRows
) -> None:
    assert _pause(manager_client, brand_b.campaign) == 404
    # Mixed with one of their own: refused as a whole.
    assert _pause(manager_client, brand_a.campaign, brand_b.campaign) == 404
    assert set(Campaign.objects.values_list("enabled", flat=True)) == {True}
    assert not CampaignStatusChange.objects.filter(actor="user").exists()

    assert _pause(manager_client, brand_a.campaign) == 302
    assert not Campaign.objects.get(pk=brand_a.campaign.pk).enabled
    assert Campaign.objects.get(pk=brand_b.campaign.pk).enabled


@pytest.mark.parametrize("action", ["pause_selected", "resume_selected", "delete_selected"])
def test_a_view_only_staff_user_cannot_run_the_actions(
    view_only_client: Client, brand_a: BrandRows, action: str
) -> None:
    Campaign.objects.filter(pk=brand_a.campaign.pk).update(enabled=False)
    page = view_only_client.get("/admin/campaigns/campaign/")
    assert page.status_code == 200
    assert action not in page.content.decode()
    response = view_only_client.post(
        "/admin/campaigns/campaign/",
        {"action": action, "_selected_action": [brand_a.campaign.pk], "post": "yes"},
    )
    # No action is this user's to run: the post is the list page again.
    assert response.status_code == 200
    assert response.context["cl"] is not None
    campaign = Campaign.objects.get(pk=brand_a.campaign.pk)
    assert campaign.enabled is False
    assert not CampaignStatusChange.objects.filter(actor="user").exists()


def test_a_view_only_staff_user_cannot_pause_by_unticking_enabled(
    view_only_client: Client, brand_a: BrandRows
) -> None:
    response = view_only_client.post(
        f"/admin/campaigns/campaign/{brand_a.campaign.pk}/change/",
        {**_campaign_form(brand_a.brand, None, name=brand_a.campaign.name), "enabled": ""},
    )
    assert response.status_code == 403
    assert Campaign.objects.get(pk=brand_a.campaign.pk).enabled


def test_the_audit_trail_is_read_only(manager_client: Client, brand_a: BrandRows) -> None:
    change = brand_a.setting_change
    assert manager_client.get("/admin/budgets/settingchange/add/").status_code == 403
    response = manager_client.post(
        f"/admin/budgets/settingchange/{change.pk}/delete/", {"post": "yes"}
    )
    assert response.status_code == 403
    assert SettingChange.objects.filter(pk=change.pk).exists()


def test_memberships_are_edited_by_agency_admins_only(
    manager_client: Client, manager_a: User, brand_a: BrandRows
) -> None:
    page = manager_client.get(f"/admin/budgets/brand/{brand_a.brand.pk}/change/")
    assert "memberships-TOTAL_FORMS" not in page.content.decode()
    # Django's user pages need auth's permissions; the brand rule adds nothing there.
    assert manager_client.get(f"/admin/auth/user/{manager_a.pk}/change/").status_code == 403
    newcomer = User.objects.create_user("newcomer")
    manager_client.post(
        f"/admin/budgets/brand/{brand_a.brand.pk}/change/",
        {
            "name": brand_a.brand.name,
            "timezone": "UTC",
            "currency": "USD",
            "daily_budget": "100.00",
            "monthly_budget": "3000.00",
            "memberships-TOTAL_FORMS": "1",
            "memberships-INITIAL_FORMS": "0",
            "memberships-0-user": newcomer.pk,
            "memberships-0-role": "manager",
        },
    )
    assert not BrandMembership.objects.filter(user=newcomer).exists()


def _membership_forms(
    prefix: str, rows: list[dict[str, object]], initial: int
) -> dict[str, object]:
    data: dict[str, object] = {
        f"{prefix}-TOTAL_FORMS": str(len(rows)),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }
    for index, row in enumerate(rows):
        for key, value in row.items():
            data[f"{prefix}-{index}-{key}"] = value
    return data


def test_an_agency_admin_gives_and_takes_roles_on_the_brand_page(
    staff_client: Client, staff_user: User, brand_a: BrandRows
) -> None:
    brand = brand_a.brand
    person = User.objects.create_user("client-login")
    fields = {
        "name": brand.name,
        "timezone": "UTC",
        "currency": "USD",
        "daily_budget": "100.00",
        "monthly_budget": "3000.00",
    }
    url = f"/admin/budgets/brand/{brand.pk}/change/"
    response = staff_client.post(
        url,
        {**fields, **_membership_forms("memberships", [{"user": person.pk, "role": "viewer"}], 0)},
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    membership = BrandMembership.objects.get(user=person, brand=brand)
    assert membership.role == "viewer"
    given = SettingChange.objects.get(object_type="membership", object_repr="client-login")
    assert (given.via, given.user, given.before, given.after) == (
        "admin",
        staff_user,
        None,
        "viewer",
    )

    row = {"id": membership.pk, "brand": brand.pk, "user": person.pk, "role": "viewer"}
    response = staff_client.post(
        url, {**fields, **_membership_forms("memberships", [{**row, "DELETE": "on"}], 1)}
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    assert not BrandMembership.objects.filter(pk=membership.pk).exists()
    taken = SettingChange.objects.filter(object_type="membership").order_by("-id").first()
    assert taken is not None
    assert (taken.before, taken.after) == ("viewer", None)


def test_an_agency_admin_sets_a_persons_roles_on_the_user_page(
    staff_client: Client, brand_a: BrandRows, brand_b: BrandRows
) -> None:
    person = User.objects.create_user("analyst")
    membership = BrandMembership.objects.create(user=person, brand=brand_a.brand, role="viewer")
    page = staff_client.get(f"/admin/auth/user/{person.pk}/change/")
    form = page.context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None and k != "password"}
    data.update(
        {
            "username": person.username,
            "date_joined_0": "2026-01-01",
            "date_joined_1": "00:00:00",
            "groups": [],
            "user_permissions": [],
        }
    )
    data.pop("last_login", None)
    data.pop("date_joined", None)
    rows = [
        {"id": membership.pk, "user": person.pk, "brand": brand_a.brand.pk, "role": "manager"},
        {"brand": brand_b.brand.pk, "role": "viewer"},
    ]
    response = staff_client.post(
        f"/admin/auth/user/{person.pk}/change/",
        {**data, **_membership_forms("brand_memberships", rows, 1)},
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    roles = dict(BrandMembership.objects.filter(user=person).values_list("brand__name", "role"))
    assert roles == {"Alpha": "manager", "Bravo": "viewer"}
    trail = SettingChange.objects.filter(object_type="membership", via="admin")
    assert {(c.brand_name, c.before, c.after) for c in trail} == {
        ("Alpha", "viewer", "manager"),
        ("Bravo", None, "viewer"),
    }


def test_the_scheduler_pages_are_for_agency_admins_only(staff_client: Client) -> None:
    every = IntervalSchedule.objects.create(every=1, period=IntervalSchedule.MINUTES)
    task = PeriodicTask.objects.create(name="tick", task="x", interval=every)
    staff = _staff(
        "ops",
        "django_celery_beat.view_periodictask",
        "django_celery_beat.change_periodictask",
        "django_celery_beat.delete_periodictask",
    )
    client = _client_for(staff)
    assert client.get("/admin/django_celery_beat/periodictask/").status_code == 403
    response = client.post(
        f"/admin/django_celery_beat/periodictask/{task.pk}/delete/", {"post": "yes"}
    )
    assert response.status_code == 403
    assert PeriodicTask.objects.filter(pk=task.pk).exists()
    assert "django_celery_beat" not in client.get("/admin/").content.decode()
    assert staff_client.get("/admin/django_celery_beat/periodictask/").status_code == 200


def _count(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


@pytest.mark.parametrize("model", [m for m, _ in LISTS])
def test_a_managers_lists_run_a_constant_number_of_queries(
    manager_client: Client, brand_a: BrandRows, model: str
) -> None:
    # The narrowing is a subquery in the list's own queries: adding rows to
    # the manager's brand adds no query (session, user, permissions, the
    # count and the page, whatever the rows).
    url = f"/admin/{model}/"
    few = _count(manager_client, url)
    for index in range(3):
        _brand_rows_more(brand_a.brand, index)
    assert _count(manager_client, url) == few


def _brand_rows_more(brand: Brand, index: int) -> None:
    budget = BudgetFactory.create(brand=brand)
    campaign = CampaignFactory.create(brand=brand, budget=budget)
    DaypartFactory.create(campaign=campaign)
    AlertFactory.create(
        brand=brand, threshold=80, period_start=dt.date(2026, 1, 1) + dt.timedelta(days=index)
    )
    CampaignStatusChangeFactory.create(campaign=campaign)
    SpendEventFactory.create(campaign=campaign)
    BudgetSpendFactory.create(budget=budget)
    CampaignSpendFactory.create(campaign=campaign)
    budget_services.budget_update(budget_id=budget.pk, daily_limit=Decimal("20.00"))
