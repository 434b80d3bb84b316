"""Exports that nobody reads cannot starve anybody: a few per account at once, and a client that
leaves one unread is cut off, which hands its connection back."""

import base64
import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from tests.conftest import create_database, drop_database
from tests.server.conftest import Server, start_server, stop_server

KEY, SECRET = "export-key", "export-secret-0123456789"
# Far more than the socket buffers and the export's queue hold, so an unread one waits.
MEMBERS = 200_000


@pytest.fixture(scope="module")
def exporting(server_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    database = create_database(server_url, prefix="audiences_exports")
    log: Path = tmp_path_factory.mktemp("exports") / "server.log"
    env = {
        "AUDIENCES_DATABASE_URL": database,
        "AUDIENCES_SECRET_KEY": "export-tests-server-key-0c5a8e2f9b1d7364",
        "AUDIENCES_BOOTSTRAP_KEY": KEY,
        "AUDIENCES_BOOTSTRAP_SECRET": SECRET,
        "AUDIENCES_EXPORT_SEND_TIMEOUT": "2",
    }
    server = start_server(env, log)
    api = f"{server.url}/integrationservice"
    ids = [f"x-{i:06d}" for i in range(MEMBERS)]
    with httpx.Client(base_url=api, auth=(KEY, SECRET), timeout=120) as client:
        body = "".join(
            f'{{"externalId": "{e}", "properties": {{"email": "{e}@example.com"}}}}\n' for e in ids
        )
        response = client.post(
            "/contact/import", content=body, headers={"content-type": "application/x-ndjson"}
        )
        assert response.status_code == 200, response.text
        assert (
            client.post("/audience", json={"externalId": "big", "name": "Big"}).status_code == 200
        )
        response = client.post(
            "/audience/big/contact/import",
            content="\n".join(ids),
            headers={"content-type": "text/plain"},
        )
        assert response.status_code == 200, response.text
    yield server
    stop_server(server)
    drop_database(server_url, database)


def unread_export(server: Server) -> socket.socket:
    """An export request whose answer is never read past its first bytes."""
    address = urlsplit(server.url)
    sock = socket.create_connection((address.hostname or "127.0.0.1", address.port or 80), 10)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    auth = base64.b64encode(f"{KEY}:{SECRET}".encode())
    sock.sendall(
        b"GET /integrationservice/audience/big/contact/export HTTP/1.1\r\nHost: x\r\n"
        b"Authorization: Basic " + auth + b"\r\n\r\n"
    )
    sock.settimeout(10)
    assert sock.recv(12).startswith(b"HTTP/1.1 200")
    return sock


def export(server: Server) -> httpx.Response:
    url = f"{server.url}/integrationservice/audience/big/contact/export"
    return httpx.get(url, auth=(KEY, SECRET), timeout=60)


def test_an_account_runs_at_most_two_exports_and_unread_ones_are_cut_off(exporting: Server):
    stuck = [unread_export(exporting), unread_export(exporting)]
    try:
        refused = export(exporting)
        assert refused.status_code == 429, refused.text[:300]
        assert refused.json()["errorType"] == "INVALID_STATE"
        assert refused.headers["retry-after"]
        # Nobody reads the two: after the send timeout they are cut off, their slots and
        # connections handed back.
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            response = export(exporting)
            if response.status_code == 200:
                break
            time.sleep(0.5)
        assert response.status_code == 200, response.text[:300]
        lines = response.text.splitlines()
        assert lines[0] == "externalId,email,addedAt"
        assert len(lines) == MEMBERS + 1
        # In no particular order (the export joins by hashing), every member once.
        assert sorted(line.split(",")[0] for line in lines[1:])[0] == "x-000000"
        assert len({line.split(",")[0] for line in lines[1:]}) == MEMBERS
        # Cutting off a client that stopped reading is the client's doing: a warning, no error.
        logged = [json.loads(line) for line in exporting.output().splitlines() if line[:1] == "{"]
        assert any("cut off" in entry["message"] for entry in logged)
        assert not [entry for entry in logged if entry["level"] == "ERROR"]
    finally:
        for sock in stuck:
            sock.close()
