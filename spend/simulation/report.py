"""The summary of a simulate_spend run: what was sent, what the ledger holds,
each brand's spend against its caps per local day and month, the pauses and
resumes it caused, the alerts it raised (never sent), and overspend (spend
recorded after a cap was reached). Money is totalled per currency.
"""

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field, replace
from decimal import Decimal
from typing import Any

from django.db.models import Count, Sum

from budgets.models import Alert, Period
from budgets.pacing import month_clock, project_month
from budgets.periods import day_bounds_utc, local_date, month_start, next_month_start
from campaigns.models import CampaignStatusChange, PauseReason, Status
from spend.daily_caps import daily_caps_reached_at, median_local_time
from spend.models import BrandSpend, SpendEvent
from spend.recording.validation import AMOUNT_QUANTUM
from spend.simulation.engine import SimulationOptions, SimulationStats

ZERO = Decimal("0")


@dataclass(frozen=True)
class BrandPeriod:
    brand_id: int
    brand: str
    currency: str
    timezone: str
    period: str
    period_start: dt.date
    spend: Decimal
    cap: Decimal
    overspend: Decimal
    events: int

    @property
    def utilisation(self) -> Decimal:
        return (self.spend / self.cap * 100).quantize(Decimal("0.1"))

    @property
    def capped(self) -> bool:
        return self.spend >= self.cap


@dataclass(frozen=True)
class BrandDailyCaps:
    """How often a brand's day reached its daily cap in the run, and when (local time)."""

    brand_id: int
    brand: str
    timezone: str
    days: int  # brand-local days the run covered, in part or whole
    days_capped: int
    median_capped_at: str | None  # "HH:MM" brand-local, over the capped days
    # The pacing projection made as local day 10 began (budgets.pacing) less
    # the month's actual total, for the last month the run covered from day
    # 10 to its end (None when it covered none): positive means it overshot.
    month_projection_error: Decimal | None = None
    month_projected: str | None = None  # that month, "YYYY-MM"


EXPLANATION = (
    "Used: the spend of a brand-local day or month as a percentage of the cap. "
    "Overspend: spend that arrived once the cap was already reached (late, or "
    "in flight when the campaigns paused); it is money spent upstream and is "
    "counted in the spend too."
)


@dataclass(frozen=True)
class SimulationSummary:
    mode: str
    dry_run: bool
    start: dt.datetime
    end: dt.datetime
    simulated_until: dt.datetime
    interrupted: bool
    ticks: int
    events_sent: int
    # Money is kept by currency: amounts of different currencies are never added.
    amount_sent: dict[str, Decimal]
    retries: int
    duplicates: int
    late: int
    recorded_while_paused: int
    ledger_events: int
    ledger_amount: dict[str, Decimal]
    pauses: dict[str, int]  # by pause reason code
    resumes: int
    alerts_withheld: int
    periods: list[BrandPeriod] = field(default_factory=list)
    daily_caps: list[BrandDailyCaps] = field(default_factory=list)

    @property
    def overspend(self) -> dict[str, Decimal]:
        """The brands' daily overspend, by currency."""
        totals: dict[str, Decimal] = {}
        for p in self.periods:
            if p.period == Period.DAY:
                totals[p.currency] = totals.get(p.currency, ZERO) + p.overspend
        return totals

    @property
    def currencies(self) -> list[str]:
        return sorted({*self.amount_sent, *self.ledger_amount, *self.overspend})

    def pauses_by_label(self) -> dict[str, int]:
        return {_reason_label(code): count for code, count in sorted(self.pauses.items())}

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["overspend"] = self.overspend
        data["pauses_by_label"] = self.pauses_by_label()
        data["explanation"] = EXPLANATION
        for row, period in zip(data["periods"], self.periods, strict=True):
            row["utilisation_percent"] = period.utilisation
            row["capped"] = period.capped
        jsonable: dict[str, Any] = _jsonable(data)
        return jsonable

    def as_text(self) -> str:
        lines = [
            f"Simulated {self.start:%Y-%m-%d %H:%M} -> {self.simulated_until:%Y-%m-%d %H:%M} UTC "
            f"({self.mode}{', interrupted' if self.interrupted else ''}; {self.ticks:,} ticks)",
        ]
        if self.dry_run:
            lines.append("Dry run: all of this was rolled back; the database is unchanged.")
        lines += [*self._counts_text(), "", *self._currencies_text(), "", *self._periods_text()]
        lines += ["", *_daily_caps_text(self.daily_caps), "", EXPLANATION]
        return "\n".join(lines) + "\n"

    def _counts_text(self) -> list[str]:
        pauses = ", ".join(f"{label} {n:,}" for label, n in self.pauses_by_label().items())
        return [
            f"Events recorded     {self.events_sent:>10,}   in the ledger {self.ledger_events:,}",
            f"Retries sent        {self.retries:>10,}   acknowledged as duplicates "
            f"{self.duplicates:,}",
            f"Late deliveries     {self.late:>10,}   recorded while paused "
            f"{self.recorded_while_paused:,}",
            f"Pauses              {pauses or 'none'}",
            f"Resumes             {self.resumes:>10,}",
            f"Alerts raised       {self.alerts_withheld:>10,}   not sent (simulated spend)",
        ]

    def _currencies_text(self) -> list[str]:
        return [
            f"{'Currency':<8} {'Sent':>18} {'In the ledger':>18} {'Overspend (days)':>18}",
            *(
                f"{currency:<8} {self.amount_sent.get(currency, ZERO):>18,.2f} "
                f"{self.ledger_amount.get(currency, ZERO):>18,.2f} "
                f"{self.overspend.get(currency, ZERO):>18,.2f}"
                for currency in self.currencies
            ),
        ]

    def _periods_text(self) -> list[str]:
        lines = [
            f"{'Brand':<28} {'Period':<6} {'Start':<10} {'Spend':>16} {'Cap':>14} "
            f"{'Used':>7} {'Overspend':>12}",
        ]
        days = [p for p in self.periods if p.period == Period.DAY]
        for p in self.periods:
            if p.period == Period.MONTH or p.capped:
                lines.append(
                    f"{p.brand[:28]:<28} {Period(p.period).label:<6} {p.period_start:%Y-%m-%d} "
                    f"{p.spend:>12,.2f} {p.currency} {p.cap:>10,.2f} {p.currency} "
                    f"{p.utilisation:>6}% {p.overspend:>12,.2f}"
                )
        if hidden := len(days) - sum(1 for p in days if p.capped):
            lines.append(f"(and {hidden:,} brand-days under their cap; --json lists every period)")
        return lines


def _daily_caps_text(rows: list[BrandDailyCaps]) -> list[str]:
    lines = [f"{'Brand':<28} {'Days at the daily cap':>22} {'Median time reached':>20}"]
    for row in rows:
        lines.append(
            f"{row.brand[:28]:<28} {f'{row.days_capped} of {row.days}':>22} "
            f"{row.median_capped_at or '-':>20}"
            + (
                f"  month {row.month_projected} projected on day 10 "
                f"{row.month_projection_error:+,.2f} off"
                if row.month_projection_error is not None
                else ""
            )
        )
    return lines


def _reason_label(code: str) -> str:
    if code in PauseReason.values:
        return str(PauseReason(code).label)
    return code or "Paused"


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _jsonable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_jsonable(item) for item in value]
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value


def simulation_summary(
    *,
    stats: SimulationStats,
    options: SimulationOptions,
    after_change_id: int,
    after_alert_id: int = 0,
    dry_run: bool = False,
) -> SimulationSummary:
    """Six queries: the run's ledger, the status changes, its alerts, the brand periods,
    and when the capped days reached their cap."""
    ledger_events, ledger_amount = _ledger_of_run(options.run_id)
    pauses, resumes = _pauses_and_resumes(after_change_id, options.brand_ids)
    # * the alerts its spend raised (kept, not sent)
    withheld = Alert.objects.filter(id__gt=after_alert_id, simulated=True).count()
    periods = _brand_periods(options, stats.simulated_until)
    return SimulationSummary(
        mode="accelerated" if options.accelerated else "real time",
        dry_run=dry_run,
        start=options.start,
        end=options.end,
        simulated_until=stats.simulated_until,
        interrupted=stats.interrupted,
        ticks=stats.ticks,
        events_sent=stats.events,
        amount_sent=dict(stats.amounts),
        retries=stats.retries,
        duplicates=stats.duplicates,
        late=stats.late,
        recorded_while_paused=stats.recorded_while_paused,
        ledger_events=ledger_events,
        ledger_amount=ledger_amount,
        pauses=pauses,
        resumes=resumes,
        alerts_withheld=withheld,
        periods=periods,
        daily_caps=_brand_days(periods, options.start, stats.simulated_until),
    )


def _brand_days(
    periods: list[BrandPeriod], start: dt.datetime, until: dt.datetime
) -> list[BrandDailyCaps]:
    return _with_projection_errors(_daily_caps(periods, start, until), periods, start, until)


def _ledger_of_run(run_id: str) -> tuple[int, dict[str, Decimal]]:
    """The run's events in the ledger, and their amount by currency: one query."""
    # * the ledger rows of this run, by currency
    ledger = (
        SpendEvent.objects.filter(event_id__startswith=f"sim-{run_id}-")
        .order_by()
        .values_list("brand__currency")
        .annotate(events=Count("id"), amount=Sum("amount"))
    )
    ledger_events = 0
    ledger_amount: dict[str, Decimal] = {}
    for currency, events, amount in ledger.values_list("brand__currency", "events", "amount"):
        ledger_events += events
        # SQLite (the embedded default) sums decimals as floating point: the
        # ledger's amounts have 6 places, so its total is exact at 6 places.
        ledger_amount[currency] = (amount or ZERO).quantize(AMOUNT_QUANTUM)
    return ledger_events, ledger_amount


def _pauses_and_resumes(
    after_change_id: int, brand_ids: frozenset[int] | None
) -> tuple[dict[str, int], int]:
    """The pauses (by reason code) and resumes made while it ran: one query."""
    # * the status changes made while it ran
    changes = CampaignStatusChange.objects.filter(id__gt=after_change_id)
    if brand_ids is not None:
        changes = changes.filter(campaign__brand_id__in=brand_ids)
    pauses: Counter[str] = Counter()
    resumes = 0
    for status, reason, count in (
        changes.order_by()
        .values_list("new_status", "new_reason")
        .annotate(n=Count("id"))
        .values_list("new_status", "new_reason", "n")
    ):
        if status == Status.ACTIVE:
            resumes += count
        else:
            pauses[reason or ""] += count
    return dict(pauses), resumes


def _daily_caps(
    periods: list[BrandPeriod], start: dt.datetime, until: dt.datetime
) -> list[BrandDailyCaps]:
    """Per brand with spend in the run: its days at the daily cap and their median local time."""
    days = [p for p in periods if p.period == Period.DAY]
    reached = daily_caps_reached_at({(p.brand_id, p.period_start) for p in days if p.capped})
    rows = []
    for brand_id in dict.fromkeys(p.brand_id for p in days):
        first = next(p for p in days if p.brand_id == brand_id)
        instants = [at for (owner, _), at in sorted(reached.items()) if owner == brand_id]
        median = median_local_time(instants, first.timezone)
        span = local_date(until - dt.timedelta(microseconds=1), first.timezone) - local_date(
            start, first.timezone
        )
        rows.append(
            BrandDailyCaps(
                brand_id=brand_id,
                brand=first.brand,
                timezone=first.timezone,
                days=span.days + 1,
                days_capped=len(instants),
                median_capped_at=None if median is None else f"{median:%H:%M}",
            )
        )
    return rows


PROJECTED_ON_DAY = 10


def _projection_error(
    month: BrandPeriod, days: list[BrandPeriod], start: dt.datetime, until: dt.datetime
) -> Decimal | None:
    """The month's projection as its local day 10 began, less its actual total;
    None unless the run covered that instant and the month's last moment."""
    day_ten = month.period_start.replace(day=PROJECTED_ON_DAY)
    projected_at = day_bounds_utc(day_ten, month.timezone)[0]
    ends_at = day_bounds_utc(next_month_start(month.period_start), month.timezone)[0]
    if not start <= projected_at < ends_at <= until:
        return None
    before = {p.period_start: p.spend for p in days if p.period_start < day_ten}
    # Days 10 onwards all lie in the run; what came earlier is the month's rest.
    to_date = month.spend - sum((p.spend for p in days if p.period_start >= day_ten), ZERO)
    projection = project_month(
        month.cap, to_date, before, month_clock(projected_at, month.timezone)
    )
    return projection.projected - month.spend


def _with_projection_errors(
    rows: list[BrandDailyCaps], periods: list[BrandPeriod], start: dt.datetime, until: dt.datetime
) -> list[BrandDailyCaps]:
    """Each brand's row with the error of its last month covered from day 10 to its end."""
    months: dict[int, list[BrandPeriod]] = defaultdict(list)
    days: dict[tuple[int, dt.date], list[BrandPeriod]] = defaultdict(list)
    for p in periods:
        if p.period == Period.MONTH:
            months[p.brand_id].append(p)
        else:
            days[(p.brand_id, month_start(p.period_start))].append(p)
    found = []
    for row in rows:
        for month in reversed(months[row.brand_id]):
            error = _projection_error(month, days[(row.brand_id, month.period_start)], start, until)
            if error is not None:
                row = replace(
                    row, month_projection_error=error, month_projected=f"{month.period_start:%Y-%m}"
                )
                break
        found.append(row)
    return found


def _brand_periods(options: SimulationOptions, until: dt.datetime) -> list[BrandPeriod]:
    # Local dates reach at most a day either side of the UTC ones.
    first = local_date(options.start, "UTC") - dt.timedelta(days=1)
    last = local_date(until, "UTC") + dt.timedelta(days=1)
    # * the brands' day and month rollups over the simulated span
    rows = (
        BrandSpend.objects.select_related("brand")
        .filter(period_start__gte=month_start(first), period_start__lte=last)
        .order_by("brand__name", "-period", "period_start")
    )
    if options.brand_ids is not None:
        rows = rows.filter(brand_id__in=options.brand_ids)
    periods = []
    for row in rows:
        brand = row.brand
        start_day = local_date(options.start, brand.timezone)
        end_day = local_date(until, brand.timezone)
        key_first = start_day if row.period == Period.DAY else month_start(start_day)
        if not key_first <= row.period_start <= end_day:
            continue
        periods.append(
            BrandPeriod(
                brand_id=brand.pk,
                brand=brand.name,
                currency=brand.currency,
                timezone=brand.timezone,
                period=row.period,
                period_start=row.period_start,
                spend=row.amount,
                cap=brand.daily_budget if row.period == Period.DAY else brand.monthly_budget,
                overspend=row.overspend,
                events=row.events_count,
            )
        )
    return periods
