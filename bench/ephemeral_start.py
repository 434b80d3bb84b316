"""How long `audiences serve --ephemeral --port 0 --ready-file FILE` takes from the command to the
ready file (the service answers /healthz): a cold start (no cluster template in the cache: it is
built first), then the median of 5 starts from the cached template; each start is stopped with
SIGTERM and checked to leave nothing behind. A throwaway cache folder is used (XDG_CACHE_HOME), so
the user's cache is neither used nor touched.

    .venv/bin/python bench/ephemeral_start.py [--runs 5] [--target 2.0]

Prints one line per start (with the CPU time the command used, start to stop, which a busy machine
does not change), the medians and the load average; exits non-zero when the cached median misses
the target (seconds)."""

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def start(cache: Path, folder: Path) -> tuple[float, float]:
    """Seconds from the command to its ready file, and the CPU seconds the command used from
    start to stop; the service is stopped and checked gone."""
    ready = folder / "ready.json"
    ready.unlink(missing_ok=True)
    env = {
        **os.environ,
        "XDG_CACHE_HOME": str(cache),
        "AUDIENCES_DATABASE_URL": "",
        "AUDIENCES_SECRET_KEY": "",
    }
    command = [sys.executable, "-m", "audiences", "serve", "--ephemeral", "--port", "0"]
    cpu_before = _children_cpu()
    started = time.perf_counter()
    process = subprocess.Popen(
        [*command, "--ready-file", str(ready)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        while not ready.exists():
            if process.poll() is not None:
                raise SystemExit(f"serve exited with {process.returncode}")
            time.sleep(0.005)
        elapsed = time.perf_counter() - started
        data_dir = Path(json.loads(ready.read_text())["dataDir"])
    finally:
        process.terminate()
        process.wait(60)
    if data_dir.exists():
        raise SystemExit(f"{data_dir} was left behind")
    return elapsed, _children_cpu() - cpu_before


def _children_cpu() -> float:
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--target", type=float, default=2.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="audiences-bench-") as work:
        cache, folder = Path(work) / "cache", Path(work)
        cold, cpu = start(cache, folder)
        print(f"cold start (template built):  {cold:.2f} s  (cpu {cpu:.2f} s)")
        cached, cpus = [], []
        for run in range(args.runs):
            elapsed, cpu = start(cache, folder)
            cached.append(elapsed)
            cpus.append(cpu)
            print(f"cached start {run + 1}:              {elapsed:.2f} s  (cpu {cpu:.2f} s)")
    median = statistics.median(cached)
    print(
        f"median of {args.runs} cached starts:    {median:.2f} s (target {args.target:.1f} s), "
        f"cpu {statistics.median(cpus):.2f} s; load average {os.getloadavg()[0]:.1f} "
        f"on {os.cpu_count()} cores"
    )
    if median > args.target:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
