"""A function that locks the capped rollup rows of one event, for spend.one_event.

The one-event statement used to lock these rows with `SELECT ... FOR NO KEY
UPDATE` in one of its own CTEs. When another recorder of the same brand had
just updated them, PostgreSQL re-checked the newest row versions by
initialising the whole statement again (EvalPlanQual starts every CTE and
subplan of the statement), which cost more than the rest of the statement
when recorders queue on one brand. Inside this function the locking query is
a plan of its own, so that re-check starts only that small plan. It returns
the same rows, in the same lock order (brand rows, then budget rows, each by
period), with their newest committed totals.
"""

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

FORWARD = """
CREATE FUNCTION spend_rollups_lock(
    brand bigint, budget bigint, day date, month date, brand_locked boolean
) RETURNS TABLE (scope text, period varchar, start date, amount numeric, alerted smallint)
LANGUAGE plpgsql VOLATILE AS $$
#variable_conflict use_column
BEGIN
    -- brand_locked is not read: passing the caller's brand lock result makes
    -- the caller take that lock first (the lock order of spend.ledger).
    RETURN QUERY
        SELECT 'brand'::text, r.period, r.period_start, r.amount, r.alerted_threshold
        FROM unnest(ARRAY['day', 'month']::varchar[], ARRAY[day, month]) AS k(period, start)
        JOIN spend_brandspend r ON r.brand_id = brand AND r.period = k.period
            AND r.period_start = k.start
        ORDER BY k.period
        FOR NO KEY UPDATE OF r;
    IF budget IS NOT NULL THEN
        RETURN QUERY
            SELECT 'budget'::text, r.period, r.period_start, r.amount, r.alerted_threshold
            FROM unnest(ARRAY['day', 'month']::varchar[], ARRAY[day, month]) AS k(period, start)
            JOIN spend_budgetspend r ON r.budget_id = budget AND r.period = k.period
                AND r.period_start = k.start
            ORDER BY k.period
            FOR NO KEY UPDATE OF r;
    END IF;
END;
$$;
"""
BACKWARD = "DROP FUNCTION spend_rollups_lock(bigint, bigint, date, date, boolean);"


def forward(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD, params=None)


def backward(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD, params=None)


class Migration(migrations.Migration):
    dependencies = [("spend", "0007_spendevent_campaign_brand_key")]

    operations = [migrations.RunPython(forward, backward, elidable=False)]
