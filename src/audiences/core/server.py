"""Running the HTTP server: one process, or several workers that each listen on their own
SO_REUSEPORT socket, so that the kernel spreads connections over them (with one shared socket,
the first worker to wake up accepts a whole burst of keep-alive connections and serves them
alone)."""

import logging
import multiprocessing
import os
import shutil
import signal
import socket
import tempfile
import time
from multiprocessing.process import BaseProcess
from typing import Any

import uvicorn

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
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.set_inheritable(True)
    return sock


def _worker(host: str, port: int, trust_proxy: bool, log_level: str) -> None:
    configure_logging(log_level)
    config = _config(host, port, trust_proxy)
    uvicorn.Server(config).run(sockets=[_listening_socket(host, port)])


def serve(host: str, port: int, workers: int, trust_proxy: bool, log_level: str) -> None:
    """Serves until SIGTERM or SIGINT, then lets requests in flight finish (up to 30 s)."""
    if workers <= 1 or not hasattr(socket, "SO_REUSEPORT"):
        uvicorn.Server(_config(host, port, trust_proxy, workers)).run()
        return
    # Bound once here first, so a port in use fails at once and loudly.
    _listening_socket(host, port).close()
    # Workers write their metrics to files here; /metrics on any worker sums them.
    metrics_dir = tempfile.mkdtemp(prefix="audiences-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
    context = multiprocessing.get_context("spawn")
    stopping = False

    def start() -> BaseProcess:
        process = context.Process(target=_worker, args=(host, port, trust_proxy, log_level))
        process.start()
        return process

    def stop(signum: int, _frame: Any) -> None:
        nonlocal stopping
        stopping = True
        for process in processes:
            if process.pid is not None and process.is_alive():
                process.terminate()

    processes = [start() for _ in range(workers)]
    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    logger.info("serving on %s:%s with %s workers", host, port, workers)
    try:
        while not stopping:
            for index, process in enumerate(processes):
                if not process.is_alive() and not stopping:
                    logger.warning(
                        "worker %s exited (%s); starting another", process.pid, process.exitcode
                    )
                    processes[index] = start()
            time.sleep(0.5)
        for process in processes:
            process.join(timeout=35)
            if process.is_alive():
                process.kill()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        shutil.rmtree(metrics_dir, ignore_errors=True)
