"""The ledger takes no spend for an archived campaign, or one of an archived brand.

A statement-level trigger reads the campaigns of the rows just inserted,
once per statement whatever its size, and aborts the statement (SQLSTATE
SPR02, nothing written) when one of them or its brand is archived. It costs
the one-statement path no round trip; and because it reads after the
recorder has locked the brand (FOR SHARE) while archiving locks it FOR
UPDATE, an archive is either seen or waits for the event to commit.

SQLite (the embedded development database) has no transition tables:
spend.archived checks there before recording instead.
"""

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

FORWARD = [
    """
CREATE FUNCTION spend_refuse_archived() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    refused record;
BEGIN
    SELECT a.campaign_id,
        CASE WHEN c.archived_at IS NOT NULL THEN format('Campaign %s (%s)', c.id, c.name)
             ELSE format('Brand %s (%s)', b.id, b.name) END AS what
    INTO refused
    FROM (SELECT DISTINCT campaign_id, brand_id FROM added) a
    JOIN campaigns_campaign c ON c.id = a.campaign_id
    JOIN budgets_brand b ON b.id = a.brand_id
    WHERE c.archived_at IS NOT NULL OR b.archived_at IS NOT NULL
    ORDER BY a.campaign_id
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION '% is archived: it takes no new spend', refused.what
            USING ERRCODE = 'SPR02', DETAIL = refused.campaign_id::text, HINT = refused.what;
    END IF;
    RETURN NULL;
END;
$$;
""",
    """
CREATE TRIGGER spend_event_refuse_archived AFTER INSERT ON spend_spendevent
REFERENCING NEW TABLE AS added
FOR EACH STATEMENT EXECUTE FUNCTION spend_refuse_archived();
""",
]
BACKWARD = [
    "DROP TRIGGER spend_event_refuse_archived ON spend_spendevent;",
    "DROP FUNCTION spend_refuse_archived();",
]


def forward(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        for statement in FORWARD:
            schema_editor.execute(statement, params=None)


def backward(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        for statement in BACKWARD:
            schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("spend", "0011_budget_spend_period_idx"),
        ("budgets", "0006_archive"),
        ("campaigns", "0003_archive"),
    ]

    operations = [migrations.RunPython(forward, backward, elidable=False)]
