-- The statements of spend/recording/ledger.py, each after its "-- name:" line.
-- {braces} are filled in by ledger.py (a scope, an IN condition, a lock clause).

-- name: campaigns
SELECT c.id, c.brand_id, c.budget_id, b.timezone, b.daily_budget, b.monthly_budget,
       g.daily_limit, g.monthly_limit
FROM campaigns_campaign c
JOIN budgets_brand b ON b.id = c.brand_id
LEFT JOIN budgets_budget g ON g.id = c.budget_id
WHERE c.id {condition}
ORDER BY c.brand_id, c.id
{lock}

-- name: locked_rows
-- One scope's capped rows, locked in the one order: a CTE of rows_locked.
{scope}_rows AS (
    SELECT '{scope}'::text AS scope, r.{scope}_id AS owner_id, r.period, r.period_start,
           r.amount, r.alerted_threshold
    FROM unnest(%s::bigint[], %s::varchar[], %s::date[]) AS k(owner_id, period, period_start)
    JOIN spend_{scope}spend r ON r.{scope}_id = k.owner_id AND r.period = k.period
         AND r.period_start = k.period_start
    ORDER BY r.{scope}_id, r.period, r.period_start
    FOR NO KEY UPDATE OF r
)

-- name: rows_locked
WITH {brand_rows}, {budget_rows}
SELECT * FROM brand_rows UNION ALL SELECT * FROM budget_rows

-- name: plain_rows
SELECT {scope}_id, period, period_start, amount, alerted_threshold
FROM spend_{scope}spend WHERE ({scope}_id, period, period_start) IN (VALUES {values})

-- name: missing_rows_created
INSERT INTO spend_{scope}spend ({scope}_id, period, period_start, amount, events_count)
SELECT owner_id, period, period_start, 0, 0
FROM unnest(%s::bigint[], %s::varchar[], %s::date[]) AS k(owner_id, period, period_start)
ORDER BY owner_id, period, period_start
ON CONFLICT ({scope}_id, period, period_start) DO NOTHING

-- name: rows_and_states
SELECT 'brand'::text, r.brand_id, r.period::text, r.period_start, r.amount,
       r.alerted_threshold::int, NULL::boolean, NULL::boolean
FROM unnest(%s::bigint[], %s::varchar[], %s::date[]) AS k(owner_id, period, period_start)
JOIN spend_brandspend r ON r.brand_id = k.owner_id AND r.period = k.period
     AND r.period_start = k.period_start
UNION ALL
SELECT 'budget', r.budget_id, r.period, r.period_start, r.amount, r.alerted_threshold, NULL, NULL
FROM unnest(%s::bigint[], %s::varchar[], %s::date[]) AS k(owner_id, period, period_start)
JOIN spend_budgetspend r ON r.budget_id = k.owner_id AND r.period = k.period
     AND r.period_start = k.period_start
UNION ALL
SELECT 'campaign', c.id, NULL, NULL, NULL, NULL, c.status = 'active', c.budget_hold IS NOT NULL
FROM campaigns_campaign c WHERE c.id = ANY(%s)

-- name: events_stored
SELECT event_id, id, campaign_id, amount, kind, occurred_at, recorded_at
FROM spend_spendevent WHERE source = %s AND event_id {condition}

-- name: campaign_states
SELECT id, status = 'active', budget_hold IS NOT NULL
FROM campaigns_campaign WHERE id {condition}

-- name: events_inserted
INSERT INTO spend_spendevent (
    campaign_id, brand_id, budget_id, kind, amount, occurred_at, local_date,
    source, event_id, campaign_was_serving, recorded_at)
SELECT u.*, %s::timestamptz
FROM unnest(%s::bigint[], %s::bigint[], %s::bigint[], %s::varchar[], %s::numeric[],
            %s::timestamptz[], %s::date[], %s::varchar[], %s::varchar[], %s::boolean[]) AS u
ON CONFLICT (source, event_id) DO NOTHING
RETURNING id

-- name: sqlite_events_inserted
INSERT INTO spend_spendevent (
    campaign_id, brand_id, budget_id, kind, amount, occurred_at, local_date,
    source, event_id, campaign_was_serving, recorded_at)
VALUES {values}
ON CONFLICT (source, event_id) DO NOTHING
RETURNING id

-- name: events_copied
COPY spend_spendevent (campaign_id, brand_id, budget_id, kind, amount, occurred_at,
    local_date, source, event_id, campaign_was_serving, recorded_at) FROM STDIN (FORMAT BINARY)

-- name: rows_added
-- One scope's deltas added: a CTE of rollups_and_alerts.
{scope}_rows AS (
    INSERT INTO spend_{scope}spend (
        {scope}_id, period, period_start, amount, events_count, overspend, alerted_threshold)
    SELECT * FROM unnest(%s::bigint[], %s::varchar[], %s::date[], %s::numeric[],
                         %s::integer[], %s::numeric[], %s::smallint[])
    ON CONFLICT ({scope}_id, period, period_start) DO UPDATE SET
        amount = spend_{scope}spend.amount + EXCLUDED.amount,
        events_count = spend_{scope}spend.events_count + EXCLUDED.events_count,
        overspend = spend_{scope}spend.overspend + EXCLUDED.overspend,
        alerted_threshold = GREATEST(
            spend_{scope}spend.alerted_threshold, EXCLUDED.alerted_threshold)
    RETURNING 1
)

-- name: rollups_and_alerts
WITH {brand_rows}, {budget_rows}, {campaign_rows}, alerts_raised AS (
    INSERT INTO budgets_alert (
        brand_id, budget_id, scope, period, period_start, threshold, cap, spend, raised_at)
    SELECT *, %s::timestamptz
    FROM unnest(%s::bigint[], %s::bigint[], %s::varchar[], %s::varchar[], %s::date[],
                %s::smallint[], %s::numeric[], %s::numeric[])
    ON CONFLICT DO NOTHING
    RETURNING id
)
SELECT id FROM alerts_raised

-- name: sqlite_rows_added
INSERT INTO spend_{scope}spend (
    {scope}_id, period, period_start, amount, events_count, overspend, alerted_threshold)
VALUES (%s, %s, %s, %s, %s, %s, %s)
ON CONFLICT ({scope}_id, period, period_start) DO UPDATE SET
    amount = spend_{scope}spend.amount + excluded.amount,
    events_count = spend_{scope}spend.events_count + excluded.events_count,
    overspend = spend_{scope}spend.overspend + excluded.overspend,
    alerted_threshold = MAX(spend_{scope}spend.alerted_threshold, excluded.alerted_threshold)

-- name: sqlite_alert_raised
INSERT INTO budgets_alert (
    brand_id, budget_id, scope, period, period_start, threshold, cap, spend, raised_at)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)
ON CONFLICT DO NOTHING
RETURNING id
