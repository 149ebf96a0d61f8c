"""A function that aborts a statement on purpose, for the one-statement spend path.

Recording one event outside any transaction is a single statement that
commits by itself. When that statement finds it cannot finish alone -- a cap
was crossed and campaigns must be held in the same transaction, or the
brand's settings changed since they were read -- it calls this function,
which raises SQLSTATE SPR01: everything the statement did is rolled back,
and the recorder does the event again inside a transaction (spend.services).
"""

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

FORWARD = """
CREATE FUNCTION spend_needs_transaction(reason text) RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'spend recording needs a transaction: %', reason USING ERRCODE = 'SPR01';
END;
$$;
"""
BACKWARD = "DROP FUNCTION spend_needs_transaction(text);"


def forward(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD, params=None)


def backward(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD, params=None)


class Migration(migrations.Migration):
    dependencies = [("spend", "0003_rollup_overspend_and_alert_level")]

    operations = [migrations.RunPython(forward, backward, elidable=False)]
