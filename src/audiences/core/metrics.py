"""Prometheus metrics: requests by route and status with their latency, members written, and
database pool use. With several workers, each writes to files in PROMETHEUS_MULTIPROC_DIR (the
server sets it) and /metrics sums them, so one scrape sees the whole host."""

import os
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client import REGISTRY as DEFAULT_REGISTRY

REQUESTS = Counter(
    "audiences_http_requests_total", "HTTP requests answered", ["method", "route", "status"]
)
LATENCY = Histogram(
    "audiences_http_request_duration_seconds",
    "Time to answer an HTTP request",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
MEMBERS = Counter(
    "audiences_members_written_total", "Audience memberships added or removed", ["change"]
)
POOL = Gauge(
    "audiences_db_pool_connections",
    "Database connections of the worker pools",
    ["pool", "state"],
    multiprocess_mode="livesum",
)

REPLICA = Gauge(
    "audiences_read_replica",
    "The read replica as each worker last saw it: up (1/0), lag_seconds (-1 while down) and "
    "in_use (1 while reads that may lag go to it)",
    ["measure"],
    multiprocess_mode="livemax",
)

router = APIRouter(include_in_schema=False)


def observe_request(method: str, route: str, status: int, seconds: float) -> None:
    REQUESTS.labels(method, route, str(status)).inc()
    LATENCY.labels(method, route).observe(seconds)


def members_written(added: int = 0, removed: int = 0) -> None:
    if added:
        MEMBERS.labels("added").inc(added)
    if removed:
        MEMBERS.labels("removed").inc(removed)


def observe_pool(name: str, pool: Any) -> None:
    """Records a SQLAlchemy QueuePool's connections in use and idle."""
    POOL.labels(name, "in_use").set(pool.checkedout())
    POOL.labels(name, "idle").set(pool.checkedin())


def observe_replica(up: bool, lag: float, in_use: bool) -> None:
    REPLICA.labels("up").set(int(up))
    REPLICA.labels("lag_seconds").set(lag if up else -1)
    REPLICA.labels("in_use").set(int(in_use))


@router.get("/metrics")
async def metrics() -> Response:
    """Prometheus metrics of this host (every worker)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        registry = DEFAULT_REGISTRY
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)


def forget_dead_workers() -> None:
    """A worker that died (uvicorn's supervisor has replaced it) leaves its live gauges behind;
    they must no longer be summed into /metrics. Run by each worker as it starts."""
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not folder:
        return
    pids = {path.stem.rsplit("_", 1)[-1] for path in Path(folder).glob("*_*.db")}
    for pid in sorted(int(pid) for pid in pids if pid.isdigit()):
        if not _alive(pid):
            multiprocess.mark_process_dead(pid, folder)  # type: ignore[no-untyped-call]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
