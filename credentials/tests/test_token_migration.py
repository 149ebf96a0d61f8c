"""Tokens kept in clear by DRF's authtoken are hashed, and keep working."""

import datetime as dt
import importlib
from typing import Any

import pytest
from django.apps import apps
from django.contrib.auth.models import User
from django.db import connection
from knox.models import AuthToken
from rest_framework.test import APIClient

migration: Any = importlib.import_module("credentials.migrations.0002_hash_plaintext_user_tokens")

pytestmark = pytest.mark.django_db

OLD_KEY = "9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b"  # DRF's form: 40 hex digits
CREATED = dt.datetime(2025, 1, 2, 3, 4, 5, tzinfo=dt.UTC)


def test_plaintext_tokens_are_hashed_and_the_clear_table_dropped(
    staff_user: User, settings: Any
) -> None:
    settings.API_TOKEN_CACHE_SECONDS = 0
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE authtoken_token (key varchar(40) PRIMARY KEY, "
            "user_id integer NOT NULL, created timestamptz NOT NULL)"
        )
        cursor.execute(
            "INSERT INTO authtoken_token VALUES (%s, %s, %s)", [OLD_KEY, staff_user.pk, CREATED]
        )
    with connection.schema_editor() as editor:
        migration.hash_plaintext_tokens(apps, editor)

    assert "authtoken_token" not in connection.introspection.table_names()
    token = AuthToken.objects.get(user=staff_user)
    assert OLD_KEY not in (token.digest, token.token_key)
    assert token.created == CREATED
    assert token.expiry is None
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {OLD_KEY}")
    assert client.get("/api/brands/").status_code == 200


def test_without_plaintext_tokens_there_is_nothing_to_do(db: None) -> None:
    with connection.schema_editor() as editor:
        migration.hash_plaintext_tokens(apps, editor)
    assert not AuthToken.objects.exists()
