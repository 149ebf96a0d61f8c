"""Send realistic spend through the recording services and report what held.

manage.py simulate_spend --minutes 10            # real time; beat and worker tick
manage.py simulate_spend --simulated-days 30     # replay the last 30 days, ticking itself
manage.py simulate_spend --simulated-days 7 --dry-run   # the same report, nothing kept

Simulated spend cannot be taken out of the ledger and its pauses are real,
so the command writes only to brands seed_demo made, unless it is told
otherwise (--brand, --write-real-data). Its alerts are kept but never sent.
"""

import datetime as dt
import json
import math
import secrets
import signal
import sys
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone

from budgets.models import Alert, Brand
from campaigns.models import CampaignStatusChange
from spend.simulation.engine import SimulationOptions, SimulationStats, Simulator
from spend.simulation.report import SimulationSummary, simulation_summary

MAX_DAYS = 366
MAX_MINUTES = 24 * 60


class ProgressBar:
    """A one-line bar on stderr, redrawn at most ten times a second."""

    def __init__(self, stream: Any, *, enabled: bool) -> None:
        self.stream = stream
        self.enabled = enabled
        self.tty = bool(getattr(stream, "isatty", lambda: False)())
        self._last_draw = 0.0
        self._last_decile = -1

    def update(self, stats: SimulationStats, fraction: float) -> None:
        if not self.enabled:
            return
        if self.tty:
            now = time.monotonic()
            if now - self._last_draw < 0.1 and fraction < 1:
                return
            self._last_draw = now
            width = 30
            filled = int(width * fraction)
            self.stream.write(
                f"\r[{'#' * filled}{'.' * (width - filled)}] {fraction:6.1%}  "
                f"{stats.simulated_until:%Y-%m-%d %H:%M} UTC  {stats.events:,} events"
            )
            self.stream.flush()
        elif int(fraction * 10) > self._last_decile:
            self._last_decile = int(fraction * 10)
            self.stream.write(f"{fraction:.0%} simulated, {stats.events:,} events\n")

    def close(self) -> None:
        if self.enabled and self.tty:
            self.stream.write("\n")


TUNING: tuple[tuple[str, type, float, str], ...] = (
    (
        "--rate",
        float,
        20.0,
        "Mean events per serving campaign per hour, before the daily curve (default 20).",
    ),
    (
        "--retry-ratio",
        float,
        0.02,
        "Share of events sent twice with the same event_id (default 0.02).",
    ),
    (
        "--late-ratio",
        float,
        0.01,
        "Share of events delivered 5 to 120 minutes late (default 0.01).",
    ),
    (
        "--tick-minutes",
        int,
        1,
        "Accelerated: simulated minutes between reconcile ticks (default 1, as beat).",
    ),
)
SWITCHES: tuple[tuple[str, str], ...] = (
    (
        "--write-real-data",
        "Write simulated spend to every brand, including brands seed_demo did not "
        "make. The spend stays in the ledger and its pauses are real.",
    ),
    (
        "--dry-run",
        "With --simulated-days: run in one transaction, print the report, then roll "
        "everything back.",
    ),
    ("--json", "Print the summary as JSON."),
    ("--no-progress", "No progress bar."),
)


def _check_tuning(options: dict[str, Any]) -> None:
    for name, low, high in (
        ("rate", 0.0, 100_000.0),
        ("retry_ratio", 0.0, 1.0),
        ("late_ratio", 0.0, 1.0),
    ):
        value = options[name]
        if math.isnan(value) or not low <= value <= high:
            flag = "--" + name.replace("_", "-")
            raise CommandError(f"{flag} must be between {low:g} and {high:g}, not {value}.")
    if options["rate"] == 0:
        raise CommandError("--rate must be greater than 0.")
    if not 1 <= options["tick_minutes"] <= 60:
        raise CommandError("--tick-minutes must be between 1 and 60.")


def _brand_ids(given: list[int] | None) -> frozenset[int] | None:
    if not given:
        return None
    brand_ids = frozenset(given)
    known = set(Brand.objects.filter(id__in=brand_ids).values_list("id", flat=True))
    if unknown := sorted(brand_ids - known):
        raise CommandError(f"Unknown brand id(s): {', '.join(map(str, unknown))}.")
    return brand_ids


def _span(options: dict[str, Any], now: dt.datetime) -> tuple[dt.datetime, dt.datetime, bool]:
    """Start, end and whether the clock is simulated (accelerated)."""
    if options["minutes"] is not None:
        minutes = options["minutes"]
        if not 0 < minutes <= MAX_MINUTES:
            raise CommandError(f"--minutes must be more than 0 and at most {MAX_MINUTES}.")
        return now, now + dt.timedelta(minutes=minutes), False
    days = options["simulated_days"]
    if not 0 < days <= MAX_DAYS:
        raise CommandError(f"--simulated-days must be more than 0 and at most {MAX_DAYS}.")
    return now - dt.timedelta(days=days), now, True


class Command(BaseCommand):
    help = (
        "Simulate ad-platform spend for the campaigns that serve, through the same services "
        "as the API, then print what was spent against each budget and any overspend."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        mode = parser.add_mutually_exclusive_group(required=True)
        mode.add_argument(
            "--minutes", type=float, help="Run in real time for M minutes (beat and worker tick)."
        )
        mode.add_argument(
            "--simulated-days",
            type=float,
            help="Replay the last N days on a simulated clock, ticking every simulated minute.",
        )
        for flag, kind, default, text in TUNING:
            parser.add_argument(flag, type=kind, default=default, help=text)
        parser.add_argument(
            "--brand",
            dest="brands",
            action="append",
            type=int,
            metavar="ID",
            help="Only this brand (repeatable). Default: every brand, if seed_demo made them all.",
        )
        for flag, text in SWITCHES:
            parser.add_argument(flag, action="store_true", help=text)
        parser.add_argument("--seed", type=int, help="Random seed, for a repeatable run.")

    def handle(self, *args: Any, **options: Any) -> None:
        sim_options = self._options(options)
        self._refuse_real_data(sim_options, write_real_data=options["write_real_data"])
        if options["dry_run"]:
            if not sim_options.accelerated:
                raise CommandError(
                    "--dry-run needs --simulated-days: in real time its open transaction would "
                    "hold the brands' locks against beat's ticks for the whole run."
                )
            with transaction.atomic():
                stats, summary = self._simulate(sim_options, options)
                transaction.set_rollback(True)
        else:
            stats, summary = self._simulate(sim_options, options)
        if options["json"]:
            self.stdout.write(json.dumps(summary.as_dict(), indent=2))
        else:
            self.stdout.write(summary.as_text())
        if stats.interrupted:
            self.stderr.write("Interrupted: the summary covers what was recorded until then.")
            sys.exit(130)

    def _simulate(
        self, sim_options: SimulationOptions, options: dict[str, Any]
    ) -> tuple[SimulationStats, SimulationSummary]:
        last_change = CampaignStatusChange.objects.order_by("-id").values_list("id", flat=True)
        last_alert = Alert.objects.order_by("-id").values_list("id", flat=True)
        after_change_id, after_alert_id = last_change.first() or 0, last_alert.first() or 0
        bar = ProgressBar(self.stderr._out, enabled=not options["no_progress"])
        simulator = Simulator(sim_options, on_progress=bar.update)
        previous = signal.signal(signal.SIGINT, lambda *_: self._stop(simulator))
        try:
            stats = simulator.run()
        finally:
            signal.signal(signal.SIGINT, previous)
        bar.close()
        summary = simulation_summary(
            stats=stats,
            options=sim_options,
            after_change_id=after_change_id,
            after_alert_id=after_alert_id,
            dry_run=options["dry_run"],
        )
        return stats, summary

    def _refuse_real_data(self, sim_options: SimulationOptions, *, write_real_data: bool) -> None:
        """Brands seed_demo did not make are written to only when asked by name or by flag."""
        if sim_options.brand_ids is not None or write_real_data:
            return
        real = Brand.objects.filter(demo=False).order_by("name")
        names = list(real.values_list("name", flat=True)[:4])
        if not names:
            return
        shown = ", ".join(names[:3]) + (", ..." if len(names) > 3 else "")
        raise CommandError(
            f"Refused: this database holds brands that seed_demo did not create ({shown}). "
            "Simulated spend cannot be taken out of the ledger, and the pauses it causes are "
            "real. Name the brands to simulate with --brand ID (repeatable), or pass "
            "--write-real-data if this database may hold simulated spend. Nothing was written."
        )

    def _stop(self, simulator: Simulator) -> None:
        if simulator.stop_requested:
            raise KeyboardInterrupt  # a second Ctrl-C: stop now
        simulator.stop_requested = True
        self.stderr.write("\nStopping after the current event (Ctrl-C again to abort)...")

    def _options(self, options: dict[str, Any]) -> SimulationOptions:
        _check_tuning(options)
        brand_ids = _brand_ids(options["brands"])
        start, end, accelerated = _span(options, timezone.now().replace(second=0, microsecond=0))
        return SimulationOptions(
            start=start,
            end=end,
            accelerated=accelerated,
            rate_per_hour=options["rate"],
            retry_ratio=options["retry_ratio"],
            late_ratio=options["late_ratio"],
            tick_minutes=options["tick_minutes"],
            seed=options["seed"],
            brand_ids=brand_ids,
            run_id=secrets.token_hex(4),
        )
