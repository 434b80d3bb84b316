"""Hostile and careless clients over real HTTP: nothing is read before it is allowed, nothing is
held whole that should not be, and a client that stalls does not keep what others need."""

import base64
import socket
import time
from urllib.parse import urlsplit

import psutil

from tests.server.conftest import BOOTSTRAP_KEY, BOOTSTRAP_SECRET, Server


def connect(server: Server) -> socket.socket:
    address = urlsplit(server.url)
    return socket.create_connection((address.hostname or "127.0.0.1", address.port or 80), 10)


def status_of(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1])


def read_answer(sock: socket.socket) -> bytes:
    sock.settimeout(10)
    answer = b""
    while b"\r\n\r\n" not in answer:
        chunk = sock.recv(65536)
        if not chunk:
            break
        answer += chunk
    return answer


def server_rss(server: Server) -> int:
    parent = psutil.Process(server.process.pid)
    return sum(p.memory_info().rss for p in [parent, *parent.children(recursive=True)])


def test_a_huge_header_is_431_before_it_is_held_whole(server: Server):
    before = server_rss(server)
    with connect(server) as sock:
        sock.sendall(b"GET /integrationservice/ping HTTP/1.1\r\nHost: x\r\nAuthorization: Basic ")
        refused = None
        try:
            for _ in range(200):  # up to 200 MB, refused long before
                sock.sendall(b"A" * 1_000_000)
        except (BrokenPipeError, ConnectionResetError):
            refused = True
        answer = read_answer(sock) if refused is None else b""
    if answer:
        assert status_of(answer) == 431, answer[:200]
    assert server_rss(server) - before < 50_000_000


def test_an_unauthenticated_upload_is_refused_before_its_body_is_read(server: Server):
    with connect(server) as sock:
        sock.sendall(
            b"POST /integrationservice/audience/a/contact/import HTTP/1.1\r\nHost: x\r\n"
            b"Content-Type: text/plain\r\nContent-Length: 1073741824\r\n\r\n"
        )
        started = time.monotonic()
        answer = read_answer(sock)
    assert status_of(answer) == 401, answer[:300]
    assert time.monotonic() - started < 5


def test_a_json_body_declared_too_large_is_413_whatever_its_type(server: Server):
    for content_type in (b"text/plain", b"application/json; x=ndjson", b""):
        with connect(server) as sock:
            header = b"Content-Type: " + content_type + b"\r\n" if content_type else b""
            sock.sendall(
                b"POST /integrationservice/audience HTTP/1.1\r\nHost: x\r\n"
                + header
                + b"Content-Length: 1073741824\r\n\r\n"
            )
            answer = read_answer(sock)
        assert status_of(answer) == 413, (content_type, answer[:300])


def test_two_content_types_are_refused(server: Server):
    with connect(server) as sock:
        body = b'{"externalId": "two", "name": "Two"}'
        sock.sendall(
            b"POST /integrationservice/audience HTTP/1.1\r\nHost: x\r\n"
            b"Authorization: Basic "
            + base64.b64encode(f"{BOOTSTRAP_KEY}:{BOOTSTRAP_SECRET}".encode())
            + b"\r\nContent-Type: application/json\r\nContent-Type: application/xml\r\n"
            + b"Content-Length: "
            + str(len(body)).encode()
            + b"\r\n\r\n"
            + body
        )
        answer = read_answer(sock)
    assert status_of(answer) == 400, answer[:300]
