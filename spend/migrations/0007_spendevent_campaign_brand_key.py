"""One foreign key for an event's campaign and brand: (campaign_id, brand_id).

The two single-column keys cost two checks per recorded event (deferred, at
COMMIT). One composite key, (campaign_id, brand_id) -> campaigns_campaign
(id, brand_id), enforces both: the campaign exists, the brand is the
campaign's (so it exists, and a campaign with spend cannot move to another
brand). It is added before the single keys are dropped, so the table is never
without one. Its target, UNIQUE (id, brand_id) on campaigns_campaign, is
created here on PostgreSQL only: it is this key's concern, and declaring it
on the model would make SQLite rebuild the campaign table under the triggers
of campaigns 0002.

SQLite cannot add a constraint to an existing table, so there triggers
enforce the same rule; and since Django rebuilds spend_spendevent there to
drop the single keys (as for 0006), the append-only triggers of 0002 are
created again afterwards.
"""

import django.db.models.deletion
from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

POSTGRES_FORWARD = """
ALTER TABLE campaigns_campaign
    ADD CONSTRAINT campaign_id_brand_unique UNIQUE (id, brand_id);
ALTER TABLE spend_spendevent
    ADD CONSTRAINT spend_event_campaign_brand
    FOREIGN KEY (campaign_id, brand_id) REFERENCES campaigns_campaign (id, brand_id)
    DEFERRABLE INITIALLY DEFERRED;
"""
POSTGRES_BACKWARD = """
ALTER TABLE spend_spendevent DROP CONSTRAINT spend_event_campaign_brand;
ALTER TABLE campaigns_campaign DROP CONSTRAINT campaign_id_brand_unique;
"""

SQLITE_APPEND_ONLY = [
    """CREATE TRIGGER IF NOT EXISTS spend_event_no_update BEFORE UPDATE ON spend_spendevent
    BEGIN SELECT RAISE(ABORT, 'spend events are append-only: UPDATE refused'); END;""",
    """CREATE TRIGGER IF NOT EXISTS spend_event_no_delete BEFORE DELETE ON spend_spendevent
    BEGIN SELECT RAISE(ABORT, 'spend events are append-only: DELETE refused'); END;""",
]
SQLITE_FORWARD = [
    *SQLITE_APPEND_ONLY,
    """CREATE TRIGGER spend_event_campaign_brand_insert BEFORE INSERT ON spend_spendevent
    WHEN NOT EXISTS (
        SELECT 1 FROM campaigns_campaign WHERE id = NEW.campaign_id AND brand_id = NEW.brand_id
    )
    BEGIN SELECT RAISE(ABORT, 'FOREIGN KEY constraint failed: spend_event_campaign_brand'); END;""",
    """CREATE TRIGGER spend_event_campaign_brand_move BEFORE UPDATE OF id, brand_id
    ON campaigns_campaign
    WHEN (NEW.id != OLD.id OR NEW.brand_id != OLD.brand_id) AND EXISTS (
        SELECT 1 FROM spend_spendevent WHERE campaign_id = OLD.id
    )
    BEGIN SELECT RAISE(ABORT, 'FOREIGN KEY constraint failed: spend_event_campaign_brand'); END;""",
    """CREATE TRIGGER spend_event_campaign_brand_delete BEFORE DELETE ON campaigns_campaign
    WHEN EXISTS (SELECT 1 FROM spend_spendevent WHERE campaign_id = OLD.id)
    BEGIN SELECT RAISE(ABORT, 'FOREIGN KEY constraint failed: spend_event_campaign_brand'); END;""",
]
SQLITE_BACKWARD = [
    "DROP TRIGGER spend_event_campaign_brand_insert;",
    "DROP TRIGGER spend_event_campaign_brand_move;",
    "DROP TRIGGER spend_event_campaign_brand_delete;",
]


def _run(editor: BaseDatabaseSchemaEditor, statements: list[str]) -> None:
    for statement in statements:
        editor.execute(statement, params=None)


def forward_postgres(apps: StateApps, editor: BaseDatabaseSchemaEditor) -> None:
    if editor.connection.vendor == "postgresql":
        _run(editor, [POSTGRES_FORWARD])


def backward_postgres(apps: StateApps, editor: BaseDatabaseSchemaEditor) -> None:
    if editor.connection.vendor == "postgresql":
        _run(editor, [POSTGRES_BACKWARD])


def forward_sqlite(apps: StateApps, editor: BaseDatabaseSchemaEditor) -> None:
    if editor.connection.vendor == "sqlite":
        _run(editor, SQLITE_FORWARD)


def backward_sqlite(apps: StateApps, editor: BaseDatabaseSchemaEditor) -> None:
    if editor.connection.vendor == "sqlite":
        _run(editor, SQLITE_BACKWARD)


class Migration(migrations.Migration):
    dependencies = [
        ("budgets", "0002_alert_open_period_index"),
        ("campaigns", "0002_campaign_budget_same_brand"),
        ("spend", "0006_spendevent_fewer_indexes"),
    ]

    operations = [
        # On PostgreSQL the composite key comes first; SQLite's triggers after
        # its table rebuilds (a rebuild would drop triggers on that table).
        migrations.RunPython(forward_postgres, backward_postgres, elidable=False),
        migrations.AlterField(
            model_name="spendevent",
            name="brand",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="spend_events",
                to="budgets.brand",
            ),
        ),
        migrations.AlterField(
            model_name="spendevent",
            name="campaign",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="spend_events",
                to="campaigns.campaign",
            ),
        ),
        migrations.RunPython(forward_sqlite, backward_sqlite, elidable=False),
    ]
