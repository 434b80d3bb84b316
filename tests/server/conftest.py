"""Starts the real `audiences serve` in a subprocess, as users and other teams' CI do."""

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import psutil
import pytest

from audiences.core.server import HEALTHCHECK_TIMEOUT
from tests.conftest import create_database, drop_database
from tests.server.pgbouncer import POOLING_ENV, ROUTES, pgbouncer, through

AUDIENCES = str(Path(sys.executable).with_name("audiences"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    url: str
    process: subprocess.Popen[str]
    log: Path

    def output(self) -> str:
        return self.log.read_text()


def start_server(
    env: dict[str, str], log: Path, workers: int = 1, timeout: float = 60, port: int | None = None
) -> Server:
    port = port or free_port()
    handle = log.open("a")
    process = subprocess.Popen(
        [AUDIENCES, "serve", "--port", str(port), "--workers", str(workers)],
        # No AUDIENCES_PUBLIC_URL: serve makes paging.next absolute under the address it serves.
        env={**{k: v for k, v in os.environ.items() if k != "AUDIENCES_PUBLIC_URL"}, **env},
        stdout=handle,
        stderr=subprocess.STDOUT,
        text=True,
        # Its own process group, so a test can kill the server and its workers at once.
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited:\n{log.read_text()}")
        try:
            if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                return Server(url, process, log)
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"server did not become ready:\n{log.read_text()}")


def stop_server(server: Server) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait()


def live_workers(server: Server) -> list[psutil.Process]:
    """The server's worker processes (not multiprocessing's resource tracker, nor a child
    that has exited and is not reaped yet)."""
    workers = []
    for child in psutil.Process(server.process.pid).children():
        try:
            if "spawn_main" in " ".join(child.cmdline()):
                workers.append(child)
        except (psutil.ZombieProcess, psutil.NoSuchProcess):
            continue
    return workers


def listening_sockets(worker: psutil.Process, port: int) -> set[str]:
    """The worker's listening sockets on the port, as the kernel names them (`socket:[inode]`):
    a socket shared between processes has the same name in each."""
    return {
        os.readlink(f"/proc/{worker.pid}/fd/{c.fd}")
        for c in worker.net_connections(kind="tcp")
        if c.status == psutil.CONN_LISTEN and c.laddr.port == port
    }


def wait_until_listening(server: Server, workers: int = 2) -> None:
    """Until `workers` workers listen (the server answers as soon as one does)."""
    port = urlsplit(server.url).port or 80
    deadline = time.monotonic() + HEALTHCHECK_TIMEOUT
    while time.monotonic() < deadline:
        listening = [w for w in live_workers(server) if listening_sockets(w, port)]
        if len(listening) == workers:
            return
        time.sleep(0.2)
    raise AssertionError(f"{workers} workers do not listen")


def read_ready_file(
    ready: Path, process: subprocess.Popen[str] | subprocess.Popen[bytes], timeout: float = 120
) -> dict[str, Any]:
    """What `serve --ready-file` announced, once it has (or the server has exited)."""
    deadline = time.monotonic() + timeout
    while not ready.exists() and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.05)
    found: dict[str, Any] = json.loads(ready.read_text())
    return found


BOOTSTRAP_KEY = "ci-consumer-key"
BOOTSTRAP_SECRET = "ci-consumer-secret-0123456789"


@contextmanager
def routed(route: str, server_url: str, database: str) -> Iterator[tuple[str, dict[str, str]]]:
    """The database URL the service is given and its settings for that route: `direct`, or
    through a PgBouncer in transaction pooling mode (tests/server/pgbouncer.py)."""
    if route == "direct":
        yield database, {}
        return
    with pgbouncer(server_url) as port:
        yield through(database, port), POOLING_ENV


@pytest.fixture(scope="module")
def server(
    request: pytest.FixtureRequest, server_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """A server on its own database, with a bootstrap credential and two workers; directly on
    PostgreSQL, or through PgBouncer for modules that parametrize it (`ROUTED`)."""
    route = getattr(request, "param", "direct")
    database = create_database(server_url, prefix="audiences_server")
    log = tmp_path_factory.mktemp("server") / "server.log"
    with routed(route, server_url, database) as (url, settings):
        env = {
            "AUDIENCES_DATABASE_URL": url,
            "AUDIENCES_SECRET_KEY": "server-tests-server-key-9f2d6b0e4a8c1375",
            "AUDIENCES_BOOTSTRAP_KEY": BOOTSTRAP_KEY,
            "AUDIENCES_BOOTSTRAP_SECRET": BOOTSTRAP_SECRET,
            "AUDIENCES_BOOTSTRAP_PRODUCTS": "automation,ecommerce",
            **settings,
        }
        running = start_server(env, log, workers=2)
        yield running
        stop_server(running)
    drop_database(server_url, database)


# A module's tests run against a server directly on PostgreSQL and one behind PgBouncer.
ROUTED = pytest.mark.parametrize("server", ROUTES, indirect=True)
