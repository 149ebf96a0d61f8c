import io

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.core.management import call_command
from django.http import HttpRequest
from django.test import Client, override_settings

from budgets.models import Brand, Budget
from budgets.staff import BRAND_MANAGER_PERMISSIONS, BRAND_MANAGERS
from campaigns.models import Campaign

pytestmark = pytest.mark.django_db


def test_seed_demo_is_idempotent() -> None:
    call_command("seed_demo")
    counts = (Brand.objects.count(), Budget.objects.count(), Campaign.objects.count())
    call_command("seed_demo")
    assert (Brand.objects.count(), Budget.objects.count(), Campaign.objects.count()) == counts
    assert counts[0] >= 3
    assert Campaign.objects.filter(enabled=False).exists()


@override_settings(DEBUG=True)
def test_dev_admin_creates_a_superuser_once() -> None:
    call_command("dev_admin")
    call_command("dev_admin")
    user = User.objects.get(username="admin")
    assert user.is_superuser
    assert user.check_password("admin")


@override_settings(DEBUG=False)
def test_dev_admin_refuses_without_debug() -> None:
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="DEBUG"):
        call_command("dev_admin")
    assert not User.objects.exists()


@override_settings(DEBUG=True)
def test_dev_admin_prints_the_three_logins_that_work() -> None:
    call_command("seed_demo", "--brands", "2", stdout=io.StringIO())
    out = io.StringIO()
    call_command("dev_admin", "--url", "http://127.0.0.1:8123/", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0] == (
        "Development logins (dashboard http://127.0.0.1:8123/ , admin http://127.0.0.1:8123/admin/):"
    )
    assert [" ".join(line.split()) for line in lines[1:]] == [
        "admin / admin agency admin: every brand (dashboard, API and admin)",
        "manager / manager manager of Kolkata Spice Co, Northwind Coffee "
        "(dashboard, API and admin)",
        "viewer / viewer viewer of Northwind Coffee (dashboard and API)",
    ]
    client = Client()
    for username in ("admin", "manager", "viewer"):
        assert client.login(request=HttpRequest(), username=username, password=username), username


@override_settings(DEBUG=True)
def test_dev_admin_never_prints_a_changed_password_as_the_default() -> None:
    call_command("seed_demo", "--brands", "2", stdout=io.StringIO())
    call_command("dev_admin", stdout=io.StringIO())
    for username in ("admin", "manager"):
        user = User.objects.get(username=username)
        user.set_password("a much better secret")
        user.save(update_fields=["password"])
    out = io.StringIO()
    call_command("dev_admin", stdout=out)
    lines = [" ".join(line.split()) for line in out.getvalue().splitlines()[1:]]
    assert lines == [
        "admin (password changed since; not shown) agency admin: every brand "
        "(dashboard, API and admin)",
        "manager (password changed since; not shown) manager of Kolkata Spice Co, "
        "Northwind Coffee (dashboard, API and admin)",
        "viewer / viewer viewer of Northwind Coffee (dashboard and API)",
    ]
    # Nor did printing it reset it.
    assert User.objects.get(username="admin").check_password("a much better secret")


@override_settings(DEBUG=True)
def test_dev_admin_says_when_the_demo_logins_are_not_made() -> None:
    out = io.StringIO()
    call_command("dev_admin", stdout=out)
    assert "manager              not made yet: run `make seed`" in out.getvalue()
    assert "viewer               not made yet: run `make seed`" in out.getvalue()


def test_brand_managers_group_has_exactly_its_permissions_again() -> None:
    call_command("brand_managers_group", stdout=io.StringIO())
    group = Group.objects.get(name=BRAND_MANAGERS)
    names = {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.all()}
    assert names == set(BRAND_MANAGER_PERMISSIONS)
    assert "budgets.manage_all_brands" not in names
    assert not {"budgets.add_brand", "budgets.delete_brand"} & names
    group.permissions.clear()
    group.permissions.add(Permission.objects.get(codename="manage_all_brands"))
    call_command("brand_managers_group", stdout=io.StringIO())
    assert group.permissions.count() == len(BRAND_MANAGER_PERMISSIONS)
    assert not group.permissions.filter(codename="manage_all_brands").exists()
    assert Group.objects.filter(name=BRAND_MANAGERS).count() == 1
