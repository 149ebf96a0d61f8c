"""budgets.access: who may see and who may change a brand."""

import pytest
from django.contrib.auth.models import AnonymousUser, Permission, User
from django.db import connection
from django.test.utils import CaptureQueriesContext

from budgets.access import (
    brand_q,
    managed_brands,
    manages_all_brands,
    may_manage_brand,
    may_manage_brands,
    may_see_brand,
    role_on_brand,
    scope_to_visible,
    visible_brands,
)
from budgets.models import Brand, Budget, Role
from budgets.tests.factories import (
    BrandFactory,
    BrandMembershipFactory,
    BudgetFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def brands() -> tuple[Brand, Brand, Brand]:
    return BrandFactory.create(), BrandFactory.create(), BrandFactory.create()


def agency_admin() -> User:
    user = UserFactory.create()
    user.user_permissions.add(Permission.objects.get(codename="manage_all_brands"))
    return User.objects.get(pk=user.pk)  # a fresh object: permissions are cached per object


def test_a_member_sees_their_brands_only(brands: tuple[Brand, Brand, Brand]) -> None:
    a, b, c = brands
    user = UserFactory.create()
    BrandMembershipFactory.create(user=user, brand=a, role=Role.VIEWER)
    BrandMembershipFactory.create(user=user, brand=b, role=Role.MANAGER)

    assert set(visible_brands(user)) == {a, b}
    assert list(managed_brands(user)) == [b]
    assert role_on_brand(user, a.pk) == Role.VIEWER
    assert role_on_brand(user, b.pk) == Role.MANAGER
    assert role_on_brand(user, c.pk) is None
    assert may_see_brand(user, a.pk)
    assert not may_see_brand(user, c.pk)
    assert may_manage_brand(user, b.pk)
    assert not may_manage_brand(user, a.pk)
    assert not may_manage_brand(user, c.pk)


def test_someone_elses_membership_gives_nothing(brands: tuple[Brand, Brand, Brand]) -> None:
    a, _b, _c = brands
    BrandMembershipFactory.create(brand=a, role=Role.MANAGER)
    stranger = UserFactory.create()

    assert list(visible_brands(stranger)) == []
    assert not may_see_brand(stranger, a.pk)


def test_superusers_and_holders_of_manage_all_brands_manage_every_brand(
    brands: tuple[Brand, Brand, Brand],
) -> None:
    superuser = User.objects.create_superuser("root", "root@example.com", "pw")
    for user in (superuser, agency_admin()):
        assert manages_all_brands(user)
        assert set(visible_brands(user)) == set(brands)
        assert set(managed_brands(user)) == set(brands)
        assert all(may_manage_brand(user, brand.pk) for brand in brands)


def test_anonymous_and_inactive_users_see_nothing(brands: tuple[Brand, Brand, Brand]) -> None:
    a, _b, _c = brands
    inactive = User.objects.create_superuser("gone", "gone@example.com", "pw", is_active=False)
    member = UserFactory.create(is_active=False)
    BrandMembershipFactory.create(user=member, brand=a, role=Role.MANAGER)

    for user in (AnonymousUser(), inactive, member, None):
        assert not manages_all_brands(user)
        assert list(visible_brands(user)) == []
        assert not may_manage_brand(user, a.pk)


def test_a_removed_membership_counts_at_once(brands: tuple[Brand, Brand, Brand]) -> None:
    a, _b, _c = brands
    membership = BrandMembershipFactory.create(brand=a, role=Role.MANAGER)
    user = membership.user
    assert may_manage_brand(user, a.pk)

    membership.delete()

    assert not may_see_brand(user, a.pk)
    assert list(visible_brands(user)) == []


def test_scoping_follows_the_path_to_the_brand(brands: tuple[Brand, Brand, Brand]) -> None:
    a, b, _c = brands
    mine = BudgetFactory.create(brand=a)
    BudgetFactory.create(brand=b)
    user = UserFactory.create()
    BrandMembershipFactory.create(user=user, brand=a, role=Role.VIEWER)

    visible = scope_to_visible(Budget.objects.all(), user, brand_field="brand_id")
    managed = Budget.objects.filter(brand_q(user, brand_field="brand_id", manage=True))

    assert list(visible) == [mine]
    assert list(managed) == []


def test_narrowing_is_part_of_the_same_query(brands: tuple[Brand, Brand, Brand]) -> None:
    a, _b, _c = brands
    user = UserFactory.create()
    BrandMembershipFactory.create(user=user, brand=a)

    with CaptureQueriesContext(connection) as queries:
        # * the budgets, with the memberships as a subquery
        list(scope_to_visible(Budget.objects.all(), user, brand_field="brand_id"))

    # Two for Django's permission cache (the user's and their groups': is this an
    # agency admin?), kept on the user object for the request; one for the rows.
    assert len(queries) == 3
    assert "budgets_brandmembership" in queries[-1]["sql"]


def test_may_manage_brands_needs_every_one(brands: tuple[Brand, Brand, Brand]) -> None:
    a, b, c = brands
    user = UserFactory.create()
    BrandMembershipFactory.create(user=user, brand=a, role=Role.MANAGER)
    BrandMembershipFactory.create(user=user, brand=b, role=Role.MANAGER)
    BrandMembershipFactory.create(user=user, brand=c, role=Role.VIEWER)

    assert may_manage_brands(user, [a.pk, b.pk])
    assert not may_manage_brands(user, [a.pk, c.pk])
    assert not may_manage_brands(user, [a.pk, 10**9])
    assert may_manage_brands(agency_admin(), [a.pk, c.pk, 10**9])
