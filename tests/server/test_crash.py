"""The server is killed with SIGKILL in the middle of a big import and of a big replace; after
a restart the audience holds exactly the old set or exactly the new one, nothing is left
locked, and the same call then succeeds.

CI runs a reduced size; the full one is
AUDIENCES_CRASH_ROUNDS=20 AUDIENCES_CRASH_IDS=1000000 pytest tests/server/test_crash.py"""

import contextlib
import os
import random
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import requests

from tests.conftest import create_database, drop_database
from tests.server.conftest import BOOTSTRAP_KEY, BOOTSTRAP_SECRET, Server, start_server

ROUNDS = int(os.environ.get("AUDIENCES_CRASH_ROUNDS", "2"))
IDS = int(os.environ.get("AUDIENCES_CRASH_IDS", "100000"))
AUTH = (BOOTSTRAP_KEY, BOOTSTRAP_SECRET)


def body(start: int, stop: int) -> Iterator[bytes]:
    for chunk in range(start, stop, 10000):
        yield "".join(f"k{i:08d}\n" for i in range(chunk, min(chunk + 10000, stop))).encode()


class Crashing:
    def __init__(self, database: str, folder: Path) -> None:
        self.database = database
        self.log = folder / "server.log"
        self.env = {
            "AUDIENCES_DATABASE_URL": database,
            "AUDIENCES_SECRET_KEY": "crash-tests-server-key-8e1b4f07c2a9d356",
            "AUDIENCES_BOOTSTRAP_KEY": BOOTSTRAP_KEY,
            "AUDIENCES_BOOTSTRAP_SECRET": BOOTSTRAP_SECRET,
            "AUDIENCES_BOOTSTRAP_PRODUCTS": "automation",
        }
        self.server: Server = start_server(self.env, self.log, workers=2)
        self.port = int(self.server.url.rsplit(":", 1)[1])

    @property
    def api(self) -> str:
        return f"{self.server.url}/integrationservice"

    def kill(self) -> None:
        os.killpg(os.getpgid(self.server.process.pid), signal.SIGKILL)
        self.server.process.wait()

    def restart(self) -> None:
        self.server = start_server(self.env, self.log, workers=2, port=self.port)

    def members(self, audience: str) -> set[str]:
        with psycopg.connect(self.database) as connection:
            rows = connection.execute(
                """
                SELECT c.external_id FROM audience_members m
                JOIN audiences a ON a.account_id = m.account_id AND a.audience_id = m.audience_id
                JOIN contacts c ON c.account_id = m.account_id AND c.contact_id = m.contact_id
                WHERE a.external_id = %s
                """,
                (audience,),
            ).fetchall()
        return {r[0] for r in rows}

    def idle_in_transaction(self) -> int:
        with psycopg.connect(self.database) as connection:
            row = connection.execute(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE datname = current_database() AND state LIKE 'idle in transaction%'"
            ).fetchone()
        return int(row[0]) if row else 0

    def send_and_kill(self, method: str, path: str, start: int, stop: int) -> None:
        """Streams the upload and kills the server at a random moment during it."""

        def send() -> None:
            with contextlib.suppress(requests.RequestException):
                requests.request(
                    method,
                    f"{self.api}{path}",
                    data=body(start, stop),
                    auth=AUTH,
                    headers={"content-type": "text/plain"},
                    timeout=120,
                )

        sender = threading.Thread(target=send)
        sender.start()
        time.sleep(random.uniform(0.05, max(0.1, IDS / 150_000)))
        self.kill()
        sender.join()
        self.restart()


@pytest.fixture(scope="module")
def crashing(server_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Crashing]:
    database = create_database(server_url, prefix="audiences_crash")
    target = Crashing(database, tmp_path_factory.mktemp("crash"))
    with psycopg.connect(database) as connection:
        account = connection.execute(
            "SELECT account_id FROM api_keys WHERE consumer_key = %s", (BOOTSTRAP_KEY,)
        ).fetchone()
        assert account
        with connection.cursor().copy(
            "COPY contacts (account_id, external_id, encrypted_id) FROM STDIN"
        ) as copy:
            for i in range(IDS * 3 // 2):
                copy.write_row((account[0], f"k{i:08d}", f"e{i}"))
    try:
        yield target
    finally:
        target.kill()
        drop_database(server_url, database)


def expected(start: int, stop: int) -> set[str]:
    return {f"k{i:08d}" for i in range(start, stop)}


def test_a_killed_import_leaves_nothing_or_everything(crashing: Crashing):
    outcomes = []
    for round_ in range(ROUNDS):
        audience = f"crash-import-{round_}"
        requests.post(
            f"{crashing.api}/audience",
            json={"externalId": audience, "name": audience},
            auth=AUTH,
            timeout=30,
        )
        crashing.send_and_kill("POST", f"/audience/{audience}/contact/import", 0, IDS)
        found = crashing.members(audience)
        assert found in (set(), expected(0, IDS)), f"round {round_}: {len(found)} members, a mix"
        outcomes.append("new" if found else "old")
        assert crashing.idle_in_transaction() == 0
        retry = requests.post(
            f"{crashing.api}/audience/{audience}/contact/import",
            data=body(0, IDS),
            auth=AUTH,
            headers={"content-type": "text/plain"},
            timeout=300,
        )
        assert retry.status_code == 200, retry.text
        assert crashing.members(audience) == expected(0, IDS)
    print(f"\nkilled imports: {outcomes}")


def test_a_killed_replace_leaves_the_old_set_or_the_new_one(crashing: Crashing):
    outcomes = []
    for round_ in range(ROUNDS):
        audience = f"crash-replace-{round_}"
        requests.post(
            f"{crashing.api}/audience",
            json={"externalId": audience, "name": audience},
            auth=AUTH,
            timeout=30,
        )
        first = requests.post(
            f"{crashing.api}/audience/{audience}/contact/import",
            data=body(0, IDS),
            auth=AUTH,
            headers={"content-type": "text/plain"},
            timeout=300,
        )
        assert first.status_code == 200
        crashing.send_and_kill("PUT", f"/audience/{audience}/contact", IDS // 2, IDS * 3 // 2)
        found = crashing.members(audience)
        old, new = expected(0, IDS), expected(IDS // 2, IDS * 3 // 2)
        assert found in (old, new), f"round {round_}: {len(found)} members, a mix"
        outcomes.append("new" if found == new else "old")
        assert crashing.idle_in_transaction() == 0
        retry = requests.put(
            f"{crashing.api}/audience/{audience}/contact",
            data=body(IDS // 2, IDS * 3 // 2),
            auth=AUTH,
            headers={"content-type": "text/plain"},
            timeout=300,
        )
        assert retry.status_code == 200, retry.text
        assert crashing.members(audience) == new
        listing = requests.get(
            f"{crashing.api}/audience", params={"name": audience}, auth=AUTH, timeout=30
        )
        assert listing.json()["audiences"][0]["memberCount"] == len(new)
    print(f"\nkilled replaces: {outcomes}")
