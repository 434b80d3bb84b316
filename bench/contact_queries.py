#!/usr/bin/env python3
"""The vendor's contact listings on a big account, on a freshly filled table (stale statistics,
as production runs with autovacuum off).

    .venv/bin/python bench/contact_queries.py [--contacts 1000000] [--analyze]

On a fresh database (on AUDIENCES_TEST_DATABASE_URL's server, or --server-url) it loads the
contacts by COPY (changed over the last 30 days, 50 cities), then calls the API in-process and
prints the median and p95 of:

  search email     GET /contact/search?MPSearchQuery=email=... (an existing address)
  search id        GET /contact/search?MPSearchQuery=externalId=...
  search city      the first page (100) of a property without an index
  updates narrow   GET /contact/updates/list for the last hour (1 contact in 10,000 changed)
  updates wide     the first page of the last 31 days (every contact)
  import           POST /contact/import of 100k NDJSON contacts: created, then updated
"""

import argparse
import asyncio
import os
import random
import secrets
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from audiences.accounts import service as accounts_service  # noqa: E402
from audiences.app import create_app  # noqa: E402
from audiences.core import migrate  # noqa: E402
from audiences.core.credentials import SecretBox  # noqa: E402
from audiences.core.db import Database, create_engine, create_sessionmaker  # noqa: E402
from audiences.core.settings import Settings  # noqa: E402

API = "/integrationservice"
CITIES = [f"City {n}" for n in range(50)]
SERVER_KEY = "bench-only-server-key-7d4f2a9c0e6b1835"


def fresh_database(admin: str) -> str:
    name = f"audiences_bench_{secrets.token_hex(4)}"
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return make_url(admin).set(database=name).render_as_string(hide_password=False)


def drop_database(admin: str, url: str) -> None:
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(str(make_url(url).database))
            )
        )


def load_contacts(url: str, account_id: int, count: int, analyze: bool) -> float:
    """COPY: contacts changed 1 to 30 days ago, one in 10,000 ten minutes ago."""
    started = time.perf_counter()
    now = datetime.now(UTC)
    recent = 10_000
    with psycopg.connect(url) as connection, connection.cursor() as cursor:
        with cursor.copy(
            "COPY contacts (account_id, external_id, encrypted_id, email, properties, "
            "changed_at) FROM STDIN"
        ) as copy:
            for i in range(count):
                ext = f"c{i:08d}"
                properties = (
                    f'{{"email": "{ext}@example.com", "city": "{CITIES[i % 50]}", '
                    '"permissions": [{"bit": 1, "enabled": true}]}'
                )
                age = timedelta(minutes=10) if i % recent == 0 else timedelta(days=1 + i % 30)
                copy.write_row(
                    (account_id, ext, f"e{i:x}", f"{ext}@example.com", properties, now - age)
                )
        connection.commit()
    if analyze:
        with psycopg.connect(url, autocommit=True) as connection:
            connection.execute("VACUUM ANALYZE contacts")
    return time.perf_counter() - started


async def timed(call: Callable[[], Awaitable[httpx.Response]], runs: int) -> tuple[float, float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        response = await call()
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.text[:300]
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95) - 1]


async def measure(url: str, count: int, analyze: bool, skip_import: bool) -> None:
    settings = Settings(database_url=url, secret_key=SERVER_KEY, _env_file=None)  # type: ignore[call-arg]
    engine = create_engine(settings)
    async with create_sessionmaker(engine)() as session, session.begin():
        issued = await accounts_service.create_account(
            session, SecretBox(SERVER_KEY), "Bench", ["automation"]
        )
    print(
        f"load {count:,} contacts: {load_contacts(url, issued.account_id, count, analyze):.1f} s",
        flush=True,
    )
    database = Database.open(settings)
    app = create_app(settings, database)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://bench",
        auth=(issued.consumer_key, issued.consumer_secret),
        timeout=600,
    ) as client:
        rows: list[tuple[str, float, float]] = []

        def search(query: Callable[[], str]) -> Callable[[], Awaitable[httpx.Response]]:
            return lambda: client.get(
                f"{API}/contact/search", params={"MPSearchQuery": query(), "pageSize": 100}
            )

        def pick() -> int:
            return random.randrange(count)

        email = search(lambda: f"email=c{pick():08d}@example.com")
        rows.append(("search email", *await timed(email, 100)))
        rows.append(("search id", *await timed(search(lambda: f"externalId=c{pick():08d}"), 100)))
        rows.append(("search city", *await timed(search(lambda: f"city=City {pick() % 50}"), 20)))

        def updates(hours: int) -> Callable[[], Awaitable[httpx.Response]]:
            since = (datetime.now(UTC) - timedelta(hours=hours)).isoformat()
            return lambda: client.get(
                f"{API}/contact/updates/list",
                params={"fromDate": since, "toDate": "2099-01-01", "pageSize": 100},
            )

        rows.append(("updates narrow", *await timed(updates(1), 20)))
        rows.append(("updates wide", *await timed(updates(24 * 31), 20)))
        body = "".join(
            f'{{"externalId": "n{i:07d}", "properties": {{"email": "n{i}@example.com", '
            f'"city": "Delft", "turnover": "{i}.50"}}}}\n'
            for i in range(0 if skip_import else 100_000)
        ).encode()
        for label in ("import 100k new", "import 100k again") if body else ():
            started = time.perf_counter()
            response = await client.post(
                f"{API}/contact/import",
                content=body,
                headers={"content-type": "application/x-ndjson"},
            )
            assert response.status_code == 200, response.text[:300]
            elapsed = (time.perf_counter() - started) * 1000
            rows.append((label, elapsed, elapsed))
    await database.close()
    await engine.dispose()
    print(f"{'call':<20}{'median ms':>12}{'p95 ms':>10}")
    for label, median, p95 in rows:
        print(f"{label:<20}{median:>12.1f}{p95:>10.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--analyze", action="store_true", help="VACUUM ANALYZE after the load")
    parser.add_argument("--skip-import", action="store_true", help="Only the listings")
    parser.add_argument("--server-url")
    args = parser.parse_args()
    admin = (
        args.server_url
        or os.environ.get("AUDIENCES_TEST_DATABASE_URL")
        or "postgresql://postgres@127.0.0.1:5432/postgres"
    )
    url = fresh_database(admin)
    try:
        migrate.upgrade(url)
        asyncio.run(measure(url, args.contacts, args.analyze, args.skip_import))
    finally:
        drop_database(admin, url)


if __name__ == "__main__":
    main()
