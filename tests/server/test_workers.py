"""`serve --workers N` runs uvicorn's own supervisor: a worker that dies is replaced (its live
gauges dropped) and the service goes on answering."""

import os
import signal
import socket
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

import psutil

from audiences.core.server import HEALTHCHECK_TIMEOUT
from tests.server.conftest import ROUTED, Server

# Directly on PostgreSQL, and behind PgBouncer in transaction pooling mode.
pytestmark = ROUTED


def open_keep_alive(server: Server, count: int) -> list[socket.socket]:
    """`count` connections, each having had one request answered and kept open."""
    address = urlsplit(server.url)
    host, port = address.hostname or "127.0.0.1", address.port or 80
    connections = []
    for _ in range(count):
        connection = socket.create_connection((host, port), timeout=10)
        connection.sendall(f"GET /healthz HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
        answer = connection.recv(4096)
        assert answer.startswith(b"HTTP/1.1 200"), answer
        connections.append(connection)
    return connections


def connections_per_worker(server: Server) -> Counter[int]:
    port = urlsplit(server.url).port
    counts: Counter[int] = Counter()
    for worker in live_workers(server):
        for connection in worker.net_connections(kind="tcp"):
            if connection.status == psutil.CONN_ESTABLISHED and connection.laddr.port == port:
                counts[worker.pid] += 1
    return counts


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


def test_a_killed_worker_is_replaced_and_served_again(server: Server):
    workers = live_workers(server)
    assert len(workers) == 2
    metrics_dir = Path(workers[0].environ()["PROMETHEUS_MULTIPROC_DIR"])
    os.kill(workers[0].pid, signal.SIGKILL)
    # The supervisor pings each worker in turn and waits up to its health-check timeout (60 s,
    # core/server.py) for the answer: a worker killed while its ping is in flight is noticed
    # only then (the pipe stays open in the supervisor, so its death does not end the wait).
    deadline = time.monotonic() + HEALTHCHECK_TIMEOUT + 30
    while time.monotonic() < deadline:
        alive = {worker.pid for worker in live_workers(server)}
        if len(alive) == 2 and workers[0].pid not in alive:
            break
        time.sleep(0.2)
    else:
        raise AssertionError("the killed worker was not replaced")
    # The dead worker's live gauges (pool use) are no longer summed into /metrics: its
    # replacement drops them as its application starts.
    while time.monotonic() < deadline and list(metrics_dir.glob(f"*livesum_{workers[0].pid}.db")):
        time.sleep(0.2)
    assert not list(metrics_dir.glob(f"*livesum_{workers[0].pid}.db"))
    connections = open_keep_alive(server, 8)
    for connection in connections:
        connection.close()
