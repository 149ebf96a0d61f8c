"""The ledger is append-only: the database refuses UPDATE and DELETE.

A correction is a new event of kind `adjustment`. TRUNCATE (used only by test
teardown and by an operator on purpose) is not a row operation and is allowed.
"""

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

POSTGRES_FORWARD = [
    """
    CREATE FUNCTION spend_event_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'spend events are append-only: % refused', TG_OP
            USING ERRCODE = 'integrity_constraint_violation';
    END;
    $$;
    """,
    """
    CREATE TRIGGER spend_event_append_only
    BEFORE UPDATE OR DELETE ON spend_spendevent
    FOR EACH ROW EXECUTE FUNCTION spend_event_append_only();
    """,
]
POSTGRES_BACKWARD = [
    "DROP TRIGGER spend_event_append_only ON spend_spendevent;",
    "DROP FUNCTION spend_event_append_only();",
]
SQLITE_FORWARD = [
    """CREATE TRIGGER spend_event_no_update BEFORE UPDATE ON spend_spendevent
    BEGIN SELECT RAISE(ABORT, 'spend events are append-only: UPDATE refused'); END;""",
    """CREATE TRIGGER spend_event_no_delete BEFORE DELETE ON spend_spendevent
    BEGIN SELECT RAISE(ABORT, 'spend events are append-only: DELETE refused'); END;""",
]
SQLITE_BACKWARD = ["DROP TRIGGER spend_event_no_update;", "DROP TRIGGER spend_event_no_delete;"]


def forward(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    postgres = schema_editor.connection.vendor == "postgresql"
    for statement in POSTGRES_FORWARD if postgres else SQLITE_FORWARD:
        schema_editor.execute(statement, params=None)


def backward(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    postgres = schema_editor.connection.vendor == "postgresql"
    for statement in POSTGRES_BACKWARD if postgres else SQLITE_BACKWARD:
        schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):
    dependencies = [("spend", "0001_initial")]

    operations = [migrations.RunPython(forward, backward, elidable=False)]
