"""seed_demo: a realistic, idempotent demo data set, sized on request."""

import io

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.core.management.base import CommandError
from django.http import HttpRequest
from django.test import Client, override_settings

from budgets.models import Brand, BrandMembership, Budget, SettingChange
from budgets.staff import BRAND_MANAGERS
from budgets.tests.factories import BrandFactory
from campaigns.models import Campaign, CampaignStatusChange, Daypart

pytestmark = pytest.mark.django_db


def _counts() -> tuple[int, int, int, int, int]:
    return (
        Brand.objects.count(),
        Budget.objects.count(),
        Campaign.objects.count(),
        Daypart.objects.count(),
        CampaignStatusChange.objects.count(),
    )


def test_default_set_covers_zones_currencies_dayparts_flights_and_a_manual_pause() -> None:
    call_command("seed_demo", stdout=io.StringIO())
    assert len(set(Brand.objects.values_list("timezone", flat=True))) >= 5
    assert len(set(Brand.objects.values_list("currency", flat=True))) >= 5
    assert Budget.objects.filter(daily_limit__isnull=False).exists()
    assert Budget.objects.filter(monthly_limit__isnull=False).exists()
    overnight = [d for d in Daypart.objects.all() if d.is_overnight]
    assert overnight
    reasons = set(Campaign.objects.values_list("pause_reason", flat=True))
    # Flight dates in the past and the future, and a person's pause, whatever the hour.
    assert {"ended", "not_started", "manual"} <= reasons
    manual = CampaignStatusChange.objects.filter(new_reason="manual")
    assert manual.count() == Brand.objects.count()
    # Marked as demo data: simulate_spend may write to them without asking.
    assert not Brand.objects.filter(demo=False).exists()
    # Both ways of spending the day, side by side.
    assert set(Brand.objects.values_list("delivery", flat=True)) == {"accelerated", "standard"}


def test_a_brand_of_the_same_name_made_before_is_not_marked_as_demo() -> None:
    BrandFactory.create(name="Northwind Coffee")
    call_command("seed_demo", "--brands", "2", stdout=io.StringIO())
    assert list(Brand.objects.filter(demo=False).values_list("name", flat=True)) == [
        "Northwind Coffee"
    ]


def test_seeding_twice_changes_nothing() -> None:
    call_command("seed_demo", "--brands", "3", "--campaigns-per-brand", "8", stdout=io.StringIO())
    first = _counts()
    call_command("seed_demo", "--brands", "3", "--campaigns-per-brand", "8", stdout=io.StringIO())
    assert _counts() == first
    assert first[:3] == (3, 6, 24)


def test_size_options_reach_past_the_named_brands() -> None:
    call_command("seed_demo", "--brands", "10", "--campaigns-per-brand", "2", stdout=io.StringIO())
    assert Brand.objects.count() == 10
    assert Campaign.objects.count() == 20
    assert Brand.objects.filter(name__startswith="Demo brand").count() == 2


def test_once_skips_when_brands_exist() -> None:
    call_command("seed_demo", "--brands", "1", stdout=io.StringIO())
    out = io.StringIO()
    call_command("seed_demo", "--once", "--brands", "5", stdout=out)
    assert "skipping" in out.getvalue()
    assert Brand.objects.count() == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--brands", "0"], "--brands"),
        (["--brands", "20000"], "--brands"),
        (["--campaigns-per-brand", "0"], "--campaigns-per-brand"),
    ],
)
def test_bad_sizes_are_refused(args: list[str], message: str) -> None:
    with pytest.raises(CommandError, match=message):
        call_command("seed_demo", *args)
    assert not Brand.objects.exists()


# --- the demo logins of each role ------------------------------------------------


def _logins() -> dict[str, dict[str, str]]:
    return {
        user.username: dict(user.brand_memberships.values_list("brand__name", "role"))
        for user in User.objects.filter(username__in=["manager", "viewer"])
    }


@override_settings(DEBUG=True)
def test_demo_logins_are_a_manager_of_two_brands_and_a_viewer_of_one(client: Client) -> None:
    call_command("seed_demo", "--brands", "3", stdout=io.StringIO())
    assert _logins() == {
        "manager": {"Northwind Coffee": "manager", "Kolkata Spice Co": "manager"},
        "viewer": {"Northwind Coffee": "viewer"},
    }
    manager, viewer = User.objects.get(username="manager"), User.objects.get(username="viewer")
    assert manager.is_staff
    assert not manager.is_superuser
    assert manager.groups.filter(name=BRAND_MANAGERS).exists()
    assert manager.has_perm("campaigns.change_campaign")
    assert not manager.has_perm("budgets.manage_all_brands")
    assert not viewer.is_staff
    assert not viewer.user_permissions.exists()
    assert not viewer.groups.exists()
    # The memberships are in the trail, as the command's.
    trail = SettingChange.objects.filter(object_type="membership")
    assert {(c.object_repr, c.brand_name, c.after) for c in trail} == {
        ("manager", "Northwind Coffee", "manager"),
        ("manager", "Kolkata Spice Co", "manager"),
        ("viewer", "Northwind Coffee", "viewer"),
    }
    assert {(c.actor, c.via) for c in trail} == {("command:seed_demo", "command")}
    # The manual pause of each brand too.
    assert SettingChange.objects.filter(object_type="campaign", actor="command:seed_demo").exists()

    # Their passwords work; the manager opens the admin on their brands only.
    assert client.login(request=HttpRequest(), username="manager", password="manager")
    response = client.get("/admin/budgets/brand/")
    assert response.status_code == 200
    assert {b.name for b in response.context["cl"].result_list} == {
        "Northwind Coffee",
        "Kolkata Spice Co",
    }
    client.logout()
    assert client.login(request=HttpRequest(), username="viewer", password="viewer")
    assert client.get("/admin/budgets/brand/").status_code == 302  # not staff: to the login


@override_settings(DEBUG=True)
def test_seeding_again_duplicates_no_login_or_membership() -> None:
    call_command("seed_demo", "--brands", "2", stdout=io.StringIO())
    counts = (User.objects.count(), BrandMembership.objects.count(), SettingChange.objects.count())
    call_command("seed_demo", "--brands", "2", stdout=io.StringIO())
    call_command("seed_demo", "--once", stdout=io.StringIO())
    assert (
        User.objects.count(),
        BrandMembership.objects.count(),
        SettingChange.objects.count(),
    ) == counts
    assert counts[:2] == (2, 3)


@override_settings(DEBUG=True)
def test_a_role_changed_since_is_left_as_it_is() -> None:
    call_command("seed_demo", "--brands", "2", stdout=io.StringIO())
    BrandMembership.objects.filter(user__username="viewer").update(role="manager")
    User.objects.filter(username="viewer").update(password="changed")
    call_command("seed_demo", "--brands", "2", stdout=io.StringIO())
    viewer = User.objects.get(username="viewer")
    assert viewer.password == "changed"
    assert list(viewer.brand_memberships.values_list("role", flat=True)) == ["manager"]


@override_settings(DEBUG=True)
def test_once_still_makes_the_logins_for_demo_brands_loaded_before() -> None:
    call_command("seed_demo", "--brands", "2", stdout=io.StringIO())
    User.objects.filter(username__in=["manager", "viewer"]).delete()
    out = io.StringIO()
    call_command("seed_demo", "--once", stdout=out)
    assert "skipping" in out.getvalue()
    assert set(_logins()) == {"manager", "viewer"}
    assert Brand.objects.count() == 2


@override_settings(DEBUG=False)
def test_no_logins_with_public_passwords_without_debug() -> None:
    out = io.StringIO()
    call_command("seed_demo", "--brands", "2", stdout=out)
    assert "Demo logins not made" in out.getvalue()
    assert not User.objects.exists()
    assert Brand.objects.count() == 2
