"""Running the HTTP server: uvicorn, with uvloop and httptools; with several workers, uvicorn's own
supervisor (it restarts a worker that dies, and stops them all gracefully on SIGTERM/SIGINT),
each worker listening on a socket of its own (SO_REUSEPORT, on Linux): the kernel spreads new
connections over the workers, where on one shared socket the first worker to wake took most
of a burst (28 of a client's 32 connections), and answered them twice as slowly."""

import functools
import os
import shutil
import socket
import sys
import tempfile
from typing import Any

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.supervisors import Multiprocess

from audiences.core.settings import Settings

APP = "audiences.app:create_app_from_environment"


# A worker answers the supervisor's health checks from a thread, which the first import of the
# application (pydantic building every model) can keep from running for seconds on a busy
# machine: uvicorn's 5 s default killed starting workers in a loop there. The price: a worker
# that dies while the supervisor waits for its answer is replaced only when the wait ends.
HEALTHCHECK_TIMEOUT = 60


# Linux spreads the connections of sockets sharing a port by SO_REUSEPORT over them; other
# systems give them all to one, so there the workers share the supervisor's socket.
OWN_SOCKETS = sys.platform == "linux"


class WorkerListener(socket.socket):
    """The supervisor's hold on the address: bound with SO_REUSEPORT and never listening, so
    no connection waits on it and nobody else takes the port. What a worker receives of it
    (spawned workers get their sockets pickled) is a socket of its own bound to the same
    address, which uvicorn makes listen. A worker that dies takes its socket out of the
    kernel's choice; its replacement binds a new one."""

    def __reduce__(self) -> tuple[Any, ...]:
        return (_worker_socket, (self.family, self.getsockname()))


def _worker_socket(family: int, address: Any) -> socket.socket:
    return _bound(socket.socket, family, address, reuse_port=True)


def _bound(kind: type[socket.socket], family: int, address: Any, reuse_port: bool) -> socket.socket:
    sock = kind(family, socket.SOCK_STREAM)
    try:
        # As uvicorn's own socket: a port left in TIME_WAIT by a previous run is free.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if reuse_port:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind(address)
    except OSError:
        sock.close()
        raise
    return sock


def bind(host: str, port: int, workers: int) -> socket.socket:
    """The server's socket bound to the address (port 0: a free one); a `WorkerListener` when
    the workers listen on sockets of their own. Raises OSError when the address is taken."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    own = workers > 1 and OWN_SOCKETS
    return _bound(WorkerListener if own else socket.socket, family, (host, port), own)


def serve(
    host: str,
    port: int,
    workers: int,
    trust_proxy: bool,
    log_level: str,
    listener: socket.socket | None = None,
) -> None:
    """Serves until SIGTERM or SIGINT, then lets requests in flight finish (up to 30 s); on
    `listener` when given (from `bind`: its port is known before the server starts, and a
    `WorkerListener` gives each worker a socket of its own), else on host and port."""
    # Read by every worker (spawned) from the environment; fail here if it is wrong.
    max_head_bytes()
    metrics_dir = None
    if workers > 1:
        # Workers write their metrics to files here; /metrics on any worker sums them.
        metrics_dir = tempfile.mkdtemp(prefix="audiences-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
    options: dict[str, Any] = {
        "factory": True,
        "host": host,
        "port": port,
        "workers": workers,
        "loop": "uvloop",
        "http": BoundedHeadProtocol,
        "proxy_headers": trust_proxy,
        "forwarded_allow_ips": "*" if trust_proxy else None,
        "log_config": None,
        "log_level": log_level.lower(),
        "access_log": False,
        "timeout_graceful_shutdown": 30,
        "timeout_worker_healthcheck": HEALTHCHECK_TIMEOUT,
    }
    try:
        if isinstance(listener, WorkerListener):
            # What uvicorn.run does with several workers, on the workers' own sockets.
            Multiprocess(uvicorn.Config(APP, **options), sockets=[listener]).run()
        else:
            fd = None if listener is None else listener.fileno()
            uvicorn.run(APP, fd=fd, **options)
    finally:
        if metrics_dir is not None:
            shutil.rmtree(metrics_dir, ignore_errors=True)


class BoundedHeadProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a cap on a request's head (request line and headers):
    past it the client gets 431 and the connection closes, before the head is held whole (the
    parser would otherwise keep a 150 MB header in memory)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._head_bytes = 0
        self._in_head = True

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_head = True

    def on_headers_complete(self) -> None:
        self._in_head = False
        self._head_bytes = 0
        super().on_headers_complete()

    def data_received(self, data: bytes) -> None:
        was_in_head = self._in_head
        super().data_received(data)
        if was_in_head and self._in_head and not self.transport.is_closing():
            # Everything fed since the head began is still head.
            self._head_bytes += len(data)
            if self._head_bytes > max_head_bytes():
                self._refuse_head()

    def _refuse_head(self) -> None:
        message = b'{"errorType":"INVALID_PARAMS","message":"Request headers too large"}'
        self.transport.write(
            b"HTTP/1.1 431 Request Header Fields Too Large\r\n"
            b"content-type: application/json\r\n"
            b"content-length: " + str(len(message)).encode() + b"\r\n"
            b"connection: close\r\n\r\n" + message
        )
        self.transport.close()


@functools.cache
def max_head_bytes() -> int:
    return Settings().max_header_bytes
