-- The upsert of one capped scope's rollup rows ({scope}: brand or budget) in
-- single.sql: the event's amount, one event, its overspend, the alert level reached.
    INSERT INTO spend_{scope}spend AS r ({scope}_id, period, period_start, amount, events_count,
        overspend, alerted_threshold)
    SELECT event.{scope}, m.period, m.start, event.amount, 1, m.over, GREATEST(m.alerted, m.reached)
    FROM capped_movement m, event WHERE m.scope = '{scope}'
    ON CONFLICT ({scope}_id, period, period_start) DO UPDATE SET
        amount = r.amount + EXCLUDED.amount, events_count = r.events_count + 1,
        overspend = r.overspend + EXCLUDED.overspend,
        alerted_threshold = EXCLUDED.alerted_threshold