"""Clients that leave mid-request: counted as 499 under the route they asked for, logged as the
client's doing (INFO), never as the server's error."""

import base64
import json
import re
import socket
import time
from urllib.parse import urlsplit

import httpx

from tests.server.conftest import BOOTSTRAP_KEY, BOOTSTRAP_SECRET, Server

AUTH = b"Authorization: Basic " + base64.b64encode(f"{BOOTSTRAP_KEY}:{BOOTSTRAP_SECRET}".encode())


def requests_counted(server: Server, method: str, route: str, status: str) -> float:
    text = httpx.get(f"{server.url}/metrics", timeout=10).text
    total = 0.0
    for line in text.splitlines():
        if line.startswith("audiences_http_requests_total{"):
            series, value = line.rsplit(" ", 1)
            labels = dict(re.findall(r'(\w+)="([^"]*)"', series))
            if labels == {"method": method, "route": route, "status": status}:
                total += float(value)
    return total


def leave_mid_body(server: Server, head: bytes, part: bytes) -> None:
    """Sends a request's head and part of its declared body, then closes the connection."""
    address = urlsplit(server.url)
    with socket.create_connection((address.hostname or "127.0.0.1", address.port or 80), 10) as s:
        s.sendall(head + part)
        time.sleep(0.3)  # the server has started on the body


def leave_and_check(server: Server, route: str, head: bytes, part: bytes) -> None:
    """Leaves a POST to `route` mid-body; it is counted once as 499 (none as 500), and nothing
    is logged as an error but the client's leaving at INFO."""
    before = requests_counted(server, "POST", route, "499")
    offset = len(server.output())
    leave_mid_body(server, head, part)
    deadline = time.monotonic() + 10
    while requests_counted(server, "POST", route, "499") == before:
        assert time.monotonic() < deadline, "the request was not counted as 499"
        time.sleep(0.2)
    assert requests_counted(server, "POST", route, "499") == before + 1
    assert requests_counted(server, "POST", route, "500") == 0
    logged = server.output()[offset:].splitlines()
    entries = [json.loads(line) for line in logged if line.startswith("{")]
    assert not [e for e in entries if e["level"] == "ERROR"], entries
    assert any("went away" in str(e["message"]) for e in entries), entries


def test_a_json_write_left_mid_body_is_a_499_of_its_route_and_no_error(server: Server):
    leave_and_check(
        server,
        "/audience",
        b"POST /integrationservice/audience HTTP/1.1\r\nHost: x\r\n"
        + AUTH
        + b"\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n",
        b'{"externalId": "gone", ',
    )


def test_an_upload_cut_short_is_a_499_rolled_back_and_no_error(server: Server):
    base = f"{server.url}/integrationservice"
    auth = (BOOTSTRAP_KEY, BOOTSTRAP_SECRET)
    created = httpx.post(f"{base}/audience", json={"externalId": "cut", "name": "Cut"}, auth=auth)
    assert created.status_code == 200, created.text
    contacts = "".join(f'{{"externalId": "c{i}"}}\n' for i in range(1000))
    imported = httpx.post(
        f"{base}/contact/import",
        content=contacts,
        headers={"content-type": "application/x-ndjson"},
        auth=auth,
        timeout=60,
    )
    assert imported.status_code == 200, imported.text
    leave_and_check(
        server,
        "/audience/{externalId}/contact/import",
        b"POST /integrationservice/audience/cut/contact/import HTTP/1.1\r\nHost: x\r\n"
        + AUTH
        + b"\r\nContent-Type: text/plain\r\nContent-Length: 100000\r\n\r\n",
        b"".join(f"c{i}\n".encode() for i in range(1000)),
    )
    exported = httpx.get(f"{base}/audience/cut/contact/export", auth=auth, timeout=30)
    assert exported.text.splitlines()[1:] == []  # nothing of the cut upload was kept
