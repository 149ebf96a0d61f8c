"""Clients of the API: a token of a staff member, and a token without permissions."""

import pytest
from django.contrib.auth.models import Permission, User
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient


def token_client(user: User) -> APIClient:
    client = APIClient()
    token = Token.objects.create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


@pytest.fixture
def api(staff_user: User) -> APIClient:
    """The agency's script: a token of a user who may do everything."""
    return token_client(staff_user)


@pytest.fixture
def reader(db: None) -> APIClient:
    """A token of a user without any model permission: reads only."""
    return token_client(User.objects.create_user("reader", password="correct-horse-battery"))


@pytest.fixture
def campaign_operator(db: None) -> APIClient:
    """May pause and resume campaigns, nothing else."""
    user = User.objects.create_user("operator", password="correct-horse-battery")
    user.user_permissions.add(Permission.objects.get(codename="change_campaign"))
    return token_client(user)
