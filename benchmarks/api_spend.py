"""HTTP spend recording: gunicorn on loopback, several keep-alive client connections.

    .venv/bin/python benchmarks/api_spend.py [--seconds 8] [--rounds 3] [--connections 6]
        [--workers N] [--threads N]
        [--scenarios healthz,single,batch,feed-single,feed-batch,direct-single,direct-batch]
        [--compare OTHER_CHECKOUT] [--poster superuser|manager]

Measures, in one run and on one dedicated database (adserver_api_bench,
recreated each time; override with BENCH_DATABASE_URL; the broker /healthz
pings is BENCH_BROKER_URL, Redis database 7 by default):

- GET /healthz: the HTTP floor (gunicorn + Django + one SELECT + a broker
  PING), same clients;
- POST /api/spend/: single events (token auth, validation, spend_record);
- POST /api/spend/batch/: 1,000-event batches;
- the same two with a spend feed's key (`Authorization: Api-Key`, a feed of
  every brand) instead of a person's token: feed-single and feed-batch;
- spend_record / spend_record_batch called in-process (no HTTP), one thread.

gunicorn runs with the project's gunicorn.conf.py (without its access log).
The clients are processes on the same cores as the server, so they are
kept cheap: requests are pre-encoded bytes, answers are read from a plain
socket (http.client parses every header through the email package).

Each figure is the median of --rounds rounds; ratios are against the
baselines of the same run. --compare serves a second checkout of the
project (another commit, with its own .venv link) on the next port and
measures its HTTP scenarios alternately with this one's in every round,
same clients and database: on a shared machine, the one fair way to see
what a change did. For every scenario the run also reports the CPU
time per request of the web processes, of the PostgreSQL backends of the
benchmark's database, of the clients, and of everything else on the machine
(neighbours), read from /proc. Afterwards every brand's rollups are checked
against the sum of the events the clients were told were stored: a lost
update would show as a difference.
"""

import argparse
import http.client
import json
import multiprocessing as mp
import os
import platform
import runpy
import secrets
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCH_DB = os.environ.get(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/adserver_api_bench"
)
HOST = "127.0.0.1"
BATCH_SIZE = 1000
BRANDS = 40
CAMPAIGNS_PER_BRAND = 5
BATCH_TEMPLATES = 16
SCENARIOS = (
    "healthz",
    "single",
    "batch",
    "feed-single",
    "feed-batch",
    "direct-single",
    "direct-batch",
)
HTTP_KINDS = ("healthz", "single", "batch", "feed-single", "feed-batch")
ZERO = Decimal("0")


def _configure_environment() -> None:
    os.environ.update(
        {
            "DATABASE_URL": BENCH_DB,
            "DEBUG": "0",
            "SECRET_KEY": secrets.token_urlsafe(32),
            "ALLOWED_HOSTS": HOST,
            "SECURE_SSL_REDIRECT": "0",
            "SECURE_HSTS_SECONDS": "0",
            "LOG_LEVEL": "WARNING",
            # The benchmark measures the server, not the throttle.
            "SPEND_THROTTLE_RATE": "100000000/min",
            # /healthz, the baseline, answers 200 only while the reconcile
            # runs: one tick is recorded at seeding, good for the whole run.
            "HEALTH_RECONCILE_MAX_AGE_SECONDS": "86400",
            # The spend path never uses the broker (a test proves it with the
            # broker down); /healthz, the baseline, pings it, so give it one.
            "CELERY_BROKER_URL": os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/7"),
            "DJANGO_SETTINGS_MODULE": "adserver.settings",
        }
    )
    sys.path.insert(0, str(ROOT))


def _recreate_database() -> None:
    import psycopg

    name = BENCH_DB.rsplit("/", 1)[1]
    admin_url = BENCH_DB.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def _seed(poster: str = "superuser") -> tuple[str, str, list[int]]:
    """Brands with caps high enough to stay serving, their campaigns, a token,
    and the key of a spend feed that may post for every brand.

    The token is a superuser's, or with `poster="manager"` that of a user who
    manages every brand through memberships (the brand-role rule; one query
    per request) and also holds `spend.add_spendevent` (what the API asked
    for before brand roles), so that --compare can serve an older checkout.
    """
    from django.contrib.auth.models import Permission, User
    from django.core.management import call_command
    from knox.models import AuthToken

    from budgets.models import Brand, Role
    from budgets.services import brand_create, budget_create, membership_set
    from campaigns.services import campaign_create
    from credentials.services import feed_create

    call_command("migrate", verbosity=0)
    campaign_ids = []
    for b in range(BRANDS):
        brand = brand_create(
            name=f"Bench brand {b}",
            timezone=["UTC", "Asia/Kolkata", "America/New_York", "Europe/Oslo"][b % 4],
            daily_budget=Decimal("900000000.00"),
            monthly_budget=Decimal("9000000000.00"),
        )
        budget = budget_create(brand=brand, name="Shared", daily_limit=Decimal("800000000.00"))
        for c in range(CAMPAIGNS_PER_BRAND):
            campaign = campaign_create(
                brand=brand, budget=budget if c % 2 else None, name=f"Campaign {c}"
            )
            campaign_ids.append(campaign.pk)
    if poster == "superuser":
        user = User.objects.create_superuser("bench", "bench@example.com", secrets.token_urlsafe())
    else:
        user = User.objects.create_user("bench", "bench@example.com", secrets.token_urlsafe())
        user.user_permissions.add(Permission.objects.get(codename="add_spendevent"))
        for brand_id in Brand.objects.values_list("pk", flat=True):
            membership_set(brand=Brand.objects.get(pk=brand_id), user=user, role=Role.MANAGER)
    from spend.tasks import tick_record

    tick_record("benchmark", duration=0.0)
    _feed, feed_key = feed_create(
        name="bench-feed", brand_ids=list(Brand.objects.values_list("pk", flat=True))
    )
    return AuthToken.objects.create(user=user)[1], feed_key, campaign_ids


# --- clients -------------------------------------------------------------------------


@dataclass
class Job:
    kind: str  # "healthz", "single", "batch", "feed-single" or "feed-batch"
    port: int
    authorization: str  # "Token <key>" or, for the feed-* kinds, "Api-Key <key>"
    campaign_ids: list[int]
    client: int
    round: int
    start_at: float
    stop_at: float


def _event(job: Job, n: int, i: int = 0) -> dict[str, Any]:
    campaign = job.campaign_ids[(n * 7919 + i * 104729 + job.client) % len(job.campaign_ids)]
    return {
        "campaign": campaign,
        "amount": f"{(n + i) % 97 + 1}.{(n * 31 + i) % 100:02d}",
        "event_id": f"{job.kind}-r{job.round}-c{job.client}-{n}-{i}",
    }


class _Requests:
    """The bytes of each request, built cheaply: the clients share the server's cores.

    A batch body is one of BATCH_TEMPLATES pre-encoded bodies with the
    request number put into every event_id, so every event is new; its
    total is known in advance. A single event is formatted from bytes.
    """

    def __init__(self, job: Job) -> None:
        self.job = job
        self.shape = job.kind.removeprefix("feed-")  # the feed's requests are the token's
        head = f"Host: {HOST}\r\nAuthorization: {job.authorization}\r\n"
        self.healthz = f"GET /healthz HTTP/1.1\r\n{head}\r\n".encode()
        self.post = (
            f"POST /api/spend{'/batch' if self.shape == 'batch' else ''}/ HTTP/1.1\r\n{head}"
            "Content-Type: application/json\r\nContent-Length: "
        ).encode()
        self.prefix = f"{job.kind}-r{job.round}-c{job.client}-".encode()
        self.templates: list[tuple[bytes, Decimal]] = []
        if self.shape == "batch":
            for t in range(BATCH_TEMPLATES):
                events = [_event(job, t, i) for i in range(BATCH_SIZE)]
                for i, event in enumerate(events):
                    event["event_id"] = f"{job.kind}-r{job.round}-c{job.client}-@N@-{i}"
                body = json.dumps({"events": events}, separators=(",", ":")).encode()
                self.templates.append((body, sum((Decimal(e["amount"]) for e in events), ZERO)))

    def next(self, n: int) -> tuple[bytes, int, Decimal, int]:
        """(request, events, their total, the expected status) of request n."""
        if self.shape == "healthz":
            return self.healthz, 0, ZERO, 200
        if self.shape == "single":
            ids = self.job.campaign_ids
            campaign = ids[(n * 7919 + self.job.client) % len(ids)]
            units, cents = n % 97 + 1, (n * 31) % 100
            body = b'{"campaign":%d,"amount":"%d.%02d","event_id":"%s%d-0"}' % (
                campaign,
                units,
                cents,
                self.prefix,
                n,
            )
            amount = Decimal(units * 100 + cents).scaleb(-2)
            return self.post + b"%d\r\n\r\n" % len(body) + body, 1, amount, 201
        template, total = self.templates[n % BATCH_TEMPLATES]
        body = template.replace(b"@N@", b"%d" % n)
        return self.post + b"%d\r\n\r\n" % len(body) + body, BATCH_SIZE, total, 201


class _Connection:
    """HTTP/1.1 keep-alive over a plain socket, reading only what the benchmark needs.

    http.client parses every response's headers with the email package,
    which costs the clients more CPU than some requests cost the server.
    """

    def __init__(self, port: int) -> None:
        self.port = port
        self.sock: socket.socket | None = None
        self.buffer = b""

    def exchange(self, request: bytes) -> tuple[int, bytes]:
        if self.sock is None:
            self.sock = socket.create_connection((HOST, self.port), timeout=60)
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.buffer = b""
        self.sock.sendall(request)
        data = self.buffer
        while (end := data.find(b"\r\n\r\n")) < 0:
            data += self._receive()
        head = data[:end].lower()
        status = int(head[9:12])
        at = head.find(b"\r\ncontent-length:")
        if at < 0:
            raise RuntimeError(f"no Content-Length in {head[:300]!r}")
        line_end = head.find(b"\r\n", at + 2)
        length = int(head[at + 17 : line_end if line_end >= 0 else len(head)])
        start = end + 4
        while len(data) < start + length:
            data += self._receive()
        body, self.buffer = data[start : start + length], data[start + length :]
        if b"\r\nconnection: close" in head:
            self.close()
        return status, body

    def _receive(self) -> bytes:
        assert self.sock is not None
        chunk = self.sock.recv(262144)
        if not chunk:
            raise ConnectionError("the server closed the connection")
        return chunk

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None


@dataclass
class ClientResult:
    requests: int
    events: int
    amount: Decimal
    latencies: list[float]
    cpu_seconds: float


def _client(job: Job) -> ClientResult:
    """Send requests until stop_at on one keep-alive connection; count what was stored."""
    requests = _Requests(job)
    conn = _Connection(job.port)
    done = events = 0
    total = ZERO
    latencies: list[float] = []
    while time.time() < job.start_at:
        time.sleep(0.001)
    cpu = time.process_time()
    n = 0
    while time.time() < job.stop_at:
        n += 1
        request, count, amount, expect = requests.next(n)
        began = time.perf_counter()
        status, payload = conn.exchange(request)
        latencies.append((time.perf_counter() - began) * 1000)
        if status != expect:
            raise RuntimeError(f"{job.kind}: {status} {payload[:300]!r}")
        done += 1
        events += count
        total += amount
    cpu = time.process_time() - cpu
    conn.close()
    return ClientResult(done, events, total, latencies, cpu)


# --- CPU accounting ----------------------------------------------------------------------

TICKS = os.sysconf("SC_CLK_TCK")


def _process_cpu(pid: int) -> float:
    """User + system CPU seconds of a process (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICKS


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(child) for child in text.split()]


def _postgres_backends(database: str) -> list[int]:
    """The PostgreSQL server processes connected to the benchmark's database."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                title = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if title.startswith(b"postgres: ") and f" {database} ".encode() in title:
                pids.append(int(entry.name))
    return pids


def _machine_busy() -> float:
    """CPU seconds the whole machine spent busy (all processes, all cores)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]
    return (sum(fields[:8]) - idle) / TICKS


class CpuMeter:
    """CPU used by the web server, the database backends and the whole machine."""

    def __init__(self, server_pid: int | None) -> None:
        self.server_pid = server_pid
        self.database = BENCH_DB.rsplit("/", 1)[1]
        self.start = self._read()

    def _read(self) -> dict[str, dict[int, float]]:
        server = [self.server_pid, *_children(self.server_pid)] if self.server_pid else []
        return {
            "web": {pid: _process_cpu(pid) for pid in server},
            "postgres": {pid: _process_cpu(pid) for pid in _postgres_backends(self.database)},
            "machine": {0: _machine_busy()},
        }

    def used(self) -> dict[str, float]:
        end = self._read()
        return {
            group: sum(cpu - self.start[group].get(pid, 0.0) for pid, cpu in end[group].items())
            for group in end
        }


@dataclass
class Round:
    requests_per_s: float
    events_per_s: float
    events: int
    amount: Decimal
    p50_ms: float
    p99_ms: float
    cpu: dict[str, float]  # CPU ms per request: web, postgres, clients, others


@dataclass
class Server:
    label: str  # "" for this checkout
    port: int
    process: subprocess.Popen[bytes]


def _cpu_per_request(used: dict[str, float], clients: float, requests: int) -> dict[str, float]:
    cpu = {"web": used["web"], "postgres": used["postgres"], "clients": clients}
    cpu["others"] = max(used["machine"] - sum(cpu.values()), 0.0)
    return {name: seconds * 1000 / max(requests, 1) for name, seconds in cpu.items()}


def _http_round(
    pool: Any, kind: str, rnd: int, args: argparse.Namespace, ctx: dict[str, Any], server: Server
) -> Round:
    start = time.time() + 0.5
    authorization = (
        f"Api-Key {ctx['feed_key']}" if kind.startswith("feed-") else f"Token {ctx['token']}"
    )
    jobs = [
        Job(kind, server.port, authorization, ctx["campaigns"], c, rnd, start, start + args.seconds)
        for c in range(args.connections)
    ]
    results = pool.map_async(_client, jobs)
    while time.time() < start:
        time.sleep(0.001)
    meter = CpuMeter(server.process.pid)
    results.wait()
    used = meter.used()
    answered: list[ClientResult] = results.get()
    done = sum(r.requests for r in answered)
    latencies = sorted(x for r in answered for x in r.latencies)
    return Round(
        requests_per_s=done / args.seconds,
        events_per_s=sum(r.events for r in answered) / args.seconds,
        events=sum(r.events for r in answered),
        amount=sum((r.amount for r in answered), ZERO),
        p50_ms=latencies[len(latencies) // 2],
        p99_ms=latencies[int(len(latencies) * 0.99)],
        cpu=_cpu_per_request(used, sum(r.cpu_seconds for r in answered), done),
    )


# --- in-process baseline -------------------------------------------------------------------


def _direct_round(kind: str, rnd: int, args: argparse.Namespace, ctx: dict[str, Any]) -> Round:
    from spend.services import SpendInput, spend_record, spend_record_batch

    job = Job(f"direct-{kind}", 0, "", ctx["campaigns"], 999, rnd, 0, 0)
    meter = CpuMeter(None)
    cpu = time.process_time()
    stop = time.time() + args.seconds
    events = n = 0
    total = ZERO
    latencies = []
    while time.time() < stop:
        n += 1
        began = time.perf_counter()
        if kind == "single":
            e = _event(job, n)
            spend_record(
                campaign_id=e["campaign"], amount=Decimal(e["amount"]), event_id=e["event_id"]
            )
            events += 1
            total += Decimal(e["amount"])
        else:
            batch = [_event(job, n, i) for i in range(BATCH_SIZE)]
            spend_record_batch(
                [
                    SpendInput(
                        campaign_id=e["campaign"],
                        amount=Decimal(e["amount"]),
                        event_id=e["event_id"],
                    )
                    for e in batch
                ]
            )
            events += BATCH_SIZE
            total += sum(Decimal(e["amount"]) for e in batch)
        latencies.append((time.perf_counter() - began) * 1000)
    used = meter.used()
    used["web"] = time.process_time() - cpu  # this process: the service and its caller
    latencies.sort()
    return Round(
        requests_per_s=n / args.seconds,
        events_per_s=events / args.seconds,
        events=events,
        amount=total,
        p50_ms=latencies[len(latencies) // 2],
        p99_ms=latencies[int(len(latencies) * 0.99)],
        cpu=_cpu_per_request(used, 0.0, n),
    )


# --- the run -----------------------------------------------------------------------------------


def _gunicorn_command(root: Path, args: argparse.Namespace, port: int) -> list[str]:
    """gunicorn as production runs it (gunicorn.conf.py), without the access log.

    A checkout from before gunicorn.conf.py runs with the options the
    benchmark gave it then.
    """
    command = [str(root / ".venv/bin/gunicorn"), "adserver.wsgi"]
    if (root / "gunicorn.conf.py").is_file():
        command += ["--config", str(root / "gunicorn.conf.py")]
    else:
        command += ["--workers", "3", "--worker-class", "gthread", "--threads", "1"]
        command += ["--keep-alive", "30"]
    command += ["--bind", f"{HOST}:{port}", "--log-level", "warning"]
    if args.workers is not None:
        command += ["--workers", str(args.workers)]
    if args.threads is not None:
        command += ["--threads", str(args.threads)]
    return command


def _start_gunicorn(root: Path, args: argparse.Namespace, port: int, label: str) -> Server:
    process = subprocess.Popen(_gunicorn_command(root, args, port), cwd=root, env=os.environ.copy())
    for _ in range(100):
        try:
            conn = http.client.HTTPConnection(HOST, port, timeout=1)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return Server(label, port, process)
        except OSError:
            pass
        time.sleep(0.2)
    process.terminate()
    raise RuntimeError(f"gunicorn in {root} did not answer /healthz")


def _check_no_lost_updates(expected: Decimal, expected_events: int) -> str:
    from django.db.models import Sum

    from spend.models import BrandSpend, SpendEvent

    stored_events = SpendEvent.objects.count()
    ledger = SpendEvent.objects.aggregate(total=Sum("amount"))["total"] or Decimal("0")
    rollups = BrandSpend.objects.filter(period="month").aggregate(total=Sum("amount"))["total"]
    ok = stored_events == expected_events and ledger == expected == rollups
    return (
        f"{'OK' if ok else 'MISMATCH'}: {stored_events:,} events stored of {expected_events:,} "
        f"acknowledged; ledger {ledger}, brand month rollups {rollups}, acknowledged {expected}"
    )


def _machine() -> str:
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        pg = cursor.fetchone()[0]
    return (
        f"nproc {os.cpu_count()}, {cpu}, PostgreSQL {pg}, Python {platform.python_version()}, "
        f"{time.strftime('%Y-%m-%d')}"
    )


def _serving(kind: str, servers: list[Server]) -> list[Server]:
    """The servers that measure `kind`: a compared checkout may predate spend feeds."""
    return [server for server in servers if not (kind.startswith("feed-") and server.label)]


def _name(kind: str, server: Server) -> str:
    return f"http {kind}" + (f" [{server.label}]" if server.label else "")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=6)
    parser.add_argument("--workers", type=int, help="default: gunicorn.conf.py's")
    parser.add_argument("--threads", type=int, help="default: gunicorn.conf.py's")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument(
        "--scenarios",
        default=",".join(SCENARIOS),
        help=f"a comma-separated subset of {','.join(SCENARIOS)}",
    )
    parser.add_argument(
        "--compare",
        type=Path,
        metavar="CHECKOUT",
        help="also serve from this other checkout of the project (same database, port + 1) "
        "and measure its HTTP scenarios alternately with this one's, in every round",
    )
    parser.add_argument(
        "--poster",
        choices=["superuser", "manager"],
        default="superuser",
        help="whose token posts spend: a superuser, or a manager of every brand",
    )
    args = parser.parse_args()
    scenarios = args.scenarios.split(",")
    if unknown := set(scenarios) - set(SCENARIOS):
        parser.error(f"unknown scenarios: {', '.join(sorted(unknown))}")

    _configure_environment()
    _recreate_database()
    import django

    django.setup()
    token, feed_key, campaigns = _seed(args.poster)
    ctx: dict[str, Any] = {"token": token, "feed_key": feed_key, "campaigns": campaigns}
    from django.db import connection

    connection.close()

    print(f"machine: {_machine()}")
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    config = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    print(
        f"gunicorn ({config['worker_class']}, gunicorn.conf.py): "
        f"{args.workers or config['workers']} workers x {args.threads or config['threads']} "
        f"threads, keep-alive {config['keepalive']} s; "
        f"{args.connections} client processes, one keep-alive connection each; "
        f"{args.seconds:g} s x {args.rounds} rounds"
    )
    # Rounds interleave the scenarios, so a neighbour's load on this shared
    # machine falls on all of them alike rather than on one.
    http_kinds = [kind for kind in HTTP_KINDS if kind in scenarios]
    direct_kinds = [kind for kind in ("single", "batch") if f"direct-{kind}" in scenarios]
    servers = [_start_gunicorn(ROOT, args, args.port, "")]
    if args.compare:
        servers.append(_start_gunicorn(args.compare.resolve(), args, args.port + 1, "compared"))
        print(f"compared: {args.compare.resolve()} (port {args.port + 1})")
    results: dict[str, list[Round]] = {
        _name(kind, server): [] for kind in http_kinds for server in _serving(kind, servers)
    }
    results.update({f"direct {kind}": [] for kind in direct_kinds})
    try:
        with mp.get_context("spawn").Pool(args.connections) as pool:
            for rnd in range(args.rounds):
                for kind in http_kinds:
                    # Each server goes first in every other round; event ids
                    # carry the round, so the two never replay each other's.
                    order = servers if rnd % 2 == 0 else servers[::-1]
                    for server in _serving(kind, order):
                        number = rnd * len(servers) + servers.index(server)
                        results[_name(kind, server)].append(
                            _http_round(pool, kind, number, args, ctx, server)
                        )
                for kind in direct_kinds:
                    results[f"direct {kind}"].append(_direct_round(kind, rnd, args, ctx))
                    connection.close()
    finally:
        for server in servers:
            server.process.terminate()
            server.process.wait(timeout=30)

    def median(name: str, attribute: Callable[[Round], float]) -> float:
        return statistics.median(attribute(r) for r in results[name])

    width = max(len(name) for name in results) + 1
    header = (
        f"{'scenario':<{width}} {'requests/s':>11} {'events/s':>10} {'p50 ms':>8} {'p99 ms':>8}"
    )
    print(f"\n{header}  rounds (events/s)")
    for name, rounds in results.items():
        print(
            f"{name:<{width}} {median(name, lambda r: r.requests_per_s):>11,.0f} "
            f"{median(name, lambda r: r.events_per_s):>10,.0f} "
            f"{median(name, lambda r: r.p50_ms):>8.2f} {median(name, lambda r: r.p99_ms):>8.2f}  "
            + ", ".join(f"{r.events_per_s:,.0f}" for r in rounds)
        )
    groups = ("web", "postgres", "clients", "others")
    print("\nCPU ms per request (medians)")
    print(f"{'scenario':<{width}}" + "".join(f"{g:>10}" for g in groups))
    for name, rounds in results.items():
        cpu = [statistics.median(r.cpu[group] for r in rounds) for group in groups]
        print(f"{name:<{width}}" + "".join(f"{ms:>10.3f}" for ms in cpu))
    rate = {name: median(name, lambda r: r.events_per_s or r.requests_per_s) for name in results}
    ratios = [
        (f"{a} / {b}", rate[a] / rate[b])
        for a, b in (
            ("http single", "http healthz"),
            ("http single", "direct single"),
            ("http batch", "direct batch"),
            ("http batch", "http single"),
            # A feed's key against a person's token: the same requests otherwise.
            ("http feed-single", "http single"),
            ("http feed-batch", "http batch"),
            *((f"http {kind}", f"http {kind} [compared]") for kind in ("single", "batch")),
        )
        if a in rate and b in rate
    ]
    print("\nratios: " + "; ".join(f"{name} = {value:.2f}" for name, value in ratios))
    # The two checkouts ran a second apart in each round, under the same
    # neighbours: the median of the per-round ratios is the steadier figure.
    for kind in http_kinds:
        this, other = f"http {kind}", f"http {kind} [compared]"
        if this in results and other in results:
            paired = [
                (a.events_per_s or a.requests_per_s) / (b.events_per_s or b.requests_per_s)
                for a, b in zip(results[this], results[other], strict=True)
            ]
            print(
                f"{this} / {other}, per round: median {statistics.median(paired):.2f} "
                f"({', '.join(f'{r:.2f}' for r in paired)})"
            )
    print(
        f"targets: single >= 800 events/s: {rate.get('http single', 0):,.0f}; "
        f"batches >= 30,000 events/s: {rate.get('http batch', 0):,.0f}"
    )
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    acknowledged = [r for rs in results.values() for r in rs]
    print(
        _check_no_lost_updates(
            sum((r.amount for r in acknowledged), Decimal("0")), sum(r.events for r in acknowledged)
        )
    )


if __name__ == "__main__":
    main()
