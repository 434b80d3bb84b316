"""`audiences serve --ephemeral`: a throwaway database per run (embedded, or on a configured
server), announced by a ready file once the service answers, removed however the run ends."""

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import psutil
import psycopg
import pytest

from audiences.testing.pytest_plugin import Service, start_service
from tests.server.conftest import read_ready_file

# A bare environment for the child: no database configured, no server key, no bootstrap.
BARE = {"AUDIENCES_DATABASE_URL": "", "AUDIENCES_SECRET_KEY": "", "AUDIENCES_BOOTSTRAP_KEY": ""}


def postgres_of(data_dir: str) -> list[psutil.Process]:
    """The PostgreSQL processes serving a cluster under `data_dir`."""
    found = []
    for process in psutil.process_iter(["name", "cmdline"]):
        if process.info["name"] == "postgres" and data_dir in " ".join(
            process.info["cmdline"] or ()
        ):
            found.append(process)
    return found


def alive(processes: list[psutil.Process]) -> list[psutil.Process]:
    return [p for p in processes if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]


def audiences(service: Service) -> list[dict[str, object]]:
    answer = httpx.get(f"{service.base_url}/audience", auth=admin(service))
    assert answer.status_code == 200, answer.text
    items: list[dict[str, object]] = answer.json()["audiences"]
    return items


def admin(service: Service) -> tuple[str, str]:
    return service.consumer_key, service.consumer_secret


def test_a_second_run_starts_empty_and_sigterm_leaves_nothing_behind(tmp_path: Path):
    ready = tmp_path / "audiences-ready.json"
    first = start_service(tmp_path, BARE)
    try:
        assert first.url.startswith("http://127.0.0.1:") and not first.url.endswith(":0")
        assert json.loads(ready.read_text())["url"] == first.url
        assert Path(first.data_dir).is_dir()
        assert alive(postgres_of(first.data_dir))
        created = httpx.post(
            f"{first.base_url}/audience",
            json={"externalId": "left-over", "name": "Left over"},
            auth=admin(first),
        )
        assert created.status_code == 200, created.text
        assert len(audiences(first)) == 1
        servers = postgres_of(first.data_dir)
    finally:
        code = first.stop()
    assert code in (0, 128 + signal.SIGTERM), first.log.read_text()
    assert not Path(first.data_dir).exists()
    assert not ready.exists()
    assert alive(servers) == []

    second = start_service(tmp_path, BARE)
    try:
        assert second.data_dir != first.data_dir
        assert audiences(second) == []
    finally:
        second.stop()


def test_sigint_removes_the_database_too(tmp_path: Path):
    service = start_service(tmp_path, BARE)
    servers = postgres_of(service.data_dir)
    service.process.send_signal(signal.SIGINT)
    service.process.wait(40)
    assert not Path(service.data_dir).exists()
    assert alive(servers) == []


def test_the_bootstrap_credential_is_the_ready_files(tmp_path: Path):
    env = {
        **BARE,
        "AUDIENCES_BOOTSTRAP_KEY": "connector-ci",
        "AUDIENCES_BOOTSTRAP_SECRET": "connector-ci-secret",
    }
    service = start_service(tmp_path, env)
    try:
        assert admin(service) == ("connector-ci", "connector-ci-secret")
        assert audiences(service) == []
    finally:
        service.stop()


def test_a_killed_runs_folder_and_server_are_removed_by_the_next_start(tmp_path: Path):
    (tmp_path / "first").mkdir()
    killed = start_service(tmp_path / "first", BARE)
    servers = postgres_of(killed.data_dir)
    killed.process.kill()
    killed.process.wait()
    assert Path(killed.data_dir).exists() and alive(servers)

    (tmp_path / "next").mkdir()
    following = start_service(tmp_path / "next", BARE)
    try:
        assert not Path(killed.data_dir).exists()
        assert alive(servers) == []
    finally:
        following.stop()


def test_on_a_configured_server_a_fresh_database_is_made_and_dropped(
    server_url: str, tmp_path: Path
):
    env = {**BARE, "AUDIENCES_DATABASE_URL": server_url}
    service = start_service(tmp_path, env)

    def exists(name: str) -> bool:
        with psycopg.connect(server_url) as connection:
            row = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
            return row.fetchone() is not None

    try:
        assert service.data_dir.startswith("audiences_ephemeral_")
        assert exists(service.data_dir)
        assert audiences(service) == []
    finally:
        service.process.send_signal(signal.SIGTERM)
        service.process.wait(40)
    assert not exists(service.data_dir)


def test_a_port_in_use_is_one_line(tmp_path: Path):
    service = start_service(tmp_path, BARE)
    try:
        port = service.url.rsplit(":", 1)[1]
        taken = subprocess.run(
            [*service.process.args[:3], "serve", "--ephemeral", "--port", port],  # type: ignore[index]
            env={**os.environ, **BARE},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert taken.returncode == 1
        assert "already in use" in taken.stderr and "Traceback" not in taken.stderr
    finally:
        service.stop()


def test_the_environment_variable_makes_a_plain_serve_ephemeral(tmp_path: Path):
    ready = tmp_path / "ready.json"
    process = subprocess.Popen(
        [sys.executable, "-m", "audiences", "serve", "--port", "0", "--ready-file", str(ready)],
        env={**os.environ, **BARE, "AUDIENCES_EPHEMERAL": "1"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        found = read_ready_file(ready, process)
        assert Path(found["dataDir"]).name.startswith("audiences-ephemeral-")
        faults = httpx.get(
            f"{found['url']}/integrationservice/testing/faults",
            auth=(found["consumerKey"], found["consumerSecret"]),
        )
        assert faults.status_code == 200
    finally:
        process.terminate()
        process.wait(40)
    assert not Path(found["dataDir"]).exists()


@pytest.mark.parametrize("after", [0.5, 1.2, 2.0])
def test_a_stop_during_start_up_leaves_nothing_behind(tmp_path: Path, after: float):
    before = set(Path(tempfile.gettempdir()).glob("audiences-ephemeral-*"))
    process = subprocess.Popen(
        [sys.executable, "-m", "audiences", "serve", "--ephemeral", "--port", "0"],
        env={**os.environ, **BARE},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(after)
    process.terminate()
    process.wait(60)
    left = set(Path(tempfile.gettempdir()).glob("audiences-ephemeral-*")) - before
    assert left == set()


def test_a_ready_file_in_no_folder_is_one_line(tmp_path: Path):
    ready = tmp_path / "missing" / "ready.json"
    refused = subprocess.run(
        [sys.executable, "-m", "audiences", "serve", "--ephemeral", "--ready-file", str(ready)],
        env={**os.environ, **BARE},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert refused.returncode == 2
    assert "no folder" in refused.stderr and "Traceback" not in refused.stderr


def test_with_two_workers_a_fault_is_met_exactly_times(tmp_path: Path):
    service = start_service(tmp_path, BARE, args=("--workers", "2"))
    try:
        fault = httpx.post(
            f"{service.base_url}/testing/faults",
            json={"method": "GET", "path": "/audience", "status": 503, "times": 3},
            auth=admin(service),
        )
        assert fault.status_code == 201, fault.text
        # A connection each: the workers take them in turn.
        statuses = [
            httpx.get(f"{service.base_url}/audience", auth=admin(service)).status_code
            for _ in range(8)
        ]
        assert statuses == [503] * 3 + [200] * 5
    finally:
        service.stop()
    assert not Path(service.data_dir).exists()
