"""The web process as production starts it: gunicorn with gunicorn.conf.py."""

import http.client
import os
import runpy
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
CONFIG = ROOT / "gunicorn.conf.py"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def port() -> Iterator[int]:
    """One gunicorn worker on a free port, DEBUG off as in production."""
    env = os.environ | {
        "DEBUG": "0",
        "SECRET_KEY": "a-key-for-this-test-only-" + "x" * 30,
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",
    }
    number = _free_port()
    command = [str(BIN / "gunicorn"), "adserver.wsgi", "--config", str(CONFIG)]
    command += ["--bind", f"127.0.0.1:{number}", "--workers", "1", "--log-level", "warning"]
    server = subprocess.Popen(command, cwd=ROOT, env=env)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", number), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise
                time.sleep(0.1)
        yield number
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_a_client_keeps_its_connection_from_one_request_to_the_next(port: int) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    answers = []
    sockets = []
    for _ in range(3):
        # Needs neither the database nor the broker: a JSON 404 of the API.
        conn.request("GET", "/api/no-such-thing/")
        response = conn.getresponse()
        answers.append((response.status, response.read(), response.getheader("Connection")))
        sockets.append(conn.sock)
    conn.close()
    assert answers == [(404, b'{"detail":"Not found."}', "keep-alive")] * 3
    assert sockets[0] is not None
    assert all(sock is sockets[0] for sock in sockets)


def test_the_configuration_serves_with_threads_and_keep_alive() -> None:
    config = runpy.run_path(str(CONFIG))
    assert config["worker_class"] == "gthread"  # the sync worker closes every connection
    assert config["keepalive"] > 0
    assert config["workers"] >= 1


def test_a_worker_loads_the_application_before_its_first_request() -> None:
    script = (
        "import gc, runpy, sys, django; django.setup(); "
        f"runpy.run_path({str(CONFIG)!r})['post_worker_init'](None); "
        "print('adserver.api.views' in sys.modules, gc.get_freeze_count() > 0)"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=os.environ | {"DJANGO_SETTINGS_MODULE": "adserver.settings"},
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "True"]
