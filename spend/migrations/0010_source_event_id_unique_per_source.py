"""event_id unique per source, not globally; sources long enough for "user:<username>".

The new constraint is built before the old one goes, and a new permission,
spend.add_adjustment, guards adjustments.

SQLite rebuilds spend_spendevent for each change here, which the triggers of
0007 on campaigns_campaign (they read spend_spendevent) would break: they are
dropped first, and all of 0007's triggers (the rebuilt table's too) are
created again afterwards.
"""

from importlib import import_module

from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

triggers = import_module("spend.migrations.0007_spendevent_campaign_brand_key")


def drop_sqlite_triggers(apps: StateApps, editor: BaseDatabaseSchemaEditor) -> None:
    if editor.connection.vendor == "sqlite":
        for name in ("insert", "move", "delete"):
            editor.execute(f"DROP TRIGGER IF EXISTS spend_event_campaign_brand_{name};")


def create_sqlite_triggers(apps: StateApps, editor: BaseDatabaseSchemaEditor) -> None:
    triggers.forward_sqlite(apps, editor)


class Migration(migrations.Migration):
    dependencies = [
        ("budgets", "0003_memberships_and_setting_changes"),
        ("campaigns", "0002_campaign_budget_same_brand"),
        ("spend", "0009_alert_delivery_and_ticks"),
    ]

    operations = [
        migrations.RunPython(drop_sqlite_triggers, create_sqlite_triggers, elidable=False),
        migrations.AlterModelOptions(
            name="spendevent",
            options={
                "ordering": ["-occurred_at", "-id"],
                "permissions": [
                    ("add_adjustment", "Can record adjustments and spend dated before last month")
                ],
            },
        ),
        migrations.AlterField(
            model_name="spendevent",
            name="source",
            field=models.CharField(default="system", max_length=160),
        ),
        migrations.AddConstraint(
            model_name="spendevent",
            constraint=models.UniqueConstraint(
                fields=("source", "event_id"), name="spend_source_event_id_unique"
            ),
        ),
        migrations.RemoveConstraint(
            model_name="spendevent",
            name="spend_event_id_unique",
        ),
        migrations.RunPython(create_sqlite_triggers, drop_sqlite_triggers, elidable=False),
    ]
