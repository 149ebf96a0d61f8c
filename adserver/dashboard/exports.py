"""Every dashboard list as CSV (`?format=csv` on the list's URL).

The list's own filters and the user's access select the rows, exactly as for
the page, but every matching row is written, not one page. Money is a plain
decimal as stored (no grouping, no symbol) beside a `currency` column; times
are ISO 8601 with the brand's UTC offset; local days are `YYYY-MM-DD`.

The file is streamed: rows are read in chunks of CHUNK_ROWS and written as
they come, so a million spend events never sit in memory at once. The spend
log is read by keyset (occurred_at, id), which needs no server-side cursor
(a transaction-mode pooler has none); the other lists are far shorter and
use `iterator()`. Figures per row (current totals, campaign counts) are read
once per chunk: a fixed number of queries per chunk, never one per row.
"""

import csv
import datetime as dt
import io
from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal
from itertools import islice
from typing import Any, TypeVar

from django.db.models import Q, QuerySet
from django.http import StreamingHttpResponse
from django.utils import timezone

from adserver.dashboard.log_selectors import Cursor
from adserver.dashboard.selectors import campaign_counts, dayparts_by_campaign
from budgets.models import Alert, Brand, Budget
from budgets.periods import zone
from campaigns.models import Campaign, CampaignStatusChange, Status
from campaigns.next_serving import next_serving
from spend.models import SpendEvent
from spend.selectors import brand_current_totals, budget_current_totals, campaign_current_totals

CHUNK_ROWS = 2_000

T = TypeVar("T")
Cell = str | int | Decimal | dt.date | None


def chunks(items: Iterable[T], size: int | None = None) -> Iterator[list[T]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size or CHUNK_ROWS)):
        yield chunk


def plain(amount: Decimal | None) -> str:
    """A decimal as digits and a point, never grouped nor in exponent form."""
    return "" if amount is None else f"{amount:f}"


_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def text(value: str | None) -> str:
    """A name or note typed by a person, made inert for spreadsheets: a cell that
    starts like a formula ("=HYPERLINK(...)") is read as text (OWASP's CSV
    injection advice: a leading apostrophe)."""
    if not value:
        return ""
    return f"'{value}" if value.startswith(_FORMULA_STARTS) else value


def local_iso(instant: dt.datetime | None, tz_name: str) -> str:
    """ISO 8601 on the brand's wall clock, with its offset: 2026-03-10T21:00:00+01:00."""
    return "" if instant is None else instant.astimezone(zone(tz_name)).isoformat()


def _encode(header: Sequence[str], rows: Iterable[Sequence[Cell]]) -> Iterator[str]:
    """The CSV text, one chunk of rows per piece sent."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    for chunk in chunks(rows):
        writer.writerows(chunk)
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue()


def csv_response(
    name: str, header: Sequence[str], rows: Iterable[Sequence[Cell]]
) -> StreamingHttpResponse:
    response = StreamingHttpResponse(_encode(header, rows), content_type="text/csv; charset=utf-8")
    stamp = timezone.now().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="{name}-{stamp}.csv"'
    return response


# ---------------------------------------------------------------- brands, budgets, campaigns

BRAND_HEADER = [
    "id", "name", "timezone", "currency", "local_date",
    "daily_budget", "daily_spend", "daily_remaining", "daily_over_cap",
    "monthly_budget", "monthly_spend", "monthly_remaining", "monthly_over_cap",
    "campaigns", "paused_campaigns",
]  # fmt: skip


def brand_rows(brands: QuerySet[Brand], *, now: dt.datetime) -> Iterator[list[Cell]]:
    for chunk in chunks(brands.iterator(chunk_size=CHUNK_ROWS)):
        # * this chunk's current rollups  * its campaign counts
        totals = brand_current_totals(chunk, now=now)
        counts = campaign_counts(field="brand_id", ids=[brand.pk for brand in chunk])
        for brand in chunk:
            t = totals[brand.pk]
            count = counts.get(brand.pk)
            yield [
                brand.pk, text(brand.name), brand.timezone, brand.currency, t.today,
                plain(brand.daily_budget), plain(t.daily_spend),
                plain(t.daily_remaining), plain(t.daily_over_cap),
                plain(brand.monthly_budget), plain(t.monthly_spend),
                plain(t.monthly_remaining), plain(t.monthly_over_cap),
                count.total if count else 0, count.paused if count else 0,
            ]  # fmt: skip


BUDGET_HEADER = [
    "id", "name", "brand_id", "brand", "currency", "local_date",
    "daily_limit", "daily_spend", "monthly_limit", "monthly_spend", "campaigns",
]  # fmt: skip


def budget_rows(budgets: QuerySet[Budget], *, now: dt.datetime) -> Iterator[list[Cell]]:
    for chunk in chunks(budgets.iterator(chunk_size=CHUNK_ROWS)):
        # * this chunk's current rollups  * its campaign counts
        totals = budget_current_totals(chunk, now=now)
        counts = campaign_counts(field="budget_id", ids=[budget.pk for budget in chunk])
        for budget in chunk:
            t = totals[budget.pk]
            count = counts.get(budget.pk)
            yield [
                budget.pk, text(budget.name), budget.brand_id, text(budget.brand.name),
                budget.brand.currency, t.today,
                plain(budget.daily_limit), plain(t.daily_spend),
                plain(budget.monthly_limit), plain(t.monthly_spend),
                count.total if count else 0,
            ]  # fmt: skip


CAMPAIGN_HEADER = [
    "id", "name", "brand_id", "brand", "budget_id", "budget", "enabled", "status",
    "pause_reason", "starts_on", "ends_on", "currency", "local_date",
    "daily_spend", "monthly_spend", "serves_again_at", "serves_again",
]  # fmt: skip


def campaign_rows(campaigns: QuerySet[Campaign], *, now: dt.datetime) -> Iterator[list[Cell]]:
    for chunk in chunks(campaigns.iterator(chunk_size=CHUNK_ROWS)):
        # * this chunk's current rollups  * the dayparts of its paused campaigns
        totals = campaign_current_totals(chunk, now=now)
        parts = dayparts_by_campaign([c.pk for c in chunk if c.status != Status.ACTIVE])
        for c in chunk:
            t = totals[c.pk]
            again = next_serving(c, parts.get(c.pk, []), now=now, tz_name=c.brand.timezone)
            yield [
                c.pk, text(c.name), c.brand_id, text(c.brand.name), c.budget_id,
                text(c.budget.name if c.budget else ""), "yes" if c.enabled else "no", c.status,
                c.pause_reason or "", c.starts_on, c.ends_on, c.brand.currency, t.today,
                plain(t.daily_spend), plain(t.monthly_spend),
                local_iso(again.at, c.brand.timezone) if again else "",
                again.text if again else "",
            ]  # fmt: skip


# ---------------------------------------------------------------- logs

SPEND_HEADER = [
    "id", "occurred_at", "local_date", "recorded_at", "campaign_id", "campaign",
    "brand_id", "brand", "kind", "amount", "currency", "counted_as", "source", "event_id",
]  # fmt: skip

_SPEND_FIELDS = (
    "id", "occurred_at", "local_date", "recorded_at", "campaign_id", "campaign__name",
    "brand_id", "brand__name", "brand__timezone", "kind", "amount", "brand__currency",
    "campaign_was_serving", "source", "event_id",
)  # fmt: skip


def _spend_keyset(events: QuerySet[SpendEvent]) -> Iterator[tuple[Any, ...]]:
    """The log newest first, as the page orders it, CHUNK_ROWS rows per query."""
    rows = events.order_by("-occurred_at", "-id").values_list(*_SPEND_FIELDS)
    position: Cursor | None = None
    while True:
        page = rows
        if position is not None:
            page = rows.filter(
                Q(occurred_at__lt=position.occurred_at)
                | Q(occurred_at=position.occurred_at, id__lt=position.id),
                occurred_at__lte=position.occurred_at,
            )
        # * the next chunk of the log
        chunk = list(page[:CHUNK_ROWS])
        yield from chunk
        if len(chunk) < CHUNK_ROWS:
            return
        position = Cursor(occurred_at=chunk[-1][1], id=chunk[-1][0])


def spend_rows(events: QuerySet[SpendEvent]) -> Iterator[list[Cell]]:
    for (
        pk, occurred_at, local_day, recorded_at, campaign_id, campaign, brand_id, brand, tz,
        kind, amount, currency, was_serving, source, event_id,
    ) in _spend_keyset(events):  # fmt: skip
        yield [
            pk, local_iso(occurred_at, tz), local_day, local_iso(recorded_at, tz),
            campaign_id, text(campaign), brand_id, text(brand), kind, plain(amount), currency,
            "served" if was_serving else "overspend", text(source), text(event_id),
        ]  # fmt: skip


ALERT_HEADER = [
    "id", "raised_at", "brand_id", "brand", "budget_id", "budget", "period", "period_start",
    "threshold_percent", "spend", "cap", "currency", "acknowledged_at",
]  # fmt: skip


def alert_rows(alerts: QuerySet[Alert]) -> Iterator[list[Cell]]:
    for a in alerts.iterator(chunk_size=CHUNK_ROWS):
        tz = a.brand.timezone
        yield [
            a.pk, local_iso(a.raised_at, tz), a.brand_id, text(a.brand.name), a.budget_id,
            text(a.budget.name if a.budget else ""), a.period, a.period_start, a.threshold,
            plain(a.spend), plain(a.cap), a.brand.currency, local_iso(a.acknowledged_at, tz),
        ]  # fmt: skip


HISTORY_HEADER = [
    "id", "changed_at", "campaign_id", "campaign", "brand_id", "brand", "old_status",
    "old_reason", "new_status", "new_reason", "actor", "user", "note",
]  # fmt: skip


def history_rows(changes: QuerySet[CampaignStatusChange]) -> Iterator[list[Cell]]:
    for c in changes.iterator(chunk_size=CHUNK_ROWS):
        brand = c.campaign.brand
        by = c.user.get_username() if c.user else ""
        yield [
            c.pk, local_iso(c.changed_at, brand.timezone), c.campaign_id, text(c.campaign.name),
            brand.pk, text(brand.name), c.old_status, c.old_reason or "", c.new_status,
            c.new_reason or "", c.actor, text(by), text(c.note),
        ]  # fmt: skip
