"""gunicorn settings of the web process: production, compose, `make run` and
the API benchmark all start it with `--config gunicorn.conf.py`.

The command line still wins (`--bind`, `--access-logfile`, `--workers` ...),
and so does GUNICORN_CMD_ARGS. See docs/operations.md.
"""

import os
import tempfile
from typing import Any

# /metrics adds up the counters of every worker (prometheus-client's
# multiprocess mode): each process writes its values to files in this
# folder, a fresh one per start unless PROMETHEUS_MULTIPROC_DIR is given
# (then it must be emptied before each start).
os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", tempfile.mkdtemp(prefix="adserver-metrics-"))

# Processes: each runs the application on one core at a time (the GIL), so
# about one and a half per core keeps the cores busy while some wait for
# PostgreSQL. WEB_CONCURRENCY is the usual name for it on hosting platforms.
workers = int(os.environ.get("WEB_CONCURRENCY", "3"))

# gthread with one thread: a kept-alive connection waits in the worker's
# poller, not in a thread, so a spend feed reuses its connection instead of
# opening one per request (the sync worker closes every connection). More
# threads per process share its one interpreter lock: they help only when
# requests spend most of their time waiting.
worker_class = "gthread"
threads = int(os.environ.get("WEB_THREADS", "1"))

# Seconds an idle client connection stays open. Behind a load balancer,
# keep it longer than the balancer's own idle timeout.
keepalive = int(os.environ.get("WEB_KEEPALIVE", "30"))


def post_worker_init(worker: Any) -> None:
    """Load the application fully before the first request (adserver.startup.warm_up)."""
    from adserver.startup import warm_up

    warm_up()


def child_exit(server: Any, worker: Any) -> None:
    """A worker that stopped no longer counts in the live gauges (counters stay)."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)  # type: ignore[no-untyped-call]
