"""People's API tokens were kept in clear (DRF's `authtoken_token`): hash them.

Each token becomes a django-rest-knox `AuthToken` holding only the SHA-512
digest of the same key (and its first 15 characters, knox's lookup key),
so every token keeps working under `Authorization: Token <key>`; then the
clear table is dropped. A database that never had DRF's tokens has nothing
to move. There is no way back: the keys are not kept.
"""

import hashlib
from typing import Any

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

PLAINTEXT_TABLE = "authtoken_token"
KNOX_LOOKUP_LENGTH = 15  # knox.settings.CONSTANTS.TOKEN_KEY_LENGTH


def hash_plaintext_tokens(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    connection = schema_editor.connection
    if PLAINTEXT_TABLE not in connection.introspection.table_names():
        return
    auth_token: Any = apps.get_model("knox", "AuthToken")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT key, user_id, created FROM {PLAINTEXT_TABLE}")  # noqa: S608
        rows = cursor.fetchall()
    auth_token.objects.bulk_create(
        [
            auth_token(
                digest=hashlib.sha512(key.encode()).hexdigest(),
                token_key=key[:KNOX_LOOKUP_LENGTH],
                user_id=user_id,
                expiry=None,
            )
            for key, user_id, _created in rows
        ],
        ignore_conflicts=True,
    )
    # Keep when each token was made (auto_now_add set it to now above).
    for key, _user_id, created in rows:
        auth_token.objects.filter(digest=hashlib.sha512(key.encode()).hexdigest()).update(
            created=created
        )
    schema_editor.execute(f"DROP TABLE {PLAINTEXT_TABLE}")
    # DRF's token app is no longer installed: forget that it was migrated.
    schema_editor.execute("DELETE FROM django_migrations WHERE app = 'authtoken'")


class Migration(migrations.Migration):
    dependencies = [
        ("credentials", "0001_initial"),
        ("knox", "0009_extend_authtoken_field"),
    ]

    operations = [
        migrations.RunPython(hash_plaintext_tokens, migrations.RunPython.noop, elidable=False),
    ]
