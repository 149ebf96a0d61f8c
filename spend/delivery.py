"""Standard delivery: today's spend may not run ahead of the even-delivery allowance.

A brand with `delivery = "standard"` has, at every instant of its local day,
an allowance: its daily budget times the share of today's serving time that
has passed (`campaigns.serving_time`: the union of its campaigns' windows,
the whole day if one of them has no daypart), plus a tolerance
(`settings.BRAND_DELIVERY_TOLERANCE`, a share of the daily budget, 5% by
default). When today's spend goes above it, the pacing part of the
reconcile holds the brand's campaigns (`pacing_hold = "brand_daily_pacing"`),
and it releases them once the spend has caught up with the even line (the
allowance without the tolerance). Releasing at the allowance itself would
hold and release a brand whose traffic outruns the even line at nearly
every tick, and fill the status history; with the tolerance as the gap
between the two, a brand serves and waits in stretches of about 5% of its
serving time. Like the other parts it is level-triggered: the hold is a
function of the facts (its own among them) and the clock, computed in one
statement for every brand, and only differences are written.

The hard caps are not this module's business: spend recording stops a
brand at its cap in the transaction that reaches it (`spend.enforcement`),
whatever its delivery. The pacing hold is set by the minute tick, so a brand
may go past the allowance by up to a minute's spend before it is held. An
accelerated brand never gets the hold, nor a standard brand whose campaigns
have no serving time today.
"""

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import connection
from django.utils import timezone

from budgets.models import Brand, Delivery
from campaigns.models import PacingHold
from campaigns.serving_time import ServingDay, serving_day, serving_windows_sql, zone_values

Query = tuple[str, list[Any]]

_ALLOWANCE_SQL = """
WITH zones (tz, today, day_bit, previous_day_bit, elapsed, gap_start, gap_end, shift)
    AS (VALUES {zone_rows}),
paced AS (
    SELECT b.id AS brand_id, b.daily_budget, COALESCE(s.amount, 0) AS spent, z.today,
        z.day_bit, z.previous_day_bit, z.elapsed, z.gap_start, z.gap_end, z.shift,
        EXISTS (SELECT 1 FROM campaigns_campaign h
                WHERE h.brand_id = b.id AND h.pacing_hold IS NOT NULL) AS held
    FROM budgets_brand b
    JOIN zones z ON z.tz = b.timezone
    LEFT JOIN spend_brandspend s
        ON s.brand_id = b.id AND s.period = 'day' AND s.period_start = z.today
    WHERE b.delivery = %s {brand_scope}
),
candidates AS (SELECT * FROM paced WHERE {candidate}),
{serving},
even AS (
    SELECT k.brand_id, k.spent, k.held, s.total, s.passed,
        k.daily_budget * s.passed / (s.total * 1.0) AS even_line, k.daily_budget * %s AS tolerance
    FROM candidates k
    JOIN serving s ON s.brand_id = k.brand_id
    WHERE s.total > 0
),
allowance AS (SELECT even.*, even_line + tolerance AS allowance FROM even)"""

# The campaigns of brands ahead of their allowance without the hold, and the
# campaigns with the hold whose brand is not ahead (any more, or at all).
_DIFFERENCES_SQL = """{allowance},
ahead AS (
    SELECT brand_id FROM allowance
    WHERE spent > allowance OR (held AND spent > even_line)
)
SELECT c.id, c.brand_id, %s AS hold
FROM ahead a
JOIN campaigns_campaign c ON c.brand_id = a.brand_id
WHERE c.pacing_hold IS NULL
UNION ALL
SELECT c.id, c.brand_id, NULL
FROM campaigns_campaign c
WHERE c.pacing_hold IS NOT NULL {campaign_scope}
    AND c.brand_id NOT IN (SELECT brand_id FROM ahead)
"""


def tolerance() -> Decimal:
    """The share of the daily budget that spend may run ahead of the even line."""
    return Decimal(settings.BRAND_DELIVERY_TOLERANCE)


def serving_days(*, brand_ids: Collection[int] | None, now: dt.datetime) -> list[ServingDay]:
    """The local day of every time zone used by the brands in scope: one query."""
    brands = Brand.objects.order_by()
    if brand_ids is not None:
        brands = brands.filter(id__in=sorted(brand_ids))
    # * the distinct time zones of the brands in scope (a few hundred at most)
    zones = sorted(brands.values_list("timezone", flat=True).distinct())
    return [serving_day(now, tz) for tz in zones]


def _scope(column: str, brand_ids: Collection[int] | None) -> tuple[str, list[Any]]:
    if brand_ids is None:
        return "", []
    return f"AND {column} IN ({', '.join(['%s'] * len(brand_ids))})", sorted(brand_ids)


def _allowance_query(
    *, brand_ids: Collection[int] | None, now: dt.datetime, only_ahead_possible: bool
) -> Query | None:
    """The allowance CTEs for the standard brands in scope; None when there are none.

    `only_ahead_possible` keeps the brands that are held, or whose spend is
    above the tolerance (the least the allowance can be), so that the tick
    reads the windows of those brands only.
    """
    if brand_ids is not None and not brand_ids:
        return None
    days = serving_days(brand_ids=brand_ids, now=now)
    if not days:
        return None
    zone_rows, params = zone_values(days)
    brand_scope, scope_params = _scope("b.id", brand_ids)
    candidate = "held OR spent > daily_budget * %s" if only_ahead_possible else "TRUE"
    sql = _ALLOWANCE_SQL.format(
        zone_rows=zone_rows,
        brand_scope=brand_scope,
        candidate=candidate,
        serving=serving_windows_sql("candidates"),
    )
    params += [Delivery.STANDARD.value, *scope_params]
    params += [tolerance()] if only_ahead_possible else []
    return sql, [*params, tolerance()]


def pacing_hold_differences_query(
    *, brand_ids: Collection[int] | None, now: dt.datetime
) -> Query | None:
    """The statement selecting (campaign id, brand id, desired pacing hold) for every
    campaign whose pacing hold is wrong, and its parameters; None when there is
    nothing in scope. One query (the zones in scope) to build it.
    """
    allowance = _allowance_query(brand_ids=brand_ids, now=now, only_ahead_possible=True)
    if allowance is None:
        return None
    allowance_sql, params = allowance
    campaign_scope, scope_params = _scope("c.brand_id", brand_ids)
    sql = _DIFFERENCES_SQL.format(allowance=allowance_sql, campaign_scope=campaign_scope)
    return sql, [*params, PacingHold.BRAND_DAILY_PACING.value, *scope_params]


@dataclass(frozen=True)
class Allowance:
    """Where a standard brand stands against its even-delivery allowance now."""

    brand_id: int
    spent: Decimal
    serving_seconds: int  # today's serving time, real seconds
    passed_seconds: int  # how much of it has gone by
    even_line: Decimal  # the daily budget's share of it
    allowance: Decimal  # the even line plus the tolerance
    held: bool  # its campaigns are held for pacing now

    @property
    def holds(self) -> bool:
        """Whether the reconcile holds (or keeps holding) the brand's campaigns."""
        return self.spent > self.allowance or (self.held and self.spent > self.even_line)


def brand_allowances(
    *, brand_ids: Collection[int] | None = None, now: dt.datetime | None = None
) -> dict[int, Allowance]:
    """Every standard brand in scope that has serving time today: two queries.

    The same statement as the reconcile's, for pages and reports.
    """
    query = _allowance_query(
        brand_ids=brand_ids, now=now or timezone.now(), only_ahead_possible=False
    )
    if query is None:
        return {}
    sql, params = query
    six_places = Decimal("0.000001")
    # * each standard brand's spend, serving time and allowance today
    with connection.cursor() as cursor:
        select = "SELECT brand_id, spent, total, passed, even_line, allowance, held FROM allowance"
        cursor.execute(f"{sql} {select}", params)
        rows = cursor.fetchall()
    return {
        row[0]: Allowance(
            brand_id=row[0],
            spent=Decimal(str(row[1])),
            serving_seconds=int(row[2]),
            passed_seconds=int(row[3]),
            even_line=Decimal(str(row[4])).quantize(six_places),
            allowance=Decimal(str(row[5])).quantize(six_places),
            held=bool(row[6]),
        )
        for row in rows
    }
