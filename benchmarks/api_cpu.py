"""CPU per spend request in one process: Django's WSGI handler, no server, no sockets.

    .venv/bin/python benchmarks/api_cpu.py [--requests 3000] [--profile single|batch]
        [--poster superuser|manager]
    .venv/bin/python benchmarks/api_cpu.py --compare OTHER_CHECKOUT [--rounds 30]
    .venv/bin/python benchmarks/api_cpu.py --compare OTHER_CHECKOUT --instructions

Calls the WSGI application the way gunicorn does (all middleware, DEBUG
off, token authentication, the throttle) and reads time.process_time()
around each call, for:

- POST /api/spend/ and POST /api/spend/batch/ (1,000 events), in full;
- the same with spend_record / spend_record_batch replaced by canned
  answers: what the HTTP layer alone costs (parsing, checks, answer);
- spend_record / spend_record_batch called directly.

Process CPU time is much steadier than throughput on a shared machine, so
this is the measure to iterate with; benchmarks/api_spend.py gives the
figures under load. --profile prints cProfile's top functions for the HTTP
layer of one scenario. Uses the database of api_spend.py (recreated).

--compare measures this checkout against another (a git worktree of an
older commit, with its own .venv link) in pairs: two processes, one per
checkout, each on its own database (adserver_cpu_this, adserver_cpu_other,
recreated), take turns at short blocks of full POST /api/spend/ and
POST /api/spend/batch/ requests, the order swapped every round. A block's
cost is the CPU of the process and of its PostgreSQL backend (read from
/proc) per request. The CPU a machine gives a process drifts by 10-20%
within minutes when it is shared; blocks a second apart see the same
drift, so the median of the per-round ratios is the fair figure.

--instructions counts instead of timing: each checkout in turn runs under
valgrind's callgrind, which counts the instructions the Python process
executes (not PostgreSQL's), switched on only around 300 full POST
/api/spend/, 300 spend_record calls, and 10 batches of 1,000 events
through POST /api/spend/batch/ and through spend_record_batch, after
warming up. The counts repeat to within a fraction of a
percent whatever else the machine is doing, so a change of 1% is visible;
they say nothing of the database's share or of waiting.
"""

import argparse
import cProfile
import io
import json
import os
import pstats
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import api_spend  # the benchmark's set-up, next to this file

BATCH = api_spend.BATCH_SIZE
# Requests per block in --compare: about half a second of CPU each.
BLOCK = {"single": 300, "batch": 12}


def _measure(calls: list[Callable[[], object]]) -> tuple[float, float]:
    """Median and 10th percentile of CPU ms per call, after three warm-up calls."""
    for call in calls[:3]:
        call()
    cpu = []
    for call in calls[3:]:
        began = time.process_time()
        call()
        cpu.append((time.process_time() - began) * 1000)
    cpu.sort()
    return statistics.median(cpu), cpu[len(cpu) // 10]


@dataclass
class Rig:
    """The WSGI application of a seeded benchmark database, and requests to it."""

    app: Any
    token: str
    campaigns: list[int]
    counter: Any

    def event(self, i: int = 0) -> dict[str, Any]:
        n = next(self.counter)
        return {
            "campaign": self.campaigns[(n * 7919 + i * 104729) % len(self.campaigns)],
            "amount": f"{n % 97 + 1}.{(n * 31 + i) % 100:02d}",
            "event_id": f"cpu-{time.time_ns()}-{n}",
        }

    def post(self, path: str, body: bytes, expect: str) -> Callable[[], object]:
        def call() -> object:
            environ = {
                "REQUEST_METHOD": "POST",
                "PATH_INFO": path,
                "SCRIPT_NAME": "",
                "QUERY_STRING": "",
                "SERVER_NAME": api_spend.HOST,
                "SERVER_PORT": "80",
                "SERVER_PROTOCOL": "HTTP/1.1",
                "HTTP_HOST": api_spend.HOST,
                "HTTP_AUTHORIZATION": f"Token {self.token}",
                "CONTENT_TYPE": "application/json",
                "CONTENT_LENGTH": str(len(body)),
                "REMOTE_ADDR": "127.0.0.1",
                "wsgi.input": io.BytesIO(body),
                "wsgi.url_scheme": "http",
                "wsgi.errors": sys.stderr,
                "wsgi.multithread": True,
                "wsgi.multiprocess": True,
                "wsgi.run_once": False,
            }
            status: list[str] = []
            answer = b"".join(self.app(environ, lambda s, h, e=None: status.append(s)))
            if not status[0].startswith(expect):
                raise RuntimeError(f"{path}: {status[0]} {answer[:300]!r}")
            return answer

        return call

    def singles(self, count: int) -> list[Callable[[], object]]:
        return [
            self.post("/api/spend/", json.dumps(self.event()).encode(), "201")
            for _ in range(count + 3)
        ]

    def batches(self, count: int) -> list[Callable[[], object]]:
        return [
            self.post(
                "/api/spend/batch/",
                json.dumps({"events": [self.event(i) for i in range(BATCH)]}).encode(),
                "201",
            )
            for _ in range(count + 3)
        ]

    def direct_singles(self, count: int) -> list[Callable[[], object]]:
        """spend_record called in-process, no HTTP."""
        from spend.services import spend_record

        def call(e: dict[str, Any]) -> Callable[[], object]:
            return lambda: spend_record(
                campaign_id=e["campaign"], amount=Decimal(e["amount"]), event_id=e["event_id"]
            )

        return [call(self.event()) for _ in range(count + 3)]

    def direct_batches(self, count: int) -> list[Callable[[], object]]:
        """spend_record_batch called in-process, no HTTP."""
        from spend.services import SpendInput, spend_record_batch

        def call(es: list[dict[str, Any]]) -> Callable[[], object]:
            # The inputs are built outside the measured call: the service alone.
            inputs = [
                SpendInput(
                    campaign_id=e["campaign"], amount=Decimal(e["amount"]), event_id=e["event_id"]
                )
                for e in es
            ]
            return lambda: spend_record_batch(inputs)

        return [call([self.event(i) for i in range(BATCH)]) for _ in range(count + 3)]


def _rig(poster: str) -> Rig:
    """Recreates and seeds the benchmark database; Django set up on it."""
    api_spend._configure_environment()
    api_spend._recreate_database()
    import django

    django.setup()
    from django.core.handlers.wsgi import WSGIHandler

    from adserver.startup import warm_up

    token, _feed_key, campaigns = api_spend._seed(poster)
    warm_up()
    return Rig(WSGIHandler(), token, campaigns, iter(range(10**9)))


def _in_one_process(args: argparse.Namespace) -> None:
    rig = _rig(args.poster)
    import adserver.api.views as views
    from spend.services import BatchRecorded, spend_record

    n_batches = max(args.requests // 30, 10)
    results = {
        "POST /api/spend/": _measure(rig.singles(args.requests)),
        "spend_record": _measure(rig.direct_singles(args.requests)),
        "POST /api/spend/batch/": _measure(rig.batches(n_batches)),
        "spend_record_batch": _measure(rig.direct_batches(n_batches)),
    }
    # The HTTP layer alone: the services answer at once with a canned result.
    canned = spend_record(
        campaign_id=rig.campaigns[0], amount=Decimal("1"), event_id=f"cpu-canned-{time.time_ns()}"
    )
    answers: dict[str, Any] = vars(views)  # the names the views call
    answers["spend_record"] = lambda **kwargs: canned
    answers["spend_record_batch"] = lambda inputs, **kwargs: BatchRecorded(len(inputs), 0)
    canned_single = rig.singles(args.requests)
    canned_batch = rig.batches(n_batches)
    results["POST /api/spend/, canned service"] = _measure(canned_single)
    results["POST /api/spend/batch/, canned service"] = _measure(canned_batch)

    print(f"CPU ms per call ({args.requests:,} single events, {n_batches} batches of {BATCH:,}):")
    print(f"{'':<40} {'median':>8} {'p10':>8}")
    for name, (median, p10) in results.items():
        print(f"{name:<40} {median:>8.3f} {p10:>8.3f}")

    if args.profile:
        calls = rig.singles(args.requests) if args.profile == "single" else rig.batches(n_batches)
        profile = cProfile.Profile()
        profile.enable()
        for call in calls:
            call()
        profile.disable()
        out = io.StringIO()
        pstats.Stats(profile, stream=out).sort_stats("cumulative").print_stats(40)
        print(out.getvalue())


# --- --compare: two checkouts in pairs ---------------------------------------------


def _backend_cpu(pid: int) -> float:
    """Seconds of CPU (user + system) a local PostgreSQL backend has used."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _serve_blocks(args: argparse.Namespace) -> None:
    """A --compare worker: measures the blocks its parent asks for, one line each."""
    api_spend.ROOT = Path.cwd()  # the checkout this process measures
    rig = _rig(args.poster)
    from django.db import connection

    for call in rig.singles(30)[:30] + rig.batches(2)[:2]:  # warm caches and the backend
        call()
    print(f"ready {api_spend._machine()}", flush=True)
    for line in sys.stdin:
        kind = line.strip()
        calls = rig.singles(BLOCK[kind]) if kind == "single" else rig.batches(BLOCK[kind])
        calls = calls[: BLOCK[kind]]  # built before the clock starts
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            backend = cursor.fetchone()[0]
        process, database = time.process_time(), _backend_cpu(backend)
        for call in calls:
            call()
        spent = {
            "process": (time.process_time() - process) * 1000 / len(calls),
            "postgres": (_backend_cpu(backend) - database) * 1000 / len(calls),
        }
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            if cursor.fetchone()[0] != backend:
                raise RuntimeError("the database connection changed during a block")
        print(json.dumps(spent), flush=True)


def _worker(checkout: Path, database: str, poster: str) -> subprocess.Popen[str]:
    env = dict(os.environ)
    env["BENCH_DATABASE_URL"] = api_spend.BENCH_DB.rsplit("/", 1)[0] + "/" + database
    env["CONN_MAX_AGE"] = "86400"  # one backend per worker, for its CPU figure
    worker = subprocess.Popen(
        [str(checkout / ".venv/bin/python"), __file__, "--serve-blocks", "--poster", poster],
        cwd=checkout,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert worker.stdout is not None
    ready = worker.stdout.readline()
    if not ready.startswith("ready "):
        raise SystemExit(f"{checkout}: the worker did not start (see its output above)")
    print(f"machine: {ready.removeprefix('ready ').strip()} ({checkout.name})")
    return worker


def _block(worker: subprocess.Popen[str], kind: str) -> dict[str, float]:
    assert worker.stdin is not None
    assert worker.stdout is not None
    worker.stdin.write(kind + "\n")
    worker.stdin.flush()
    answer: dict[str, float] = json.loads(worker.stdout.readline())
    return answer


def _compare(args: argparse.Namespace) -> None:
    this, other = api_spend.ROOT, args.compare.resolve()
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"this: {this}; compared: {other}; {args.rounds} rounds; blocks of {BLOCK}")
    workers = {
        "this": _worker(this, "adserver_cpu_this", args.poster),
        "other": _worker(other, "adserver_cpu_other", args.poster),
    }
    costs: dict[tuple[str, str], list[dict[str, float]]] = {}
    for round_ in range(args.rounds):
        for kind in BLOCK:
            order = ["this", "other"] if round_ % 2 == 0 else ["other", "this"]
            for name in order:
                costs.setdefault((kind, name), []).append(_block(workers[name], kind))
    for worker in workers.values():
        assert worker.stdin is not None
        worker.stdin.close()
        worker.wait()
    _report(costs)
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


# --- --instructions: callgrind's counts --------------------------------------------

COUNTED = {"single": 300, "spend_record": 300, "batch": 10, "spend_record_batch": 10}


def _count_instructions(args: argparse.Namespace) -> None:
    """Under callgrind: instrumentation on only around the counted calls."""
    api_spend.ROOT = Path.cwd()
    rig = _rig(args.poster)
    kind, count = args.count_instructions, COUNTED[args.count_instructions]
    warm = 100 if kind in ("single", "spend_record") else 3
    build = {
        "single": rig.singles,
        "spend_record": rig.direct_singles,
        "batch": rig.batches,
        "spend_record_batch": rig.direct_batches,
    }[kind]
    calls = build(count + warm)[: count + warm]
    for call in calls[:warm]:
        call()
    control = ["callgrind_control", "--instr", "on", str(os.getpid())]
    subprocess.run(control, check=True, capture_output=True)
    for call in calls[warm:]:
        call()
    control[2] = "off"
    subprocess.run(control, check=True, capture_output=True)


def _instructions_of(checkout: Path, kind: str, poster: str) -> int:
    env = dict(os.environ)
    env["BENCH_DATABASE_URL"] = api_spend.BENCH_DB.rsplit("/", 1)[0] + "/adserver_cpu_count"
    command = [
        "valgrind", "--tool=callgrind", "--instr-atstart=no", "--callgrind-out-file=/dev/null",
        str(checkout / ".venv/bin/python"), __file__, "--count-instructions", kind,
        "--poster", poster,
    ]  # fmt: skip
    done = subprocess.run(command, cwd=checkout, env=env, capture_output=True, text=True)
    for line in done.stderr.splitlines():
        if "Collected :" in line:
            return int(line.rsplit(":", 1)[1].strip())
    raise SystemExit(f"{checkout}: callgrind gave no count:\n{done.stderr[-3000:]}")


def _compare_instructions(args: argparse.Namespace) -> None:
    this, other = api_spend.ROOT, args.compare.resolve()
    print(f"this: {this}; compared: {other}; instructions of the Python process (callgrind)")
    print(f"\n{'instructions per call':<30} {'this':>12} {'compared':>12} {'ratio':>7}")
    for kind, count in COUNTED.items():
        counts = {name: _instructions_of(path, kind, args.poster) / count
                  for name, path in (("this", this), ("other", other))}  # fmt: skip
        label = {"single": "POST /api/spend/", "batch": "POST /api/spend/batch/"}.get(kind, kind)
        print(
            f"{label:<30} {counts['this']:>12,.0f} {counts['other']:>12,.0f} "
            f"{counts['this'] / counts['other']:>7.3f}"
        )


def _report(costs: dict[tuple[str, str], list[dict[str, float]]]) -> None:
    print("\nCPU ms per request, medians of the rounds; ratio = this / compared per round")
    print(
        f"{'':<22} {'process':>9} {'postgres':>9} {'total':>9} {'ratio':>7} {'ratios p25-p75':>15}"
    )
    for kind in BLOCK:
        totals = {}
        for name in ("this", "other"):
            blocks = costs[(kind, name)]
            totals[name] = [b["process"] + b["postgres"] for b in blocks]
            label = f"POST {kind}{'' if name == 'this' else ' [compared]'}"
            print(
                f"{label:<22} {statistics.median(b['process'] for b in blocks):>9.3f} "
                f"{statistics.median(b['postgres'] for b in blocks):>9.3f} "
                f"{statistics.median(totals[name]):>9.3f}"
            )
        ratios = sorted(a / b for a, b in zip(totals["this"], totals["other"], strict=True))
        quartiles = statistics.quantiles(ratios, n=4)
        print(
            f"{'':<22} {'':>9} {'':>9} {'':>9} {statistics.median(ratios):>7.3f} "
            f"{quartiles[0]:>7.3f}-{quartiles[2]:.3f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=3000, help="single events per scenario")
    parser.add_argument("--profile", choices=["single", "batch"])
    parser.add_argument(
        "--poster",
        choices=["superuser", "manager"],
        default="superuser",
        help="whose token posts spend: a superuser, or a manager of every brand",
    )
    parser.add_argument("--compare", type=Path, help="another checkout, measured in pairs")
    parser.add_argument("--rounds", type=int, default=30, help="pairs of blocks with --compare")
    parser.add_argument(
        "--instructions", action="store_true", help="with --compare: callgrind's counts"
    )
    parser.add_argument("--serve-blocks", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--count-instructions", choices=list(COUNTED), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.instructions and not args.compare:
        parser.error("--instructions counts two checkouts: give --compare OTHER_CHECKOUT")
    if args.serve_blocks:
        _serve_blocks(args)
    elif args.count_instructions:
        _count_instructions(args)
    elif args.compare and args.instructions:
        _compare_instructions(args)
    elif args.compare:
        _compare(args)
    else:
        _in_one_process(args)


if __name__ == "__main__":
    main()
