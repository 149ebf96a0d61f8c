-- One spend event, one statement: lock, append, upsert, raise alerts.
-- The rule of spend/recording/rule.py for one event; spend/recording/single.py
-- explains when it runs alone and when in a transaction. Each step is named
-- for what it holds. The brand and budget rollups are
-- capped_rollup.sql for each scope.
WITH event AS (
    SELECT %(campaign)s::bigint AS campaign, %(brand)s::bigint AS brand,
        %(budget)s::bigint AS budget, %(amount)s::numeric AS amount,
        %(day)s::date AS day, %(month)s::date AS month, %(now)s::timestamptz AS now,
        ARRAY[%(brand_daily)s::numeric, %(brand_monthly)s::numeric,
              %(budget_daily)s::numeric, %(budget_monthly)s::numeric] AS caps,
        ARRAY[%(day_current)s::boolean, %(month_current)s::boolean] AS current,
        %(timezone)s::varchar AS timezone, %(alone)s::boolean AS alone,
        %(thresholds)s::int[] AS thresholds
), brand_unchanged AS (
    SELECT b.timezone = event.timezone AND b.daily_budget = event.caps[1]
           AND b.monthly_budget = event.caps[2] AS unchanged
    FROM budgets_brand b, event WHERE b.id = event.brand
    FOR SHARE OF b
), campaign_periods AS (
    SELECT 'day' AS period, event.day AS start, event.current[1] AS is_current FROM event
    UNION ALL SELECT 'month', event.month, event.current[2] FROM event
), capped_opening AS (
    -- The capped rows, locked (and their newest totals read) by a function:
    -- see migration spend 0008 for why not by a locking CTE of this statement.
    SELECT l.scope, l.period, l.start, l.amount, l.alerted,
        event.current[CASE l.period WHEN 'day' THEN 1 ELSE 2 END] AS is_current,
        event.caps[CASE l.scope WHEN 'brand' THEN 0 ELSE 2 END
                   + CASE l.period WHEN 'day' THEN 1 ELSE 2 END] AS cap
    FROM event, brand_unchanged,
        LATERAL spend_rollups_lock(event.brand, event.budget, event.day, event.month,
                                   brand_unchanged.unchanged) l
), campaign_state AS (
    SELECT c.status, c.budget_hold,
        c.status = 'active' AND NOT EXISTS (
            SELECT FROM capped_opening o WHERE o.is_current AND o.amount >= o.cap
        ) AS serving,
        (SELECT count(*) FROM capped_opening) = %(expected)s::int AS complete,
        c.brand_id = event.brand AND c.budget_id IS NOT DISTINCT FROM event.budget
        AND NOT EXISTS (
            SELECT FROM budgets_budget g
            WHERE g.id = event.budget AND (g.daily_limit IS DISTINCT FROM event.caps[3]
                OR g.monthly_limit IS DISTINCT FROM event.caps[4])
        ) AS campaign_unchanged
    FROM campaigns_campaign c, event WHERE c.id = event.campaign
), appended AS (
    INSERT INTO spend_spendevent (campaign_id, brand_id, budget_id, kind, amount, occurred_at,
        local_date, recorded_at, source, event_id, campaign_was_serving)
    SELECT event.campaign, event.brand, event.budget, %(kind)s::varchar, event.amount,
        %(occurred_at)s::timestamptz, event.day, event.now, %(source)s::varchar,
        %(event_id)s::varchar, campaign_state.serving
    FROM event, campaign_state WHERE campaign_state.complete
    ON CONFLICT (source, event_id) DO NOTHING
    RETURNING id, campaign_was_serving AS serving
), capped_movement AS (
    SELECT o.*, o.amount + event.amount AS closing,
        CASE WHEN event.amount > 0 AND o.amount >= o.cap THEN event.amount ELSE 0 END AS over,
        (SELECT max(t) FROM unnest(event.thresholds) t
         WHERE t > o.alerted AND o.amount + event.amount >= o.cap * t / 100) AS reached
    FROM capped_opening o, event, appended
), brand_rollups AS (
{brand_rollups}
), budget_rollups AS (
{budget_rollups}
), campaign_rollups AS (
    INSERT INTO spend_campaignspend AS r (campaign_id, period, period_start, amount,
        events_count, overspend)
    SELECT event.campaign, k.period, k.start, event.amount, 1,
        CASE WHEN NOT appended.serving AND event.amount > 0 THEN event.amount ELSE 0 END
    FROM appended, event, campaign_periods k
    ON CONFLICT (campaign_id, period, period_start) DO UPDATE SET
        amount = r.amount + EXCLUDED.amount, events_count = r.events_count + 1,
        overspend = r.overspend + EXCLUDED.overspend
), alerts_raised AS (
    INSERT INTO budgets_alert (brand_id, budget_id, scope, period, period_start, threshold,
        cap, spend, raised_at)
    SELECT event.brand, CASE m.scope WHEN 'budget' THEN event.budget END, m.scope, m.period,
        m.start, t, m.cap, m.closing, event.now
    FROM capped_movement m, event, unnest(event.thresholds) t
    WHERE t > m.alerted AND m.closing >= m.cap * t / 100
    ON CONFLICT DO NOTHING
    RETURNING id
), needs_transaction AS (
    SELECT spend_needs_transaction('campaigns to hold or release, or brand settings changed')
    FROM event, campaign_state, appended
    WHERE event.alone AND (
        NOT (SELECT unchanged FROM brand_unchanged) OR NOT campaign_state.campaign_unchanged
        OR EXISTS (SELECT FROM capped_opening o WHERE o.is_current
                   AND (o.amount >= o.cap) <> (o.amount + event.amount >= o.cap))
        OR campaign_state.status = 'active' AND EXISTS (
            SELECT FROM capped_opening o WHERE o.is_current AND o.amount + event.amount >= o.cap
        )
        OR campaign_state.budget_hold IS NOT NULL AND event.current[1] AND event.current[2]
            AND NOT EXISTS (SELECT FROM capped_opening o WHERE o.amount + event.amount >= o.cap)
    )
)
SELECT campaign_state.complete, appended.id, appended.serving, campaign_state.status,
    campaign_state.budget_hold IS NOT NULL,
    ARRAY(SELECT concat_ws(' ', scope, period, amount, alerted) FROM capped_opening),
    ARRAY(SELECT id FROM alerts_raised ORDER BY id),
    (SELECT count(*) FROM needs_transaction)
FROM campaign_state LEFT JOIN appended ON true
