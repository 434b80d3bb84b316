"""Contact imports measured against raw PostgreSQL (used by big_audiences.py).

contacts     --contacts new contacts with properties, NDJSON then CSV, streamed to
             POST /contact/import into the account that already holds --contacts
             vs  COPY to a staging table + the same upsert in SQL (bulk_repository's)
contactlist  p50 of POST /contact/list with 100 contacts (50 new, 50 updated)
             vs  one INSERT ... ON CONFLICT DO UPDATE of the same 100 rows
"""

import json
import statistics
import time
from collections.abc import Iterator
from typing import Any, Protocol

import httpx
import psycopg
from sqlalchemy import TextClause

from audiences.contacts import bulk_repository

CHUNK = 256 * 1024
CITIES = ("Delft", "Leiden", "Gouda", "Breda")


class Bench(Protocol):
    database: str
    account_id: int
    contacts: int
    runs: int

    @property
    def api(self) -> str: ...

    def http(self) -> httpx.Client: ...

    def sql(self, statement: str, params: tuple[object, ...] = ()) -> None: ...

    def record(
        self, name: str, api: str, raw: str, ratio: float, target: str, met: bool
    ) -> None: ...


def _properties(i: int) -> dict[str, Any]:
    return {
        "email": f"p{i}@example.com",
        "firstName": "Ann",
        "city": CITIES[i % len(CITIES)],
        "permissions": [{"bit": 1, "enabled": True}],
    }


def ndjson(prefix: str, n: int) -> bytes:
    return "".join(
        json.dumps({"externalId": f"{prefix}{i}", "properties": _properties(i)}) + "\n"
        for i in range(n)
    ).encode()


def csv(prefix: str, n: int) -> bytes:
    lines = ["externalId,email,firstName,city,permissions"]
    lines += [f"{prefix}{i},p{i}@example.com,Ann,{CITIES[i % len(CITIES)]},1" for i in range(n)]
    return ("\n".join(lines) + "\n").encode()


def staged_rows(prefix: str, n: int) -> bytes:
    """The staging table's COPY text for the same contacts (what the API's parser produces)."""
    rows = []
    for i in range(n):
        properties = json.dumps(_properties(i)).replace("\\", "\\\\")
        rows.append(f"{i + 1}\t{prefix}{i}\t{properties}\t{{}}\t\\N\t\\N\t\\N\n")
    return "".join(rows).encode()


def chunks(data: bytes) -> Iterator[bytes]:
    for offset in range(0, len(data), CHUNK):
        yield data[offset : offset + CHUNK]


def _pyformat(statement: TextClause | str) -> str:
    query = statement.text if isinstance(statement, TextClause) else statement
    for name in ("account_id", "purge"):
        query = query.replace(f":{name}", f"%({name})s")
    return query


def raw_import(bench: Bench, body: bytes) -> float:
    """COPY into the staging table, then bulk_repository's own statements, one transaction."""
    started = time.perf_counter()
    params = {"account_id": bench.account_id, "purge": False}
    with psycopg.connect(bench.database) as connection, connection.cursor() as cursor:
        cursor.execute(bulk_repository._CREATE)
        with cursor.copy(bulk_repository.copy_statement()) as copy:
            for chunk in chunks(body):
                copy.write(chunk)
        cursor.execute(_pyformat(bulk_repository.SETTLE), params)
        cursor.execute(f"CREATE UNIQUE INDEX ON {bulk_repository.LATEST} (external_id)")
        cursor.execute(f"ANALYZE {bulk_repository.LATEST}, {bulk_repository.STAGING}")
        cursor.execute("SET LOCAL enable_nestloop = off")
        cursor.execute(_pyformat(bulk_repository._UPSERT), params)
        connection.commit()
    return time.perf_counter() - started


def measure_contacts(bench: Bench) -> None:
    n = bench.contacts
    for kind, make, content_type in (
        ("NDJSON", ndjson, "application/x-ndjson"),
        ("CSV", csv, "text/csv"),
    ):
        api_times, raw_times = [], []
        for run in range(bench.runs):
            body = make(f"api{kind}{run}-", n)
            with bench.http() as client:
                started = time.perf_counter()
                response = client.post(
                    f"{bench.api}/contact/import",
                    content=chunks(body),
                    headers={"content-type": content_type},
                )
                api_times.append(time.perf_counter() - started)
            assert response.status_code == 200, response.text[:500]
            assert response.json()["created"] == n, response.text[:500]
            raw_times.append(raw_import(bench, staged_rows(f"raw{kind}{run}-", n)))
        api, raw = n / statistics.median(api_times), n / statistics.median(raw_times)
        bench.record(
            f"contact import ({kind})",
            f"{api:,.0f} rows/s",
            f"{raw:,.0f} rows/s",
            api / raw,
            ">= 0.7",
            api / raw >= 0.7,
        )


_RAW_LIST = """
    INSERT INTO contacts (account_id, external_id, encrypted_id, email, properties)
    SELECT %(account_id)s, e, md5(random()::text), p ->> 'email', p
    FROM unnest(%(ids)s::text[], %(properties)s::jsonb[]) AS t(e, p)
    ORDER BY e
    ON CONFLICT (account_id, external_id) DO UPDATE
    SET properties = contacts.properties || excluded.properties, email = excluded.email,
        changed_at = now()
"""


def measure_contactlist(bench: Bench, requests: int = 60) -> None:
    """Half of each batch new, half updated (the previous batch's new ones); each side's p50 of
    `requests` calls, the median of --runs runs."""
    # Settled first, as the membership check is: a latency measure is not to be shared with
    # the vacuum and the checkpoint that the imports' millions of rows would start in the
    # middle of it (with autovacuum on, a vacuum of the contacts took one of two cores).
    bench.sql("VACUUM ANALYZE contacts")
    bench.sql("CHECKPOINT")
    api_p50s, raw_p50s = [], []
    with bench.http() as client, psycopg.connect(bench.database) as connection:
        for run in range(bench.runs):
            api_times, raw_times = [], []
            for r in range(requests):
                batch = [(f"list{run}-{r}-{i}", _properties(i)) for i in range(50)]
                batch += [(f"list{run}-{r - 1}-{i}", _properties(i)) for i in range(50)]
                body = {
                    "contacts": [{"externalId": e, "properties": p} for e, p in batch],
                    "update": True,
                }
                started = time.perf_counter()
                response = client.post(f"{bench.api}/contact/list", json=body)
                api_times.append((time.perf_counter() - started) * 1000)
                assert response.status_code == 200, response.text[:500]
                raw_batch = [(e.replace("list", "rawlist"), p) for e, p in batch]
                started = time.perf_counter()
                connection.execute(
                    _RAW_LIST,
                    {
                        "account_id": bench.account_id,
                        "ids": [e for e, _ in raw_batch],
                        "properties": [json.dumps(p) for _, p in raw_batch],
                    },
                )
                connection.commit()
                raw_times.append((time.perf_counter() - started) * 1000)
            api_p50s.append(statistics.median(api_times))
            raw_p50s.append(statistics.median(raw_times))
    api, raw = statistics.median(api_p50s), statistics.median(raw_p50s)
    bench.record(
        "contact list of 100 (p50)",
        f"{api:.1f} ms",
        f"{raw:.1f} ms",
        api / raw,
        "<= 2",
        api <= 2 * raw,
    )
