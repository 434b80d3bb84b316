"""Running the HTTP server: one process, or several workers to which the parent process hands
the connections it accepts, in turn. Keep-alive clients (connection pools, load generators)
open their connections in bursts and keep them: with one shared listening socket the first
worker to wake up takes a whole burst, and with a SO_REUSEPORT socket per worker the kernel's
hash splits 32 connections anything from 16/16 to 9/23, and the busier worker's queue sets
the p99. Handing them out in turn, as Node's cluster module does, splits them evenly."""

import asyncio
import logging
import multiprocessing
import os
import shutil
import signal
import socket
import tempfile
import threading
import time
from multiprocessing.process import BaseProcess
from typing import Any

import uvicorn
from prometheus_client import multiprocess

from audiences.core.logs import configure_logging

logger = logging.getLogger("audiences.server")
APP = "audiences.app:create_app_from_environment"


def _config(host: str, port: int, trust_proxy: bool, workers: int = 1) -> uvicorn.Config:
    return uvicorn.Config(
        APP,
        factory=True,
        host=host,
        port=port,
        workers=workers,
        loop="uvloop",
        http="httptools",
        proxy_headers=trust_proxy,
        forwarded_allow_ips="*" if trust_proxy else None,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=30,
    )


def _listening_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    return sock


class _HandedConnectionsServer(uvicorn.Server):
    """A worker's server that listens on nothing: it serves the connections the parent sends
    it over `channel` (one file descriptor a message)."""

    def __init__(self, config: uvicorn.Config, channel: socket.socket) -> None:
        super().__init__(config)
        self.channel = channel
        self._attaching: set[asyncio.Task[None]] = set()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=[])
        if self.started:
            self.channel.setblocking(False)
            asyncio.get_running_loop().add_reader(self.channel.fileno(), self._receive)

    def _protocol(self) -> asyncio.Protocol:
        protocol: asyncio.Protocol = self.config.http_protocol_class(  # type: ignore[call-arg]
            config=self.config, server_state=self.server_state, app_state=self.lifespan.state
        )
        return protocol

    def _receive(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            try:
                message, fds, _flags, _address = socket.recv_fds(self.channel, 1, 1)
            except BlockingIOError:
                return
            if not message:  # the parent is gone: nothing more will come
                loop.remove_reader(self.channel.fileno())
                return
            for fd in fds:
                connection = socket.socket(fileno=fd)
                if self.should_exit:
                    connection.close()
                    continue
                # Kept until done: the loop holds tasks only weakly.
                task = loop.create_task(self._attach(loop, connection))
                self._attaching.add(task)
                task.add_done_callback(self._attaching.discard)

    async def _attach(self, loop: asyncio.AbstractEventLoop, connection: socket.socket) -> None:
        try:
            await loop.connect_accepted_socket(self._protocol, connection)
        except OSError:
            connection.close()

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        if self.started:
            asyncio.get_running_loop().remove_reader(self.channel.fileno())
        await super().shutdown(sockets)


def _worker(channel: socket.socket, trust_proxy: bool, log_level: str) -> None:
    configure_logging(log_level)
    config = _config("127.0.0.1", 0, trust_proxy)
    _HandedConnectionsServer(config, channel).run()


def _hand_out(listener: socket.socket, channels: list[socket.socket | None]) -> None:
    """Accepts connections and sends each to the next worker that takes it, until the
    listening socket is closed."""
    turn = 0
    while True:
        try:
            connection, _ = listener.accept()
        except TimeoutError:
            continue
        except OSError:
            return  # closed: the server is stopping
        with connection:
            connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            for _ in range(len(channels)):
                channel = channels[turn % len(channels)]
                turn += 1
                if channel is None:
                    continue
                try:
                    socket.send_fds(channel, [b"c"], [connection.fileno()])
                    break
                except OSError:
                    continue  # that worker is gone; its replacement gets a new channel


def serve(host: str, port: int, workers: int, trust_proxy: bool, log_level: str) -> None:
    """Serves until SIGTERM or SIGINT, then lets requests in flight finish (up to 30 s)."""
    if workers <= 1 or not hasattr(socket, "send_fds"):
        uvicorn.Server(_config(host, port, trust_proxy, workers)).run()
        return
    # Bound here, so a port in use fails at once and loudly.
    listener = _listening_socket(host, port)
    listener.settimeout(0.5)
    # Workers write their metrics to files here; /metrics on any worker sums them.
    metrics_dir = tempfile.mkdtemp(prefix="audiences-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
    context = multiprocessing.get_context("spawn")
    stopping = False
    channels: list[socket.socket | None] = [None] * workers

    def start(index: int) -> BaseProcess:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        process = context.Process(target=_worker, args=(theirs, trust_proxy, log_level))
        process.start()
        theirs.close()
        previous, channels[index] = channels[index], ours
        if previous is not None:
            previous.close()
        return process

    def stop(signum: int, _frame: Any) -> None:
        nonlocal stopping
        stopping = True
        listener.close()
        for process in processes:
            if process.pid is not None and process.is_alive():
                process.terminate()

    processes = [start(index) for index in range(workers)]
    handing = threading.Thread(target=_hand_out, args=(listener, channels), daemon=True)
    handing.start()
    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    logger.info("serving on %s:%s with %s workers", host, port, workers)
    try:
        while not stopping:
            for index, process in enumerate(processes):
                if not process.is_alive() and not stopping:
                    logger.warning(
                        "worker %s exited (%s); starting another", process.pid, process.exitcode
                    )
                    # Its live gauges (pool use) must no longer be summed into /metrics.
                    if process.pid is not None:
                        multiprocess.mark_process_dead(process.pid, metrics_dir)  # type: ignore[no-untyped-call]
                    processes[index] = start(index)
            time.sleep(0.5)
        for process in processes:
            process.join(timeout=35)
            if process.is_alive():
                process.kill()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        listener.close()
        for channel in channels:
            if channel is not None:
                channel.close()
        shutil.rmtree(metrics_dir, ignore_errors=True)
