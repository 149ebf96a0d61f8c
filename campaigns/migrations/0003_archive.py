"""Campaigns can be archived; an archived campaign is held paused by the database.

On SQLite (the embedded development database) adding a check constraint
rebuilds the table, which the same-brand triggers of migration 0002 forbid;
there the constraint is left to the services (campaigns.archive), as the
model state still declares it.
"""

from typing import Any

from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

ARCHIVED_IS_PAUSED = models.CheckConstraint(
    condition=models.Q(("archived_at__isnull", True), ("enabled", False), _connector="OR"),
    name="campaign_archived_is_paused",
)


def add_constraint(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.add_constraint(apps.get_model("campaigns", "Campaign"), ARCHIVED_IS_PAUSED)


def remove_constraint(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        model: Any = apps.get_model("campaigns", "Campaign")
        schema_editor.remove_constraint(model, ARCHIVED_IS_PAUSED)


class Migration(migrations.Migration):
    dependencies = [
        ("budgets", "0006_archive"),
        ("campaigns", "0002_campaign_budget_same_brand"),
    ]

    operations = [
        migrations.AddField(
            model_name="campaign",
            name="archived_at",
            field=models.DateTimeField(
                blank=True,
                editable=False,
                help_text="Archived: out of the lists, takes no spend, keeps its history.",
                null=True,
            ),
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AddConstraint(model_name="campaign", constraint=ARCHIVED_IS_PAUSED)
            ],
            database_operations=[
                migrations.RunPython(add_constraint, remove_constraint, elidable=False)
            ],
        ),
    ]
