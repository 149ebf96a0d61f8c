"""Shared fixtures. Tests run against the real PostgreSQL of DATABASE_URL and Redis."""

import os
from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.test import Client

from adserver.api.tests.remembered import forget_unsent_counts
from budgets.signals import serving_facts_changed


def pytest_configure(config: pytest.Config) -> None:
    """Each test process counts its throttles under keys of its own in the shared Redis."""
    settings.CACHES["default"]["KEY_PREFIX"] = f"test-{os.getpid()}"


@pytest.fixture(autouse=True)
def fresh_throttle_counts() -> None:
    """Every test starts with no request counted (the counts outlive a test's transaction).

    Cleared before the test, while CACHES is still the suite's own.
    """
    forget_unsent_counts()
    cache: Any = caches["default"]
    if isinstance(cache, RedisCache):
        client = cache._cache.get_client(write=True)
        keys = list(client.scan_iter(match=f"{cache.key_prefix}:*", count=1000))
        if keys:
            client.delete(*keys)
    else:
        cache.clear()


@pytest.fixture(autouse=True)
def fast_password_hashing(settings: Any) -> None:
    """Hashing a password the production way takes ~0.3 s; tests make many users."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def staff_user(db: None) -> User:
    return User.objects.create_superuser("staff", "staff@example.com", "correct-horse-battery")


@pytest.fixture
def staff_client(client: Client, staff_user: User) -> Client:
    client.force_login(staff_user)
    return client


@pytest.fixture
def announced() -> Iterator[list[frozenset[int]]]:
    """The brand_ids of every serving_facts_changed sent during the test."""
    sent: list[frozenset[int]] = []

    def receiver(sender: object, brand_ids: frozenset[int], **kwargs: object) -> None:
        sent.append(brand_ids)

    serving_facts_changed.connect(receiver, dispatch_uid="test-announced")
    yield sent
    serving_facts_changed.disconnect(dispatch_uid="test-announced")
