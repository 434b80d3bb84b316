"""The README's first command: `audiences serve` with nothing configured starts on an embedded
PostgreSQL and prints working credentials and the docs URL."""

import re
from pathlib import Path

import httpx

from tests.server.conftest import start_server, stop_server


def test_first_start_prints_working_credentials(tmp_path: Path):
    env = {
        "AUDIENCES_DATA_DIR": str(tmp_path / "data"),
        "AUDIENCES_DATABASE_URL": "",
        "AUDIENCES_SECRET_KEY": "",
    }
    server = start_server(env, tmp_path / "first.log", timeout=120)
    try:
        output = server.output()
        key = re.search(r"consumer key:\s+(\S+)", output)
        secret = re.search(r"consumer secret:\s+(\S+)", output)
        assert key and secret, output
        assert f"{server.url}/docs" in output
        response = httpx.post(
            f"{server.url}/integrationservice/audience",
            json={"externalId": "a", "name": "A"},
            auth=(key.group(1), secret.group(1)),
        )
        assert response.status_code == 200, response.text
    finally:
        stop_server(server)
    assert (tmp_path / "data" / "secret_key").exists()

    again = start_server(env, tmp_path / "second.log", timeout=120)
    try:
        assert "consumer secret" not in again.output()
        response = httpx.get(
            f"{again.url}/integrationservice/audience/a", auth=(key.group(1), secret.group(1))
        )
        assert response.status_code == 200
    finally:
        stop_server(again)
