"""Reads of spend totals for the current brand-local day and month.

Shared by the admin, the dashboard and the API. Each function runs a constant
number of queries whatever the number of brands asked about.
"""

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.utils import timezone

from budgets.models import Brand, Period
from budgets.periods import local_date, month_start
from spend.models import BrandSpend

ZERO = Decimal("0")


@dataclass(frozen=True)
class PeriodTotals:
    today: dt.date
    daily_spend: Decimal
    monthly_spend: Decimal


def brand_current_totals(
    brands: Sequence[Brand], *, now: dt.datetime | None = None
) -> dict[int, PeriodTotals]:
    """Each brand's spend for its own local today and this month: one query."""
    now = now or timezone.now()
    todays = {brand.pk: local_date(now, brand.timezone) for brand in brands}
    if not todays:
        return {}
    keys = set(todays.values()) | {month_start(day) for day in todays.values()}
    # * the day and month rollups of these brands for the (at most three) local
    #   todays and their month starts
    rows = BrandSpend.objects.filter(brand_id__in=list(todays), period_start__in=keys).values_list(
        "brand_id", "period", "period_start", "amount"
    )
    found = {(brand_id, period, start): amount for brand_id, period, start, amount in rows}
    return {
        pk: PeriodTotals(
            today=day,
            daily_spend=found.get((pk, Period.DAY, day), ZERO),
            monthly_spend=found.get((pk, Period.MONTH, month_start(day)), ZERO),
        )
        for pk, day in todays.items()
    }
