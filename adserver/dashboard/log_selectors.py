"""Reads for the dashboard's logs: the spend log by keyset, alerts and status history.

Dates that filter a log are brand-local days: a spend event, alert or status
change of a brand in Tokyo "on March 10" happened on Tokyo's March 10.
Every log holds only the rows of the brands the asking user may see.
"""

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from django.db.models import Q, QuerySet

from adserver.dashboard.selectors import latest_status_changes, open_alerts
from budgets.access import AnyUser, brand_q
from budgets.models import Alert, Brand
from budgets.periods import day_start_utc
from campaigns.models import Campaign, CampaignStatusChange
from spend.models import SpendEvent


def local_days_q(
    *,
    field: str,
    tz_path: str,
    zones: Sequence[str],
    first: dt.date | None,
    last: dt.date | None,
) -> Q:
    """Instants in `field` that fall on the brand-local days first..last (inclusive).

    Zones whose days begin at the same UTC instants share one condition, so
    the OR stays as short as the number of distinct UTC offsets in use.
    """
    if first is None and last is None:
        return Q()
    zones_by_bounds: dict[tuple[dt.datetime | None, dt.datetime | None], list[str]]
    zones_by_bounds = defaultdict(list)
    for tz in zones:
        start = day_start_utc(first, tz) if first is not None else None
        end = day_start_utc(last + dt.timedelta(days=1), tz) if last is not None else None
        zones_by_bounds[(start, end)].append(tz)
    condition = Q(pk__in=[])
    for (start, end), group in sorted(
        zones_by_bounds.items(), key=lambda item: (item[0][0] or item[0][1], item[0][1])
    ):
        bounds = Q(**{f"{tz_path}__in": sorted(group)})
        if start is not None:
            bounds &= Q(**{f"{field}__gte": start})
        if end is not None:
            bounds &= Q(**{f"{field}__lt": end})
        condition |= bounds
    # The widest bounds of all zones, so that the time index can narrow the rows.
    starts = [start for start, _ in zones_by_bounds if start is not None]
    ends = [end for _, end in zones_by_bounds if end is not None]
    if starts:
        condition &= Q(**{f"{field}__gte": min(starts)})
    if ends:
        condition &= Q(**{f"{field}__lt": max(ends)})
    return condition


# ---------------------------------------------------------------- spend log


EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


@dataclass(frozen=True)
class Cursor:
    """A position in the spend log, newest first: (occurred_at, id)."""

    occurred_at: dt.datetime
    id: int

    def encode(self) -> str:
        micros = (self.occurred_at - EPOCH) // dt.timedelta(microseconds=1)
        return f"{micros}_{self.id}"

    @classmethod
    def decode(cls, value: str) -> "Cursor":
        """Raises ValueError for anything that is not a cursor this page made."""
        micros, _, pk = value.partition("_")
        if not micros.lstrip("-").isdigit() or not pk.isdigit():
            raise ValueError(value)
        return cls(EPOCH + dt.timedelta(microseconds=int(micros)), int(pk))

    @classmethod
    def of(cls, event: SpendEvent) -> "Cursor":
        return cls(event.occurred_at, event.pk)


@dataclass(frozen=True)
class SpendPage:
    events: list[SpendEvent]
    newer: Cursor | None
    older: Cursor | None


def spend_events_filtered(
    *,
    user: AnyUser | None,
    brand: Brand | None = None,
    campaign: Campaign | None = None,
    kind: str = "",
    first: dt.date | None = None,
    last: dt.date | None = None,
) -> QuerySet[SpendEvent]:
    events = SpendEvent.objects.filter(brand_q(user, brand_field="brand_id")).select_related(
        "campaign", "brand"
    )
    if brand is not None:
        events = events.filter(brand=brand)
    if campaign is not None:
        events = events.filter(campaign=campaign)
    if kind:
        events = events.filter(kind=kind)
    # local_date is exact; the wider occurred_at bounds (no zone is more than
    # a day from UTC) let the time index find the rows.
    if first is not None:
        start = dt.datetime.combine(first - dt.timedelta(days=1), dt.time.min, tzinfo=dt.UTC)
        events = events.filter(local_date__gte=first, occurred_at__gte=start)
    if last is not None:
        end = dt.datetime.combine(last + dt.timedelta(days=2), dt.time.min, tzinfo=dt.UTC)
        events = events.filter(local_date__lte=last, occurred_at__lt=end)
    return events


def _page_newer_than(events: QuerySet[SpendEvent], after: Cursor, size: int) -> SpendPage:
    """The page just newer than the cursor, newest first: one query."""
    # * the page just newer than the cursor, read oldest first, then reversed
    newer_rows = list(
        events.filter(
            Q(occurred_at__gt=after.occurred_at)
            | Q(occurred_at=after.occurred_at, id__gt=after.id),
            occurred_at__gte=after.occurred_at,
        ).order_by("occurred_at", "id")[: size + 1]
    )
    more = len(newer_rows) > size
    rows = list(reversed(newer_rows[:size]))
    return SpendPage(
        events=rows,
        newer=Cursor.of(rows[0]) if more and rows else None,
        older=Cursor.of(rows[-1]) if rows else None,
    )


def spend_page(
    events: QuerySet[SpendEvent],
    *,
    before: Cursor | None = None,
    after: Cursor | None = None,
    size: int = 50,
) -> SpendPage:
    """One page of the log, newest first, by keyset: one query, no COUNT(*).

    With a million events an OFFSET page or a total count would read the whole
    ledger; a cursor reads only the rows it shows (plus one to know if more).
    """
    if after is not None:
        return _page_newer_than(events, after, size)
    if before is not None:
        events = events.filter(
            Q(occurred_at__lt=before.occurred_at)
            | Q(occurred_at=before.occurred_at, id__lt=before.id),
            occurred_at__lte=before.occurred_at,
        )
    # * the page, newest first, one row more than shown
    rows = list(events.order_by("-occurred_at", "-id")[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    return SpendPage(
        events=rows,
        newer=Cursor.of(rows[0]) if before is not None and rows else None,
        older=Cursor.of(rows[-1]) if more else None,
    )


# ---------------------------------------------------------------- alerts, history


def alerts_list(
    *,
    user: AnyUser | None,
    todays: dict[str, dt.date],
    brand: Brand | None = None,
    period: str = "",
    threshold: int | None = None,
    state: str = "",
    first: dt.date | None = None,
    last: dt.date | None = None,
) -> QuerySet[Alert]:
    """Alerts newest first; `state` is "open" (current period, not acknowledged),
    "acknowledged" or "" (all); first..last are brand-local days of raised_at."""
    alerts = (
        open_alerts(todays, user=user)
        if state == "open"
        else Alert.objects.filter(brand_q(user, brand_field="brand_id")).select_related(
            "brand", "budget", "acknowledged_by"
        )
    )
    if state == "acknowledged":
        alerts = alerts.filter(acknowledged_at__isnull=False)
    if brand is not None:
        alerts = alerts.filter(brand=brand)
    if period:
        alerts = alerts.filter(period=period)
    if threshold is not None:
        alerts = alerts.filter(threshold=threshold)
    zones = [brand.timezone] if brand is not None else sorted(todays)
    alerts = alerts.filter(
        local_days_q(
            field="raised_at", tz_path="brand__timezone", zones=zones, first=first, last=last
        )
    )
    return alerts.order_by("-raised_at", "-id")


def status_changes_list(
    *,
    user: AnyUser | None,
    zones: Sequence[str],
    brand: Brand | None = None,
    campaign: Campaign | None = None,
    status: str = "",
    reason: str = "",
    actor: str = "",
    first: dt.date | None = None,
    last: dt.date | None = None,
) -> QuerySet[CampaignStatusChange]:
    """Status history newest first; first..last are brand-local days of changed_at."""
    changes = latest_status_changes(user=user)
    if brand is not None:
        changes = changes.filter(campaign__brand=brand)
        zones = [brand.timezone]
    if campaign is not None:
        changes = changes.filter(campaign=campaign)
        zones = [campaign.brand.timezone]
    if status:
        changes = changes.filter(new_status=status)
    if reason:
        changes = changes.filter(new_reason=reason)
    if actor:
        changes = changes.filter(actor=actor)
    return changes.filter(
        local_days_q(
            field="changed_at",
            tz_path="campaign__brand__timezone",
            zones=zones,
            first=first,
            last=last,
        )
    )
