"""One spend event, one statement (PostgreSQL): lock, append, upsert, raise alerts.

Used by spend.recording for single events; the batch path is spend.ledger.
"""

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import DatabaseError

from spend import sql
from spend.accounting import Opening

# The same rules as spend.accounting, for one event, in the statement that
# takes the locks: the opening totals are those of the rows just locked (a
# locking read returns the newest committed version), so whether the
# campaign was serving is judged on them, not on a snapshot taken before the
# lock was granted. Nothing is written unless every capped row was there to
# lock (`complete`); the caller then creates the missing rows and runs it again.
#
# With `alone` the statement runs outside any transaction and commits by
# itself, in one round trip. It may only do so when nothing else has to
# happen in its transaction: when campaigns must be held or released (a cap
# crossed, a hold that no longer matches the totals), or when the brand's
# time zone or caps changed since the caller read them, it aborts itself
# through spend_needs_transaction() (SQLSTATE SPR01) and the caller records
# the event again inside a transaction. The caller may pass a campaign's
# context remembered from an earlier event (spend.recording): every fact of
# it -- the campaign's brand and budget, the brand's time zone and caps, the
# budget's limits -- is compared here with the rows locked.
_RECORD_ONE_SQL = """
WITH p AS (
    SELECT %(campaign)s::bigint AS campaign, %(brand)s::bigint AS brand,
        %(budget)s::bigint AS budget, %(amount)s::numeric AS amount,
        %(day)s::date AS day, %(month)s::date AS month, %(now)s::timestamptz AS now,
        ARRAY[%(brand_daily)s::numeric, %(brand_monthly)s::numeric,
              %(budget_daily)s::numeric, %(budget_monthly)s::numeric] AS caps,
        ARRAY[%(day_current)s::boolean, %(month_current)s::boolean] AS current,
        %(timezone)s::varchar AS timezone, %(alone)s::boolean AS alone
), brand AS (
    SELECT b.timezone = p.timezone AND b.daily_budget = p.caps[1]
           AND b.monthly_budget = p.caps[2] AS unchanged
    FROM budgets_brand b, p WHERE b.id = p.brand
    FOR SHARE OF b
), periods AS (
    SELECT 'day' AS period, p.day AS start, p.current[1] AS is_current FROM p
    UNION ALL SELECT 'month', p.month, p.current[2] FROM p
), o AS (
    -- The capped rows, locked (and their newest totals read) by a function:
    -- see migration spend 0008 for why not by a locking CTE of this statement.
    SELECT l.scope, l.period, l.start, l.amount, l.alerted,
        p.current[CASE l.period WHEN 'day' THEN 1 ELSE 2 END] AS is_current,
        p.caps[CASE l.scope WHEN 'brand' THEN 0 ELSE 2 END
               + CASE l.period WHEN 'day' THEN 1 ELSE 2 END] AS cap
    FROM p, brand, LATERAL spend_rollups_lock(p.brand, p.budget, p.day, p.month, brand.unchanged) l
), s AS (
    SELECT c.status, c.budget_hold,
        c.status = 'active'
            AND NOT EXISTS (SELECT FROM o WHERE o.is_current AND o.amount >= o.cap) AS serving,
        (SELECT count(*) FROM o) = %(expected)s::int AS complete,
        c.brand_id = p.brand AND c.budget_id IS NOT DISTINCT FROM p.budget AND NOT EXISTS (
            SELECT FROM budgets_budget g
            WHERE g.id = p.budget AND (g.daily_limit IS DISTINCT FROM p.caps[3]
                OR g.monthly_limit IS DISTINCT FROM p.caps[4])
        ) AS campaign_unchanged
    FROM campaigns_campaign c, p WHERE c.id = p.campaign
), ins AS (
    INSERT INTO spend_spendevent (campaign_id, brand_id, budget_id, kind, amount, occurred_at,
        local_date, recorded_at, source, event_id, campaign_was_serving)
    SELECT p.campaign, p.brand, p.budget, %(kind)s::varchar, p.amount,
        %(occurred_at)s::timestamptz, p.day, p.now, %(source)s::varchar, %(event_id)s::varchar,
        s.serving
    FROM p, s WHERE s.complete
    ON CONFLICT (source, event_id) DO NOTHING
    RETURNING id, campaign_was_serving AS serving
), x AS (
    SELECT o.*, o.amount + p.amount AS closing,
        CASE WHEN p.amount > 0 AND o.amount >= o.cap THEN p.amount ELSE 0 END AS over,
        (SELECT max(t) FROM unnest('{50,80,100}'::int[]) t
         WHERE t > o.alerted AND o.amount + p.amount >= o.cap * t / 100) AS reached
    FROM o, p, ins
), b AS (
    INSERT INTO spend_brandspend AS r (brand_id, period, period_start, amount, events_count,
        overspend, alerted_threshold)
    SELECT p.brand, x.period, x.start, p.amount, 1, x.over, GREATEST(x.alerted, x.reached)
    FROM x, p WHERE x.scope = 'brand'
    ON CONFLICT (brand_id, period, period_start) DO UPDATE SET
        amount = r.amount + EXCLUDED.amount, events_count = r.events_count + 1,
        overspend = r.overspend + EXCLUDED.overspend,
        alerted_threshold = EXCLUDED.alerted_threshold
), g AS (
    INSERT INTO spend_budgetspend AS r (budget_id, period, period_start, amount, events_count,
        overspend, alerted_threshold)
    SELECT p.budget, x.period, x.start, p.amount, 1, x.over, GREATEST(x.alerted, x.reached)
    FROM x, p WHERE x.scope = 'budget'
    ON CONFLICT (budget_id, period, period_start) DO UPDATE SET
        amount = r.amount + EXCLUDED.amount, events_count = r.events_count + 1,
        overspend = r.overspend + EXCLUDED.overspend,
        alerted_threshold = EXCLUDED.alerted_threshold
), c AS (
    INSERT INTO spend_campaignspend AS r (campaign_id, period, period_start, amount,
        events_count, overspend)
    SELECT p.campaign, k.period, k.start, p.amount, 1,
        CASE WHEN NOT ins.serving AND p.amount > 0 THEN p.amount ELSE 0 END
    FROM ins, p, periods k
    ON CONFLICT (campaign_id, period, period_start) DO UPDATE SET
        amount = r.amount + EXCLUDED.amount, events_count = r.events_count + 1,
        overspend = r.overspend + EXCLUDED.overspend
), a AS (
    INSERT INTO budgets_alert (brand_id, budget_id, scope, period, period_start, threshold,
        cap, spend, raised_at)
    SELECT p.brand, CASE x.scope WHEN 'budget' THEN p.budget END, x.scope, x.period,
        x.start, t, x.cap, x.closing, p.now
    FROM x, p, unnest('{50,80,100}'::int[]) t
    WHERE t > x.alerted AND x.closing >= x.cap * t / 100
    ON CONFLICT DO NOTHING
    RETURNING id
), unsettled AS (
    SELECT spend_needs_transaction('campaigns to hold or release, or brand settings changed')
    FROM p, s, ins
    WHERE p.alone AND (
        NOT (SELECT unchanged FROM brand) OR NOT s.campaign_unchanged
        OR EXISTS (SELECT FROM o WHERE o.is_current
                   AND (o.amount >= o.cap) <> (o.amount + p.amount >= o.cap))
        OR s.status = 'active'
            AND EXISTS (SELECT FROM o WHERE o.is_current AND o.amount + p.amount >= o.cap)
        OR s.budget_hold IS NOT NULL AND p.current[1] AND p.current[2]
            AND NOT EXISTS (SELECT FROM o WHERE o.amount + p.amount >= o.cap)
    )
)
SELECT s.complete, ins.id, ins.serving, s.status, s.budget_hold IS NOT NULL,
    ARRAY(SELECT concat_ws(' ', scope, period, amount, alerted) FROM o),
    ARRAY(SELECT id FROM a ORDER BY id),
    (SELECT count(*) FROM unsettled)
FROM s LEFT JOIN ins ON true
"""

NEEDS_TRANSACTION = "SPR01"  # raised by spend_needs_transaction() (migration 0004)


class NeedsTransactionError(Exception):
    """The one-statement path could not finish alone; nothing was written."""


class CampaignGoneError(Exception):
    """The campaign was deleted after it was read; nothing was written."""


@dataclass(frozen=True)
class RecordedOne:
    complete: bool
    event_pk: int | None
    campaign_was_serving: bool | None
    campaign_status: str
    budget_held: bool
    openings: dict[tuple[str, str], Opening]  # (scope, period) -> locked totals
    alert_ids: list[int]


def event_record_postgres(params: dict[str, Any]) -> RecordedOne:
    """Lock, append, upsert and raise alerts for one event, in one statement."""
    try:
        rows = sql.fetch(_RECORD_ONE_SQL, params, raw=True)
    except DatabaseError as error:
        if getattr(error.__cause__, "sqlstate", None) == NEEDS_TRANSACTION:
            raise NeedsTransactionError from error
        raise
    if not rows:  # the statement's rows all hang on the campaign's
        raise CampaignGoneError
    (row,) = rows
    complete, pk, was_serving, status, held, openings, alerts, _ = row
    return RecordedOne(
        complete=complete,
        event_pk=pk,
        campaign_was_serving=was_serving,
        campaign_status=status,
        budget_held=held,
        openings={
            (scope, period): Opening(Decimal(amount), int(level))
            for scope, period, amount, level in (opening.split(" ") for opening in openings)
        },
        alert_ids=list(alerts),
    )
