"""SIGTERM stops the server cleanly: requests in flight finish, and logs are JSON lines that
carry the request id."""

import json
import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import requests

from tests.conftest import create_database, drop_database
from tests.server.conftest import BOOTSTRAP_KEY, BOOTSTRAP_SECRET, start_server

AUTH = (BOOTSTRAP_KEY, BOOTSTRAP_SECRET)


def slow_body() -> Iterator[bytes]:
    for i in range(30):
        yield f"slow-{i}\n".encode()
        time.sleep(0.1)


def test_sigterm_lets_requests_in_flight_finish(server_url: str, tmp_path: Path):
    database = create_database(server_url, prefix="audiences_graceful")
    env = {
        "AUDIENCES_DATABASE_URL": database,
        "AUDIENCES_SECRET_KEY": "graceful-tests-server-key-6a3c9e1f0b7d2485",
        "AUDIENCES_BOOTSTRAP_KEY": BOOTSTRAP_KEY,
        "AUDIENCES_BOOTSTRAP_SECRET": BOOTSTRAP_SECRET,
    }
    server = start_server(env, tmp_path / "server.log", workers=2)
    api = f"{server.url}/integrationservice"
    try:
        contacts = "".join(f'{{"externalId": "slow-{i}"}}\n' for i in range(30))
        requests.post(
            f"{api}/contact/import",
            data=contacts,
            auth=AUTH,
            headers={"content-type": "application/x-ndjson"},
            timeout=10,
        )
        requests.post(
            f"{api}/audience", json={"externalId": "slow", "name": "slow"}, auth=AUTH, timeout=10
        )
        result: dict[str, object] = {}

        def upload() -> None:
            response = requests.post(
                f"{api}/audience/slow/contact/import",
                data=slow_body(),
                auth=AUTH,
                headers={"content-type": "text/plain", "X-Request-Id": "graceful-1"},
                timeout=60,
            )
            result["status"] = response.status_code
            result["body"] = response.json()

        sender = threading.Thread(target=upload)
        sender.start()
        time.sleep(1.0)
        os.killpg(os.getpgid(server.process.pid), signal.SIGTERM)
        sender.join()
        exit_code = server.process.wait(timeout=40)
    finally:
        if server.process.poll() is None:
            os.killpg(os.getpgid(server.process.pid), signal.SIGKILL)
        drop_database(server_url, database)

    assert result["status"] == 200, result
    assert result["body"]["added"] == 30  # type: ignore[index]
    assert exit_code in (0, 128 + signal.SIGTERM)
    records = [json.loads(line) for line in server.output().splitlines() if line.startswith("{")]
    access = [
        r
        for r in records
        if r.get("request_id") == "graceful-1" and r["logger"] == "audiences.access"
    ]
    assert access and access[0]["status"] == 200 and access[0]["path"].endswith("/contact/import")
