"""Running the HTTP server: uvicorn, with uvloop and httptools; with several workers, uvicorn's own
supervisor (it restarts a worker that dies, and stops them all gracefully on SIGTERM/SIGINT)."""

import os
import shutil
import tempfile

import uvicorn

APP = "audiences.app:create_app_from_environment"


def serve(host: str, port: int, workers: int, trust_proxy: bool, log_level: str) -> None:
    """Serves until SIGTERM or SIGINT, then lets requests in flight finish (up to 30 s)."""
    metrics_dir = None
    if workers > 1:
        # Workers write their metrics to files here; /metrics on any worker sums them.
        metrics_dir = tempfile.mkdtemp(prefix="audiences-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
    try:
        uvicorn.run(
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
            log_level=log_level.lower(),
            access_log=False,
            timeout_graceful_shutdown=30,
            # A worker answers the supervisor's health checks from a thread, which the first
            # import of the application (pydantic building every model) can keep from running
            # for seconds on a busy machine: uvicorn's 5 s default killed starting workers in a
            # loop there.
            timeout_worker_healthcheck=60,
        )
    finally:
        if metrics_dir is not None:
            shutil.rmtree(metrics_dir, ignore_errors=True)
