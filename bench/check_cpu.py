"""Where the membership check's CPU goes, against the SELECT 1 endpoint, in the same run: the
server's workers' and PostgreSQL's CPU time per request under wrk (32 connections, OAuth-signed
requests as big_audiences.py sends them), each measured twice, alternated. On a machine where
wrk, the workers and PostgreSQL share the cores, the check's throughput (and with 32
connections in a closed loop, its p99) follows from these figures.

    .venv/bin/python bench/check_cpu.py [--contacts 100000] [--workers 2] [--server-url URL]
"""

import argparse
from collections.abc import Callable

import big_audiences as bench
import psutil


def cpu_seconds(processes: list[psutil.Process]) -> float:
    total = 0.0
    for process in processes:
        try:
            times = process.cpu_times()
        except psutil.Error:
            continue
        total += times.user + times.system
    return total


def postgres_processes() -> list[psutil.Process]:
    return [p for p in psutil.process_iter(["name"]) if p.info["name"] == "postgres"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--server-url")
    args = parser.parse_args()
    members = args.contacts
    with bench.prepared(args.server_url, members, members, 1, args.workers) as run:
        main_process = psutil.Process(run.server.process.pid)
        workers = [main_process, *main_process.children(recursive=True)]
        select_1, check = run.prepare_check()
        measures: list[tuple[str, Callable[[int], str]]] = [
            ("SELECT 1", select_1),
            ("check", check),
        ]
        print(f"{'':10} {'req/s':>7} {'p99 ms':>7} {'workers µs':>11} {'PostgreSQL µs':>14}")
        for label, path in measures * 2:
            # wrk signs its requests before it starts: the CPU is read while wrk runs.
            seconds = 10
            before: dict[str, float] = {}

            def started(before: dict[str, float] = before) -> None:
                before["workers"] = cpu_seconds(workers)
                before["postgres"] = cpu_seconds(postgres_processes())

            rps, p99 = run.wrk(label, path, seconds, on_start=started)
            requests = rps * seconds
            worker_us = (cpu_seconds(workers) - before["workers"]) / requests * 1e6
            postgres_us = (cpu_seconds(postgres_processes()) - before["postgres"]) / requests * 1e6
            print(f"{label:10} {rps:7,.0f} {p99:7.1f} {worker_us:11,.0f} {postgres_us:14,.0f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
