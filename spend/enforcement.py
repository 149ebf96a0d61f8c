"""Budget enforcement: which campaigns a reached cap must hold, set-based.

`budget_holds_reconcile` computes, in one SQL statement, the budget hold every
campaign in scope should have from the caps and the rollups of each brand's
current local day and month, and returns only the campaigns whose stored hold
differs; those are written through `campaigns_set_holds` (history included).
The same function serves the immediate path (spend recording, for the brand it
just charged) and the minute tick (every brand): one rule, level-triggered.

Precedence of the hold: brand monthly, brand daily, budget monthly, budget
daily (see campaigns.models.BudgetHold).

Locking: a tick computes its differences without locks, then locks the brands
that have any (`FOR UPDATE`, in id order) and computes them again, so that a
hold set by a spend transaction that committed in between is never undone by
a stale read. Spend recording holds `FOR SHARE` on its brand for the whole
transaction (it conflicts with the tick's lock, not with other recorders,
which serialise on the rollup rows anyway) and passes `brand_locked=True`.
"""

import datetime as dt
from collections.abc import Collection
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from budgets.models import Brand
from budgets.periods import month_start
from campaigns.services import StateChange, campaigns_set_holds
from spend.selectors import local_todays_by_zone

_DESIRED_HOLDS_SQL = """
WITH zones (tz, today, month) AS (VALUES {zone_rows}),
brand_hold AS (
    SELECT b.id AS brand_id,
        CASE
            WHEN COALESCE(m.amount, 0) >= b.monthly_budget THEN 'brand_monthly_budget'
            WHEN COALESCE(d.amount, 0) >= b.daily_budget THEN 'brand_daily_budget'
        END AS hold
    FROM budgets_brand b
    JOIN zones z ON z.tz = b.timezone
    LEFT JOIN spend_brandspend d
        ON d.brand_id = b.id AND d.period = 'day' AND d.period_start = z.today
    LEFT JOIN spend_brandspend m
        ON m.brand_id = b.id AND m.period = 'month' AND m.period_start = z.month
    {brand_scope}
),
budget_hold AS (
    SELECT g.id AS budget_id,
        CASE
            WHEN g.monthly_limit IS NOT NULL AND COALESCE(m.amount, 0) >= g.monthly_limit
                THEN 'budget_monthly_limit'
            WHEN g.daily_limit IS NOT NULL AND COALESCE(d.amount, 0) >= g.daily_limit
                THEN 'budget_daily_limit'
        END AS hold
    FROM budgets_budget g
    JOIN budgets_brand b ON b.id = g.brand_id
    JOIN zones z ON z.tz = b.timezone
    LEFT JOIN spend_budgetspend d
        ON d.budget_id = g.id AND d.period = 'day' AND d.period_start = z.today
    LEFT JOIN spend_budgetspend m
        ON m.budget_id = g.id AND m.period = 'month' AND m.period_start = z.month
    WHERE g.daily_limit IS NOT NULL OR g.monthly_limit IS NOT NULL
),
desired AS (
    SELECT c.id, c.brand_id, c.budget_hold AS current, COALESCE(bh.hold, gh.hold) AS hold
    FROM campaigns_campaign c
    JOIN brand_hold bh ON bh.brand_id = c.brand_id
    LEFT JOIN budget_hold gh ON gh.budget_id = c.budget_id
)
SELECT id, brand_id, hold FROM desired WHERE current IS DISTINCT FROM hold
"""


def budget_hold_differences_query(
    *, brand_ids: Collection[int] | None, now: dt.datetime
) -> tuple[str, list[Any]] | None:
    """The statement selecting (campaign id, brand id, desired hold) for every
    campaign whose budget hold is wrong, and its parameters; None when there
    is nothing in scope. One query (the zones in use) to build it.
    """
    if brand_ids is not None and not brand_ids:
        return None
    todays = local_todays_by_zone(now=now)
    if not todays:
        return None
    params: list[Any] = []
    for tz, day in sorted(todays.items()):
        params += [tz, day, month_start(day)]
    zone_rows = ", ".join(["(%s, %s, %s)"] * len(todays))
    brand_scope = ""
    if brand_ids is not None:
        brand_scope = f"WHERE b.id IN ({', '.join(['%s'] * len(brand_ids))})"
        params += sorted(brand_ids)
    return _DESIRED_HOLDS_SQL.format(zone_rows=zone_rows, brand_scope=brand_scope), params


def _differences(
    *, brand_ids: Collection[int] | None, now: dt.datetime
) -> list[tuple[int, int, str | None]]:
    """(campaign id, brand id, desired hold) for every campaign whose hold is wrong.

    Two queries: the zones in use, then one statement over brands, budgets,
    rollups and campaigns.
    """
    query = budget_hold_differences_query(brand_ids=brand_ids, now=now)
    if query is None:
        return []
    with connection.cursor() as cursor:
        cursor.execute(*query)
        return [(row[0], row[1], row[2]) for row in cursor.fetchall()]


def budget_holds_reconcile(
    *,
    brand_ids: Collection[int] | None = None,
    now: dt.datetime | None = None,
    brand_locked: bool = False,
) -> list[StateChange]:
    """Make every campaign's budget hold match its caps; return the state changes.

    `brand_ids=None` means every brand. Running it twice changes nothing; when
    nothing needs to change it runs two queries and writes nothing.
    """
    now = now or timezone.now()
    with transaction.atomic():
        differences = _differences(brand_ids=brand_ids, now=now)
        if not differences:
            return []
        if not brand_locked:
            involved = sorted({brand_id for _, brand_id, _ in differences})
            # * lock the brands concerned, then read their differences again
            list(
                Brand.objects.select_for_update()
                .filter(id__in=involved)
                .order_by("id")
                .values_list("id", flat=True)
            )
            differences = _differences(brand_ids=involved, now=now)
        return campaigns_set_holds(
            column="budget_hold",
            desired={campaign_id: hold for campaign_id, _, hold in differences},
            note="budget reconcile",
            now=now,
        )
