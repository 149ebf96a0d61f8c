"""A campaign's budget must belong to the campaign's brand.

Django cannot declare a composite foreign key, so it is added in SQL:
(budget_id, brand_id) -> budgets_budget (id, brand_id). MATCH SIMPLE lets a
null budget_id through. It also stops a budget from moving to another brand
while campaigns use it. SQLite cannot add a constraint to an existing table,
so there triggers enforce the same rule.
"""

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

POSTGRES_FORWARD = """
ALTER TABLE campaigns_campaign
    ADD CONSTRAINT campaign_budget_same_brand
    FOREIGN KEY (budget_id, brand_id) REFERENCES budgets_budget (id, brand_id)
    DEFERRABLE INITIALLY IMMEDIATE;
"""
POSTGRES_BACKWARD = "ALTER TABLE campaigns_campaign DROP CONSTRAINT campaign_budget_same_brand;"

SQLITE_CHECK = """
WHEN NEW.budget_id IS NOT NULL AND NOT EXISTS (
    SELECT 1 FROM budgets_budget WHERE id = NEW.budget_id AND brand_id = NEW.brand_id
)
BEGIN SELECT RAISE(ABORT, 'FOREIGN KEY constraint failed: campaign_budget_same_brand'); END;
"""
SQLITE_FORWARD = [
    "CREATE TRIGGER campaign_budget_same_brand_insert BEFORE INSERT ON campaigns_campaign "
    f"{SQLITE_CHECK}",
    f"CREATE TRIGGER campaign_budget_same_brand_update BEFORE UPDATE OF budget_id, brand_id "
    f"ON campaigns_campaign {SQLITE_CHECK}",
    """CREATE TRIGGER budget_brand_change_with_campaigns BEFORE UPDATE OF brand_id ON budgets_budget
    WHEN NEW.brand_id != OLD.brand_id AND EXISTS (
        SELECT 1 FROM campaigns_campaign WHERE budget_id = OLD.id
    )
    BEGIN SELECT RAISE(ABORT, 'FOREIGN KEY constraint failed: campaign_budget_same_brand'); END;""",
]
SQLITE_BACKWARD = [
    "DROP TRIGGER campaign_budget_same_brand_insert;",
    "DROP TRIGGER campaign_budget_same_brand_update;",
    "DROP TRIGGER budget_brand_change_with_campaigns;",
]


def forward(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    vendor = schema_editor.connection.vendor
    statements = [POSTGRES_FORWARD] if vendor == "postgresql" else SQLITE_FORWARD
    for statement in statements:
        schema_editor.execute(statement, params=None)


def backward(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    vendor = schema_editor.connection.vendor
    statements = [POSTGRES_BACKWARD] if vendor == "postgresql" else SQLITE_BACKWARD
    for statement in statements:
        schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("budgets", "0001_initial"),
        ("campaigns", "0001_initial"),
    ]

    operations = [migrations.RunPython(forward, backward, elidable=False)]
