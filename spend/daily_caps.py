"""When a brand-local day reached its brand's daily cap, read from the ledger.

The instant is the `occurred_at` of the event that took the day's running
total (in `occurred_at` order, as the rollups count it) to the cap or past
it: the moment the brand stopped serving for the day under a hard cap.
"""

import datetime as dt
import statistics
from collections.abc import Collection, Sequence

from django.db.models import F, Sum, Window
from django.db.models.expressions import RowRange

from budgets.periods import zone
from spend.models import SpendEvent

BrandDay = tuple[int, dt.date]  # brand id, brand-local date


def daily_caps_reached_at(days: Collection[BrandDay]) -> dict[BrandDay, dt.datetime]:
    """The instant each of `days` reached its brand's daily cap (days that did not are left out).

    One query: the running total of each brand-day's events, kept where it
    has reached the cap; the first such event of a day is its crossing.
    """
    if not days:
        return {}
    running = Window(
        Sum("amount"),
        partition_by=[F("brand_id"), F("local_date")],
        order_by=[F("occurred_at").asc(), F("id").asc()],
        frame=RowRange(start=None, end=0),
    )
    # * the events of those brand-days at or past the cap, each day's in order
    rows = (
        SpendEvent.objects.filter(
            brand_id__in={brand for brand, _ in days}, local_date__in={day for _, day in days}
        )
        .annotate(running=running)
        .filter(running__gte=F("brand__daily_budget"))
        .order_by("brand_id", "local_date", "occurred_at", "id")
        .values_list("brand_id", "local_date", "occurred_at")
    )
    reached: dict[BrandDay, dt.datetime] = {}
    for brand_id, local_day, occurred_at in rows:
        if (brand_id, local_day) in days:
            reached.setdefault((brand_id, local_day), occurred_at)
    return reached


def median_local_time(instants: Sequence[dt.datetime], tz_name: str) -> dt.time | None:
    """The median wall-clock time of day of `instants` in the brand's zone (None if none)."""
    if not instants:
        return None
    seconds = [
        (local := instant.astimezone(zone(tz_name))).hour * 3600 + local.minute * 60 + local.second
        for instant in instants
    ]
    middle = int(statistics.median(seconds))
    return dt.time(middle // 3600, middle % 3600 // 60, middle % 60)
