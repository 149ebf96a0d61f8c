"""Simulated ad-platform traffic, recorded through the same services as the API.

Used by `manage.py simulate_spend`. Events are generated only for campaigns
that serve at that moment, at a rate that follows a daily traffic curve in
each brand's local time, with amounts in fractions of a cent (CPM-derived),
some retries of the same `event_id` and some late deliveries.

Two clocks:
- real time: events carry the current time; beat and the worker run the
  reconcile ticks;
- accelerated: a simulated clock walks over past days and runs the reconcile
  tick itself every `tick_minutes` simulated minutes, as beat would, passing
  the simulated instant to every service.

The alerts its spend raises are kept but never sent (spend.recording.alerts.alerts_withheld).
"""

import datetime as dt
import heapq
import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal

from django.utils import timezone

from budgets.periods import zone
from campaigns.models import Campaign, Status
from spend.reconcile import reconcile
from spend.recording.alerts import alerts_withheld
from spend.senders import Sender
from spend.services import SpendArchived, SpendRecorded, spend_record

# Posts spend as an ad platform's feed does: any brand, no adjustments.
SIMULATOR = Sender(source="simulator", may_adjust=False, brand_ids=None)

# Relative traffic by brand-local hour (0-23): quiet nights, a lunch peak and
# an evening peak. Normalised so that the daily mean is 1.
_CURVE = (
    0.25, 0.15, 0.10, 0.10, 0.10, 0.15, 0.30, 0.55, 0.80, 0.95, 1.05, 1.15,
    1.25, 1.20, 1.10, 1.05, 1.05, 1.10, 1.25, 1.40, 1.45, 1.30, 0.90, 0.50,
)  # fmt: skip
TRAFFIC_CURVE = tuple(weight * len(_CURVE) / sum(_CURVE) for weight in _CURVE)
MICRO = Decimal("0.000001")
# Rough units of a currency per US dollar, so that CPMs look like the brand's
# own money (an INR campaign pays rupees, not cents). Display realism only.
CURRENCY_SCALE = {
    "INR": Decimal(80), "JPY": Decimal(150), "NOK": Decimal(10), "SEK": Decimal(10),
    "DKK": Decimal(7), "CNY": Decimal(7), "MXN": Decimal(18), "BRL": Decimal(5),
    "ZAR": Decimal(18), "KRW": Decimal(1300), "HKD": Decimal(8), "NZD": Decimal("1.6"),
    "AUD": Decimal("1.5"), "CAD": Decimal("1.4"),
}  # fmt: skip


@dataclass(frozen=True)
class SimulationOptions:
    start: dt.datetime
    end: dt.datetime
    accelerated: bool = True
    rate_per_hour: float = 20.0
    retry_ratio: float = 0.02
    late_ratio: float = 0.01
    max_late_minutes: int = 120
    tick_minutes: int = 1
    real_step_seconds: float = 2.0
    seed: int | None = None
    brand_ids: frozenset[int] | None = None
    run_id: str = ""


@dataclass
class SimulationStats:
    started_at: dt.datetime
    simulated_until: dt.datetime
    events: int = 0
    # By currency: amounts in different currencies are never added together.
    amounts: dict[str, Decimal] = field(default_factory=dict)
    retries: int = 0
    duplicates: int = 0
    late: int = 0
    ticks: int = 0
    recorded_while_paused: int = 0
    refused_archived: int = 0  # late events of a campaign archived meanwhile
    interrupted: bool = False


@dataclass(order=True)
class _Planned:
    deliver_at: dt.datetime
    sequence: int
    campaign_id: int = field(compare=False)
    brand_id: int = field(compare=False)
    amount: Decimal = field(compare=False)
    currency: str = field(compare=False)
    occurred_at: dt.datetime = field(compare=False)
    late: bool = field(compare=False, default=False)


@dataclass(frozen=True)
class _Serving:
    campaign_id: int
    brand_id: int
    timezone: str
    currency: str


class Simulator:
    """Walks a clock from `start` to `end`, generating and recording spend."""

    def __init__(
        self,
        options: SimulationOptions,
        *,
        on_progress: Callable[[SimulationStats, float], None] | None = None,
    ) -> None:
        self.options = options
        self.random = random.Random(options.seed)  # noqa: S311 - traffic, not secrets
        self.on_progress = on_progress
        self.stats = SimulationStats(started_at=options.start, simulated_until=options.start)
        self._sequence = 0
        self._late: list[_Planned] = []
        self._serving: dict[int, _Serving] = {}
        # Set from a signal handler (Ctrl-C): the run stops between two
        # events, never inside a database call.
        self.stop_requested = False

    # -- the clock -----------------------------------------------------

    def run(self) -> SimulationStats:
        with alerts_withheld():
            if self.options.accelerated:
                self._run_accelerated()
            else:
                self._run_real_time()
        # Every event is recorded in its own transaction and the run stops
        # only between two of them, so nothing is ever half-written.
        self.stats.interrupted = self.stop_requested
        return self.stats

    def _run_accelerated(self) -> None:
        step = dt.timedelta(minutes=self.options.tick_minutes)
        total = (self.options.end - self.options.start) / step
        now = self.options.start
        steps = 0
        while now < self.options.end and not self.stop_requested:
            step_end = min(now + step, self.options.end)
            reconcile(brand_ids=self.options.brand_ids, now=now)
            self.stats.ticks += 1
            self._step(now, step_end, simulated=True)
            now = step_end
            steps += 1
            self.stats.simulated_until = now
            if self.on_progress is not None:
                self.on_progress(self.stats, min(1.0, steps / max(total, 1)))

    def _run_real_time(self) -> None:
        began = time.monotonic()
        duration = (self.options.end - self.options.start).total_seconds()
        last = timezone.now()
        while not self.stop_requested:
            elapsed = time.monotonic() - began
            if elapsed >= duration:
                break
            self._sleep(min(self.options.real_step_seconds, duration - elapsed))
            now = timezone.now()
            self._step(last, now, simulated=False)
            last = now
            self.stats.simulated_until = now
            if self.on_progress is not None:
                self.on_progress(self.stats, min(1.0, (time.monotonic() - began) / duration))

    # -- one step ------------------------------------------------------

    def _step(self, start: dt.datetime, end: dt.datetime, *, simulated: bool) -> None:
        self._load_serving()
        planned = self._generate(start, end)
        while self._late and self._late[0].deliver_at < end:
            planned.append(heapq.heappop(self._late))
        planned.sort()
        for event in planned:
            if self.stop_requested:
                return
            if not event.late and event.campaign_id not in self._serving:
                continue  # it stopped serving earlier in this step
            self._deliver(event, now=event.deliver_at if simulated else None)

    def _sleep(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while not self.stop_requested and (left := deadline - time.monotonic()) > 0:
            time.sleep(min(left, 0.1))

    def _load_serving(self, brand_id: int | None = None) -> None:
        # * the campaigns serving now, with their brand's zone
        rows = Campaign.objects.filter(status=Status.ACTIVE)
        if self.options.brand_ids is not None:
            rows = rows.filter(brand_id__in=self.options.brand_ids)
        if brand_id is not None:
            rows = rows.filter(brand_id=brand_id)
            for pk in [pk for pk, s in self._serving.items() if s.brand_id == brand_id]:
                del self._serving[pk]
        else:
            self._serving.clear()
        for pk, brand, tz, currency in rows.values_list(
            "id", "brand_id", "brand__timezone", "brand__currency"
        ):
            self._serving[pk] = _Serving(pk, brand, tz, currency)

    def _generate(self, start: dt.datetime, end: dt.datetime) -> list[_Planned]:
        minutes = (end - start).total_seconds() / 60
        planned: list[_Planned] = []
        for serving in self._serving.values():
            hour = start.astimezone(zone(serving.timezone)).hour
            mean = self.options.rate_per_hour / 60 * minutes * TRAFFIC_CURVE[hour]
            for _ in range(self._poisson(mean)):
                occurred_at = start + (end - start) * self.random.random()
                event = self._plan(serving, occurred_at)
                if self.random.random() < self.options.late_ratio:
                    delay = dt.timedelta(
                        minutes=self.random.uniform(5, self.options.max_late_minutes)
                    )
                    event.deliver_at = occurred_at + delay
                    event.late = True
                    if event.deliver_at >= end:
                        heapq.heappush(self._late, event)
                        continue
                planned.append(event)
        return planned

    def _plan(self, serving: _Serving, occurred_at: dt.datetime) -> _Planned:
        self._sequence += 1
        # A CPM between 1.50 and 12.00 dollars' worth on 10 to 400 impressions:
        # fractions of a cent.
        cpm = Decimal(self.random.randint(150, 1200)) / 100
        cpm *= CURRENCY_SCALE.get(serving.currency, Decimal(1))
        impressions = self.random.randint(10, 400)
        amount = (cpm * impressions / 1000).quantize(MICRO, rounding=ROUND_HALF_EVEN)
        return _Planned(
            deliver_at=occurred_at,
            sequence=self._sequence,
            campaign_id=serving.campaign_id,
            brand_id=serving.brand_id,
            amount=amount,
            currency=serving.currency,
            occurred_at=occurred_at,
        )

    def _poisson(self, mean: float) -> int:
        # Knuth's method: exact and fast for the small means of one step.
        limit, count, product = math.exp(-mean), 0, self.random.random()
        while product > limit:
            count += 1
            product *= self.random.random()
        return count

    def _deliver(self, event: _Planned, *, now: dt.datetime | None) -> None:
        event_id = f"sim-{self.options.run_id}-{event.sequence}"
        try:
            result = self._record(event, event_id, now)
        except SpendArchived:
            self.stats.refused_archived += 1
            return
        self.stats.events += 1
        amounts = self.stats.amounts
        amounts[event.currency] = amounts.get(event.currency, Decimal(0)) + event.amount
        self.stats.late += event.late
        if self.random.random() < self.options.retry_ratio:
            # The platform did not hear our answer and sends the event again.
            self.stats.retries += 1
            replay = self._record(event, event_id, now)
            self.stats.duplicates += not replay.created
        if not result.event.campaign_was_serving:
            self.stats.recorded_while_paused += 1
        if result.campaign_status != Status.ACTIVE:
            # A cap was reached: everything under it stopped serving.
            self._load_serving(brand_id=event.brand_id)

    def _record(self, event: _Planned, event_id: str, now: dt.datetime | None) -> SpendRecorded:
        return spend_record(
            campaign_id=event.campaign_id,
            amount=event.amount,
            occurred_at=event.occurred_at,
            event_id=event_id,
            sender=SIMULATOR,
            now=now,
        )
