"""CPU per spend request in one process: Django's WSGI handler, no server, no sockets.

    .venv/bin/python benchmarks/api_cpu.py [--requests 3000] [--profile single|batch]
        [--poster superuser|manager]

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
"""

import argparse
import cProfile
import io
import json
import pstats
import statistics
import sys
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import api_spend  # the benchmark's set-up, next to this file

BATCH = api_spend.BATCH_SIZE


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
    args = parser.parse_args()

    api_spend._configure_environment()
    api_spend._recreate_database()
    import django

    django.setup()
    from django.core.handlers.wsgi import WSGIHandler

    import adserver.api.views as views
    from adserver.startup import warm_up
    from spend.services import BatchRecorded, SpendInput, spend_record, spend_record_batch

    token, _feed_key, campaigns = api_spend._seed(args.poster)
    warm_up()
    app = WSGIHandler()
    counter = iter(range(10**9))

    def event(i: int = 0) -> dict[str, Any]:
        n = next(counter)
        return {
            "campaign": campaigns[(n * 7919 + i * 104729) % len(campaigns)],
            "amount": f"{n % 97 + 1}.{(n * 31 + i) % 100:02d}",
            "event_id": f"cpu-{time.time_ns()}-{n}",
        }

    def post(path: str, body: bytes, expect: str) -> Callable[[], object]:
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
                "HTTP_AUTHORIZATION": f"Token {token}",
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
            answer = b"".join(app(environ, lambda s, h, e=None: status.append(s)))  # type: ignore[arg-type]
            if not status[0].startswith(expect):
                raise RuntimeError(f"{path}: {status[0]} {answer[:300]!r}")
            return answer

        return call

    def singles(count: int) -> list[Callable[[], object]]:
        return [post("/api/spend/", json.dumps(event()).encode(), "201") for _ in range(count + 3)]

    def batches(count: int) -> list[Callable[[], object]]:
        return [
            post(
                "/api/spend/batch/",
                json.dumps({"events": [event(i) for i in range(BATCH)]}).encode(),
                "201",
            )
            for _ in range(count + 3)
        ]

    def direct_singles(count: int) -> list[Callable[[], object]]:
        def call(e: dict[str, Any]) -> Callable[[], object]:
            return lambda: spend_record(
                campaign_id=e["campaign"], amount=Decimal(e["amount"]), event_id=e["event_id"]
            )

        return [call(event()) for _ in range(count + 3)]

    def direct_batches(count: int) -> list[Callable[[], object]]:
        def call(es: list[dict[str, Any]]) -> Callable[[], object]:
            return lambda: spend_record_batch(
                [
                    SpendInput(
                        campaign_id=e["campaign"],
                        amount=Decimal(e["amount"]),
                        event_id=e["event_id"],
                    )
                    for e in es
                ]
            )

        return [call([event(i) for i in range(BATCH)]) for _ in range(count + 3)]

    n_batches = max(args.requests // 30, 10)
    results = {
        "POST /api/spend/": _measure(singles(args.requests)),
        "spend_record": _measure(direct_singles(args.requests)),
        "POST /api/spend/batch/": _measure(batches(n_batches)),
        "spend_record_batch": _measure(direct_batches(n_batches)),
    }
    # The HTTP layer alone: the services answer at once with a canned result.
    canned = spend_record(
        campaign_id=campaigns[0], amount=Decimal("1"), event_id=f"cpu-canned-{time.time_ns()}"
    )
    answers: dict[str, Any] = vars(views)  # the names the views call
    answers["spend_record"] = lambda **kwargs: canned
    answers["spend_record_batch"] = lambda inputs, **kwargs: BatchRecorded(len(inputs), 0)
    canned_single = singles(args.requests)
    canned_batch = batches(n_batches)
    results["POST /api/spend/, canned service"] = _measure(canned_single)
    results["POST /api/spend/batch/, canned service"] = _measure(canned_batch)

    print(f"CPU ms per call ({args.requests:,} single events, {n_batches} batches of {BATCH:,}):")
    print(f"{'':<40} {'median':>8} {'p10':>8}")
    for name, (median, p10) in results.items():
        print(f"{name:<40} {median:>8.3f} {p10:>8.3f}")

    if args.profile:
        calls = singles(args.requests) if args.profile == "single" else batches(n_batches)
        profile = cProfile.Profile()
        profile.enable()
        for call in calls:
            call()
        profile.disable()
        out = io.StringIO()
        pstats.Stats(profile, stream=out).sort_stats("cumulative").print_stats(40)
        print(out.getvalue())


if __name__ == "__main__":
    main()
