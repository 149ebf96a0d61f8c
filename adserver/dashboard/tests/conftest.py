"""People of the dashboard's access tests: an agency admin by permission, and
members of brands with one role or the other. Memberships are set through the
service, as the admin and the API set them."""

from collections.abc import Callable, Sequence

import pytest
from django.contrib.auth.models import Permission, User
from django.test import Client

from budgets.models import Brand, Role
from budgets.services import membership_set

PASSWORD = "a-long-test-password"

MakeClient = Callable[[User], Client]


@pytest.fixture
def client_for() -> MakeClient:
    """A fresh client logged in as `user` (one client per person in a test)."""

    def make(user: User) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return make


def make_member(
    username: str, *, manages: Sequence[Brand] = (), views: Sequence[Brand] = ()
) -> User:
    user = User.objects.create_user(username, password=PASSWORD)
    for brand in manages:
        membership_set(brand=brand, user=user, role=Role.MANAGER)
    for brand in views:
        membership_set(brand=brand, user=user, role=Role.VIEWER)
    return user


def make_agency_admin(username: str = "agency-admin") -> User:
    """Not a superuser: an agency admin through the `manage_all_brands` permission."""
    user = User.objects.create_user(username, password=PASSWORD)
    user.user_permissions.add(
        Permission.objects.get(codename="manage_all_brands", content_type__app_label="budgets")
    )
    return user
