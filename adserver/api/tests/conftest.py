"""Clients of the API: the agency's superuser, and the five kinds of people of the access rules.

`world` builds brand A and brand B, each with a budget, a campaign with a
daypart, and spend; then anonymous, a user with no membership, a viewer of
A, a manager of A and an agency admin (the `budgets.manage_all_brands`
permission, not a superuser) as API clients.
"""

from dataclasses import dataclass

import pytest
from django.contrib.auth.models import Permission, User
from knox.models import AuthToken
from rest_framework.test import APIClient

from budgets.models import Brand, Budget, Role
from budgets.services import membership_set
from budgets.tests.factories import BudgetFactory
from campaigns.models import Campaign, Daypart
from campaigns.tests.factories import CampaignFactory, DaypartFactory
from spend.models import SpendEvent
from spend.tests.factories import SpendEventFactory


def token_client(user: User) -> APIClient:
    client = APIClient()
    _token, key = AuthToken.objects.create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def member_of(brand: Brand, role: str, username: str) -> User:
    """A person with `role` on `brand` and no model permission at all."""
    user = User.objects.create_user(username, password="correct-horse-battery")
    membership_set(brand=brand, user=user, role=role)
    return user


def agency_admin_user(username: str = "agency-admin") -> User:
    """Holds `budgets.manage_all_brands` and nothing else: not staff, not a superuser."""
    user = User.objects.create_user(username, password="correct-horse-battery")
    user.user_permissions.add(
        Permission.objects.get(codename="manage_all_brands", content_type__app_label="budgets")
    )
    return user


@pytest.fixture
def api(staff_user: User) -> APIClient:
    """The agency's script: a token of a superuser."""
    return token_client(staff_user)


@dataclass
class BrandRows:
    brand: Brand
    budget: Budget
    campaign: Campaign
    daypart: Daypart
    event: SpendEvent


def brand_rows() -> BrandRows:
    budget = BudgetFactory.create()
    campaign = CampaignFactory.create(brand=budget.brand, budget=budget)
    return BrandRows(
        brand=budget.brand,
        budget=budget,
        campaign=campaign,
        daypart=DaypartFactory.create(campaign=campaign),
        event=SpendEventFactory.create(campaign=campaign),
    )


@dataclass
class World:
    a: BrandRows
    b: BrandRows
    anonymous: APIClient
    no_membership: APIClient
    viewer: APIClient
    manager: APIClient
    agency_admin: APIClient

    def client(self, who: str) -> APIClient:
        client: APIClient = getattr(self, who)
        return client


PEOPLE = ["anonymous", "no_membership", "viewer", "manager", "agency_admin"]


@pytest.fixture
def world(db: None) -> World:
    a, b = brand_rows(), brand_rows()
    return World(
        a=a,
        b=b,
        anonymous=APIClient(),
        no_membership=token_client(User.objects.create_user("nobody")),
        viewer=token_client(member_of(a.brand, Role.VIEWER, "viewer-a")),
        manager=token_client(member_of(a.brand, Role.MANAGER, "manager-a")),
        agency_admin=token_client(agency_admin_user()),
    )
