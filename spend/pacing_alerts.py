"""Pacing alerts: a brand's month found under or over pace, raised once per kind.

A beat task (`spend.tasks.pacing_alerts`) runs this a few times an hour,
apart from the minute reconcile so that its ticks keep their cost. The
status is computed in SQL for every brand (`spend.pacing.with_pacing`), and
only the brands that newly need an alert are read in full: five queries,
whatever the number of brands. The alerts go out like the cap alerts
(announced on commit by `spend.recording.alerts`, delivered by the worker
through `spend.alerts`, swept by beat if the broker was down), and the
unique key (brand, month, kind) makes a second raise a no-op.
"""

import datetime as dt
from decimal import Decimal

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from budgets.models import Alert, AlertKind, AlertScope, Brand, Period
from budgets.pacing import Pacing, PacingStatus
from spend.pacing import brand_pacing, pacing_status_q, with_pacing
from spend.recording.alerts import alerts_announce_on_commit
from spend.selectors import local_todays_by_zone

KIND_OF_STATUS: dict[str, str] = {
    PacingStatus.UNDER: AlertKind.UNDER_PACE,
    PacingStatus.OVER: AlertKind.OVER_PACE,
}
PACING_KINDS = list(KIND_OF_STATUS.values())


def _candidates(now: dt.datetime) -> list[tuple[Brand, str]]:
    """Brands under or over pace now without that month's alert of that kind: one
    query for the zones, one for the brands."""
    # * the zones brands use
    zones = local_todays_by_zone(now=now)
    brands = with_pacing(Brand.objects.filter(archived_at__isnull=True), zones, now=now)
    found = []
    for status, kind in KIND_OF_STATUS.items():
        raised = Alert.objects.filter(
            brand_id=OuterRef("pk"),
            budget__isnull=True,
            kind=kind,
            period=Period.MONTH,
            period_start=OuterRef("pacing_month"),
        )
        # * the brands of this status without this month's alert
        for brand in brands.filter(pacing_status_q(status)).filter(~Exists(raised)):
            found.append((brand, kind))
    return found


def _alert(brand: Brand, kind: str, pacing: Pacing, month: dt.date, now: dt.datetime) -> Alert:
    return Alert(
        brand=brand,
        scope=AlertScope.BRAND,
        kind=kind,
        period=Period.MONTH,
        period_start=month,
        threshold=None,
        cap=brand.monthly_budget,
        spend=brand.pacing_spend,  # type: ignore[attr-defined]
        projected=pacing.month_projected,
        cap_reached_on=pacing.month_cap_reached_on,
        raised_at=now,
    )


def pacing_alerts_raise(*, now: dt.datetime | None = None) -> list[int]:
    """Raise the pacing alerts now due; the ids of those raised (delivered on commit).

    Queries: the zones, the brands under pace and over pace without their
    alert, then (if any) their pacing figures (two), the insert, and the ids.
    """
    now = now or timezone.now()
    candidates = _candidates(now)
    if not candidates:
        return []
    # the month's figures only: today's serving windows are not read
    figures = brand_pacing([brand for brand, _ in candidates], now=now, serving=False)
    alerts = []
    for brand, kind in candidates:
        pacing = figures[brand.pk]
        if pacing is not None and KIND_OF_STATUS.get(pacing.status) == kind:
            alerts.append(_alert(brand, kind, pacing, brand.pacing_month, now))  # type: ignore[attr-defined]
    with transaction.atomic():
        # * insert, skipping any raised meanwhile (the unique key)
        Alert.objects.bulk_create(alerts, ignore_conflicts=True)
        # * the ids of those raised now
        ids = list(
            Alert.objects.filter(
                kind__in=PACING_KINDS,
                raised_at=now,
                brand_id__in=[alert.brand_id for alert in alerts],
            ).values_list("id", flat=True)
        )
        alerts_announce_on_commit(ids)
    return ids


def pacing_summary(alert: Alert) -> str:
    """ "under pace: projected 7,900 of 12,000 (66%)" or "over pace: the monthly cap
    will be reached on the 19th", with the brand and the month."""
    currency = alert.brand.currency
    month = f"{alert.period_start:%Y-%m}"
    projected = alert.projected if alert.projected is not None else alert.spend
    share = projected * 100 / alert.cap if alert.cap else Decimal(0)
    landing = f"projected {projected:,.0f} of {alert.cap:,.0f} {currency} ({share:.0f}%)"
    if alert.kind == AlertKind.UNDER_PACE:
        return f"{alert.brand.name} is under pace for {month}: {landing}"
    if alert.cap_reached_on is not None:
        day = alert.cap_reached_on.day
        return (
            f"{alert.brand.name} is over pace for {month}: "
            f"the monthly cap will be reached on the {_ordinal(day)}"
        )
    return f"{alert.brand.name} is over pace for {month}: {landing}"


def _ordinal(day: int) -> str:
    suffix = "th" if 10 <= day % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    return f"{day}{suffix}"
