"""Shared fixtures. Tests run against the real PostgreSQL of DATABASE_URL."""

import pytest
from django.contrib.auth.models import User
from django.test import Client


@pytest.fixture
def staff_user(db: None) -> User:
    return User.objects.create_superuser("staff", "staff@example.com", "correct-horse-battery")


@pytest.fixture
def staff_client(client: Client, staff_user: User) -> Client:
    client.force_login(staff_user)
    return client
