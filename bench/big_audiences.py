#!/usr/bin/env python3
"""Big audiences, measured against PostgreSQL's own way of doing the same work, in one run.

    .venv/bin/python bench/big_audiences.py [--contacts 1000000] [--runs 3]

On a fresh database (created on AUDIENCES_TEST_DATABASE_URL's server, or --server-url, or an
embedded PostgreSQL when none answers) it loads the contacts, starts `audiences serve
--workers 2`, and measures, each as the median of --runs:

  import    1M member ids streamed through the API  vs  COPY to a staging table + INSERT ... SELECT
  replace   a 1M-member audience by a set with 10% churn  vs  the same diff in raw SQL
  export    CSV of 1M members through the API  vs  COPY (SELECT ...) TO STDOUT
  add2500   p50/p99 of the compatible 2500-id add  vs  the raw statement for the same batch
  rss       the server's peak RSS growth during the import and the export
  check     req/s and p99 of the membership check (OAuth-signed, 32 connections, wrk)
            vs GET /healthz/database (only SELECT 1, no authentication) on the same server
  contacts  --contacts new contacts with properties (NDJSON, then CSV) into the account that
            already holds them  vs  COPY + the same upsert in SQL (bench/contact_import.py)
  contactlist  p50 of the 100-contact POST /contact/list  vs  one INSERT ... ON CONFLICT

It prints one table with the ratios and exits 1 when a target is missed.
"""

import argparse
import os
import re
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil
import psycopg
from oauthlib.oauth1 import Client
from psycopg import sql
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

import contact_import  # noqa: E402

from audiences.core import migrate  # noqa: E402
from audiences.core.embedded import start_embedded  # noqa: E402

KEY, SECRET = "bench-key", "bench-secret-" + secrets.token_hex(8)
CHUNK = 256 * 1024
# One load-generator thread: on a 2-core machine every cycle wrk spends is taken from the server.
WRK_THREADS = 1
# Requests signed in advance a second of wrk: above what 2 cores answer (about 2,500), and wrk
# stops on running out of them.
WRK_RATE_CEILING = 6_000
PROPERTIES = '{"email": "EXT@example.com", "permissions": [{"bit": 1, "enabled": true}]}'
ADDED_AT = """to_char(m.added_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')"""


# ---------------------------------------------------------------------------------------------
# set-up


def server_url(given: str | None) -> tuple[str, tempfile.TemporaryDirectory[str] | None]:
    url = (
        given
        or os.environ.get("AUDIENCES_TEST_DATABASE_URL")
        or "postgresql://postgres@127.0.0.1:5432/postgres"
    )
    try:
        psycopg.connect(url, connect_timeout=3).close()
        return url, None
    except psycopg.OperationalError:
        folder = tempfile.TemporaryDirectory(prefix="audiences-bench-")
        print(f"no PostgreSQL at {url}; using an embedded one in {folder.name}")
        return start_embedded(Path(folder.name), database="postgres"), folder


def fresh_database(admin: str) -> str:
    name = f"audiences_bench_{secrets.token_hex(4)}"
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return make_url(admin).set(database=name).render_as_string(hide_password=False)


def drop_database(admin: str, url: str) -> None:
    name = make_url(url).database
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def contact_id(i: int) -> str:
    return f"c{i:08d}"


def ids_body(start: int, stop: int) -> bytes:
    return "".join(f"{contact_id(i)}\n" for i in range(start, stop)).encode()


def chunks(data: bytes) -> Iterator[bytes]:
    for offset in range(0, len(data), CHUNK):
        yield data[offset : offset + CHUNK]


def load_contacts(url: str, account_id: int, count: int) -> float:
    started = time.perf_counter()
    with psycopg.connect(url) as connection, connection.cursor() as cursor:
        with cursor.copy(
            "COPY contacts (account_id, external_id, encrypted_id, email, properties) FROM STDIN"
        ) as copy:
            for i in range(count):
                ext = contact_id(i)
                copy.write_row(
                    (
                        account_id,
                        ext,
                        f"e{i:x}",
                        f"{ext}@example.com",
                        PROPERTIES.replace("EXT", ext),
                    )
                )
        connection.commit()
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("VACUUM ANALYZE contacts")
    return time.perf_counter() - started


@dataclass
class Server:
    url: str
    process: subprocess.Popen[bytes]

    def rss(self) -> int:
        try:
            parent = psutil.Process(self.process.pid)
            processes = [parent, *parent.children(recursive=True)]
            return sum(p.memory_info().rss for p in processes if "postgres" not in p.name())
        except psutil.NoSuchProcess:
            return 0


def start_server(database: str, workers: int = 2) -> Server:
    port = free_port()
    env = {
        **os.environ,
        "AUDIENCES_DATABASE_URL": database,
        "AUDIENCES_SECRET_KEY": "bench-only-server-key-7d4f2a9c0e6b1835",
        "AUDIENCES_BOOTSTRAP_KEY": KEY,
        "AUDIENCES_BOOTSTRAP_SECRET": SECRET,
        "AUDIENCES_BOOTSTRAP_PRODUCTS": "automation",
        "AUDIENCES_LOG_LEVEL": "WARNING",
    }
    process = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("audiences")),
            "serve",
            "--port",
            str(port),
            "--workers",
            str(workers),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                return Server(url, process)
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    process.kill()
    raise RuntimeError("the server did not start")


class PeakRss:
    """Samples the server's RSS in the background; growth = peak - value at start."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.start = server.rss()
        self.peak = self.start
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.server.rss())
            time.sleep(0.02)

    def __enter__(self) -> "PeakRss":
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def growth_mb(self) -> float:
        return (self.peak - self.start) / 1e6


# ---------------------------------------------------------------------------------------------
# measurements


@dataclass
class Row:
    name: str
    api: str
    raw: str
    ratio: float
    target: str
    met: bool


@dataclass
class Bench:
    database: str
    server: Server
    account_id: int
    contacts: int
    runs: int
    rows: list[Row] = field(default_factory=list)
    rss: dict[str, float] = field(default_factory=dict)

    @property
    def api(self) -> str:
        return f"{self.server.url}/integrationservice"

    def http(self) -> httpx.Client:
        return httpx.Client(auth=(KEY, SECRET), timeout=600)

    def sql(self, statement: str, params: tuple[object, ...] = ()) -> None:
        with psycopg.connect(self.database, autocommit=True) as connection:
            connection.execute(statement, params)

    def audience(self, name: str) -> int:
        with self.http() as client:
            response = client.post(f"{self.api}/audience", json={"externalId": name, "name": name})
            assert response.status_code == 200, response.text
        with psycopg.connect(self.database) as connection:
            row = connection.execute(
                "SELECT audience_id FROM audiences WHERE account_id = %s AND external_id = %s",
                (self.account_id, name),
            ).fetchone()
        assert row
        return int(row[0])

    def reset(self) -> None:
        self.sql("TRUNCATE audience_members")
        self.sql("UPDATE audiences SET member_count = 0")
        self.sql("VACUUM ANALYZE audience_members")

    def raw_fill(self, audience_id: int, body: bytes) -> float:
        """COPY to a staging table + INSERT ... SELECT join ON CONFLICT DO NOTHING."""
        started = time.perf_counter()
        with psycopg.connect(self.database) as connection, connection.cursor() as cursor:
            cursor.execute("CREATE TEMP TABLE staging (ext text) ON COMMIT DROP")
            with cursor.copy("COPY staging (ext) FROM STDIN") as copy:
                for chunk in chunks(body):
                    copy.write(chunk)
            cursor.execute(
                """
                INSERT INTO audience_members (account_id, audience_id, contact_id)
                SELECT %s, %s, c.contact_id FROM staging s
                JOIN contacts c ON c.account_id = %s AND c.external_id = s.ext
                ON CONFLICT DO NOTHING
                """,
                (self.account_id, audience_id, self.account_id),
            )
            connection.commit()
        return time.perf_counter() - started

    def record(self, name: str, api: str, raw: str, ratio: float, target: str, met: bool) -> None:
        self.rows.append(Row(name, api, raw, ratio, target, met))

    def measure_contacts(self) -> None:
        contact_import.measure_contacts(self)

    def measure_contactlist(self) -> None:
        contact_import.measure_contactlist(self)

    def measure_import(self) -> None:
        n = self.contacts
        body = ids_body(0, n)
        api_times, raw_times, growth = [], [], []
        for run in range(self.runs):
            self.reset()
            self.audience(f"import-api-{run}")
            with self.http() as client, PeakRss(self.server) as rss:
                started = time.perf_counter()
                response = client.post(
                    f"{self.api}/audience/import-api-{run}/contact/import",
                    content=chunks(body),
                    headers={"content-type": "text/plain"},
                )
                api_times.append(time.perf_counter() - started)
            assert response.status_code == 200 and response.json()["added"] == n, response.text
            growth.append(rss.growth_mb)
            self.reset()
            raw_times.append(self.raw_fill(self.audience(f"import-raw-{run}"), body))
        api, raw = n / statistics.median(api_times), n / statistics.median(raw_times)
        self.rows.append(
            Row(
                "import 1M ids",
                f"{api:,.0f} rows/s",
                f"{raw:,.0f} rows/s",
                api / raw,
                ">= 0.7",
                api / raw >= 0.7,
            )
        )
        self.rss["import"] = max(growth)

    def measure_replace(self) -> None:
        n = self.contacts
        churn = n // 10
        initial = ids_body(0, n)
        replacement = ids_body(churn, n + churn)
        api_times, raw_times = [], []
        for run in range(self.runs):
            self.reset()
            audience_id = self.audience(f"replace-api-{run}")
            self.raw_fill(audience_id, initial)
            self.sql(
                "UPDATE audiences SET member_count = %s WHERE audience_id = %s", (n, audience_id)
            )
            self.sql("VACUUM ANALYZE audience_members")
            with self.http() as client:
                started = time.perf_counter()
                response = client.put(
                    f"{self.api}/audience/replace-api-{run}/contact",
                    content=chunks(replacement),
                    headers={"content-type": "text/plain"},
                )
                api_times.append(time.perf_counter() - started)
            report = response.json()
            assert (
                response.status_code == 200
                and report["added"] == churn
                and report["removed"] == churn
            ), response.text
            self.reset()
            audience_id = self.audience(f"replace-raw-{run}")
            self.raw_fill(audience_id, initial)
            self.sql("VACUUM ANALYZE audience_members")
            raw_times.append(self.raw_replace(audience_id, replacement))
        api, raw = statistics.median(api_times), statistics.median(raw_times)
        self.rows.append(
            Row(
                "replace 1M, 10% churn",
                f"{api:.2f} s",
                f"{raw:.2f} s",
                api / raw,
                "<= 1.3",
                api / raw <= 1.3,
            )
        )

    def raw_replace(self, audience_id: int, body: bytes) -> float:
        started = time.perf_counter()
        a = self.account_id
        with psycopg.connect(self.database) as connection, connection.cursor() as cursor:
            cursor.execute("CREATE TEMP TABLE staging (ext text) ON COMMIT DROP")
            with cursor.copy("COPY staging (ext) FROM STDIN") as copy:
                for chunk in chunks(body):
                    copy.write(chunk)
            cursor.execute(
                """
                CREATE TEMP TABLE wanted ON COMMIT DROP AS
                SELECT c.contact_id FROM staging s
                JOIN contacts c ON c.account_id = %s AND c.external_id = s.ext
                """,
                (a,),
            )
            cursor.execute(
                """
                DELETE FROM audience_members m WHERE m.account_id = %s AND m.audience_id = %s
                AND NOT EXISTS (SELECT 1 FROM wanted w WHERE w.contact_id = m.contact_id)
                """,
                (a, audience_id),
            )
            cursor.execute(
                """
                INSERT INTO audience_members (account_id, audience_id, contact_id)
                SELECT %s, %s, w.contact_id FROM wanted w
                WHERE NOT EXISTS (SELECT 1 FROM audience_members m WHERE m.account_id = %s
                                  AND m.audience_id = %s AND m.contact_id = w.contact_id)
                """,
                (a, audience_id, a, audience_id),
            )
            connection.commit()
        return time.perf_counter() - started

    def measure_export(self) -> None:
        n = self.contacts
        self.reset()
        audience_id = self.audience("export")
        self.raw_fill(audience_id, ids_body(0, n))
        self.sql("VACUUM ANALYZE audience_members")
        api_times, raw_times, growth = [], [], []
        query = f"""
            COPY (SELECT c.external_id AS "externalId", c.email,
                         {ADDED_AT} AS "addedAt"
                  FROM audience_members m
                  JOIN contacts c ON c.account_id = m.account_id AND c.contact_id = m.contact_id
                  WHERE m.account_id = {self.account_id} AND m.audience_id = {audience_id})
            TO STDOUT WITH (FORMAT csv, HEADER)
        """
        for _ in range(self.runs):
            with self.http() as client, PeakRss(self.server) as rss:
                started = time.perf_counter()
                lines = 0
                with client.stream("GET", f"{self.api}/audience/export/contact/export") as response:
                    assert response.status_code == 200
                    for chunk in response.iter_raw():
                        lines += chunk.count(b"\n")
                api_times.append(time.perf_counter() - started)
            assert lines == n + 1, lines
            growth.append(rss.growth_mb)
            started = time.perf_counter()
            lines = 0
            with (
                psycopg.connect(self.database) as connection,
                connection.cursor() as cursor,
                cursor.copy(query) as copy,
            ):
                for chunk in copy:
                    lines += bytes(chunk).count(b"\n")
            raw_times.append(time.perf_counter() - started)
            assert lines == n + 1
        api, raw = n / statistics.median(api_times), n / statistics.median(raw_times)
        self.rows.append(
            Row(
                "export 1M (CSV)",
                f"{api:,.0f} rows/s",
                f"{raw:,.0f} rows/s",
                api / raw,
                ">= 0.5",
                api / raw >= 0.5,
            )
        )
        self.rss["export"] = max(growth)

    def measure_add(self, requests: int = 40) -> None:
        self.reset()
        self.audience("add-api")
        raw_audience = self.audience("add-raw")
        api_times, raw_times = [], []
        with self.http() as client, psycopg.connect(self.database) as connection:
            for i in range(requests):
                batch = [contact_id(j) for j in range(i * 2500, (i + 1) * 2500)]
                started = time.perf_counter()
                response = client.post(
                    f"{self.api}/audience/add-api/contact", json={"contacts": batch}
                )
                api_times.append(time.perf_counter() - started)
                assert response.status_code == 204, response.text
                started = time.perf_counter()
                connection.execute(
                    """
                    INSERT INTO audience_members (account_id, audience_id, contact_id)
                    SELECT %s, %s, c.contact_id FROM unnest(%s::text[]) AS ids(ext)
                    JOIN contacts c ON c.account_id = %s AND c.external_id = ids.ext
                    ON CONFLICT DO NOTHING
                    """,
                    (self.account_id, raw_audience, batch, self.account_id),
                )
                connection.commit()
                raw_times.append(time.perf_counter() - started)
        api50, raw50 = percentile(api_times, 50), percentile(raw_times, 50)
        api99, raw99 = percentile(api_times, 99), percentile(raw_times, 99)
        self.rows.append(
            Row(
                "add 2500 ids (p50)",
                f"{api50 * 1000:.1f} ms (p99 {api99 * 1000:.1f})",
                f"{raw50 * 1000:.1f} ms (p99 {raw99 * 1000:.1f})",
                api50 / raw50,
                "<= 2",
                api50 / raw50 <= 2,
            )
        )

    def prepare_check(self) -> tuple[Callable[[int], str], Callable[[int], str]]:
        """An audience of every --contacts, settled, and the paths of the i-th request of the
        baseline (`SELECT 1`) and of the check; both routes warmed."""
        members = self.contacts
        self.reset()
        audience_id = self.audience("check")
        self.raw_fill(audience_id, ids_body(0, members))
        # Settled first: a latency measure is not to be shared with the autovacuum and the
        # checkpoint that the earlier phases' millions of rows would start in the middle of it.
        self.sql("VACUUM ANALYZE audience_members")
        self.sql("VACUUM ANALYZE audiences")
        self.sql("CHECKPOINT")

        def check_path(i: int) -> str:
            return f"/integrationservice/audience/check/contact/{contact_id((i * 7919) % members)}"

        def baseline_path(_: int) -> str:
            return "/healthz/database"

        # Not counted: the first requests of a route prepare its statements and warm caches.
        # (The baseline's requests carry the same signed header, which it ignores.)
        self.wrk("/healthz/database", baseline_path, 2)
        self.wrk("/integrationservice/audience/check/contact/{c}", check_path, 2)
        return baseline_path, check_path

    def measure_check(self, seconds: int = 10) -> None:
        """wrk with pre-signed OAuth requests (a fresh nonce each), 32 connections; the
        medians of `runs` runs of each, on an audience of every --contacts."""
        baseline_path, check_path = self.prepare_check()
        baselines, checks = [], []
        # Alternated, so that a noisy moment of the machine does not favour either side.
        for _ in range(self.runs):
            baselines.append(self.wrk("/healthz/database", baseline_path, seconds))
            checks.append(
                self.wrk("/integrationservice/audience/check/contact/{c}", check_path, seconds)
            )
        baseline, check = medians(baselines), medians(checks)
        ratio = check[0] / baseline[0]
        self.rows.append(
            Row(
                "membership check (req/s)",
                f"{check[0]:,.0f} req/s, p99 {check[1]:.1f} ms",
                f"{baseline[0]:,.0f} req/s, p99 {baseline[1]:.1f} ms (SELECT 1)",
                ratio,
                ">= 0.5, p99 < 50 ms",
                ratio >= 0.5 and check[1] < 50,
            )
        )

    def wrk(
        self,
        label: str,
        path_of: Callable[[int], str],
        seconds: int,
        on_start: Callable[[], None] | None = None,
    ) -> tuple[float, float]:
        """wrk's requests/s and p99 (ms); `on_start` is called once the requests are signed,
        just before wrk starts."""
        client = Client(KEY, client_secret=SECRET, signature_method="HMAC-SHA1")
        host = self.server.url.removeprefix("http://")
        count = WRK_RATE_CEILING * seconds
        with tempfile.TemporaryDirectory() as folder:
            requests_file = Path(folder) / "requests.txt"
            with requests_file.open("w") as handle:
                for i in range(count):
                    path = path_of(i)
                    _, headers, _ = client.sign(f"http://{host}{path}", "GET")
                    handle.write(f"{path}\t{headers['Authorization']}\n")
            script = Path(folder) / "signed.lua"
            script.write_text(
                WRK_SCRIPT.replace("REQUESTS", str(requests_file)).replace(
                    "THREADS", str(WRK_THREADS)
                )
            )
            if on_start is not None:
                on_start()
            result = subprocess.run(
                [
                    "wrk",
                    f"-t{WRK_THREADS}",
                    "-c32",
                    f"-d{seconds}s",
                    "--latency",
                    "-s",
                    str(script),
                    self.server.url,
                ],
                capture_output=True,
                text=True,
                check=True,
            )
        out = result.stdout
        if "Non-2xx" in out or "requests exhausted" in out:
            raise RuntimeError(f"{label}: not every request succeeded\n{out}")
        rps = float(out.split("Requests/sec:")[1].split()[0])
        # The latency distribution's own line ("99%" also appears inside thread statistics).
        p99_line = re.search(r"^\s+99%\s+(\S+)", out, re.MULTILINE)
        assert p99_line, out
        p99 = parse_ms(p99_line.group(1))
        return rps, p99


WRK_SCRIPT = """
local requests = {}
for line in io.lines("REQUESTS") do
  local path, auth = line:match("([^\\t]+)\\t(.+)")
  requests[#requests + 1] = {path, auth}
end
local counter = 0
function setup(thread)
  thread:set("offset", counter)
  counter = counter + 1
end
function init(args)
  index = offset + 1
end
function request()
  local r = requests[index]
  if r == nil then
    error("requests exhausted")
  end
  index = index + THREADS
  return wrk.format("GET", r[1], {["Authorization"] = r[2]})
end
"""


def parse_ms(value: str) -> float:
    for suffix, factor in (("us", 0.001), ("ms", 1.0), ("s", 1000.0)):
        if value.endswith(suffix):
            return float(value[: -len(suffix)]) * factor
    return float(value)


def medians(runs: list[tuple[float, float]]) -> tuple[float, float]:
    """The median requests per second and the median p99 of wrk runs."""
    return statistics.median(r for r, _ in runs), statistics.median(p for _, p in runs)


@contextmanager
def prepared(
    given_url: str | None, contacts: int, loaded: int, runs: int, workers: int = 2
) -> Iterator["Bench"]:
    """A fresh database holding `loaded` contacts, a server of `workers` workers on it, and the
    Bench of both; the server stopped and the database dropped afterwards."""
    admin, embedded = server_url(given_url)
    database = fresh_database(admin)
    server = None
    try:
        migrate.upgrade(database)
        server = start_server(database, workers)
        with psycopg.connect(database) as connection:
            row = connection.execute(
                "SELECT account_id FROM api_keys WHERE consumer_key = %s", (KEY,)
            ).fetchone()
        assert row
        account_id = int(row[0])
        seconds = load_contacts(database, account_id, loaded)
        print(f"loaded {loaded:,} contacts by COPY in {seconds:.1f} s")
        yield Bench(database, server, account_id, contacts, runs)
    finally:
        if server:
            server.process.terminate()
            server.process.wait(30)
        drop_database(admin, database)
        if embedded:
            embedded.cleanup()


def percentile(values: list[float], q: int) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--server-url")
    parser.add_argument(
        "--only",
        nargs="*",
        default=["import", "replace", "export", "add", "check", "contacts", "contactlist"],
    )
    args = parser.parse_args()

    loaded = args.contacts + args.contacts // 10
    with prepared(args.server_url, args.contacts, loaded, args.runs) as bench:
        with psycopg.connect(bench.database) as connection:
            setting = connection.execute("SHOW autovacuum").fetchone()
        print(f"autovacuum: {setting[0] if setting else '?'}")
        for name in args.only:
            print(f"measuring {name} ...", flush=True)
            getattr(bench, f"measure_{name}")()
        for name, growth in bench.rss.items():
            bench.rows.append(
                Row(
                    f"server RSS growth, {name}",
                    f"{growth:.0f} MB",
                    "",
                    growth,
                    "<= 100 MB",
                    growth <= 100,
                )
            )

    print()
    print(
        f"{'measure':<28} {'through the API':<36} {'raw PostgreSQL':<40} {'ratio':>7}  "
        f"{'target':<20} ok"
    )
    for row in bench.rows:
        print(
            f"{row.name:<28} {row.api:<36} {row.raw:<40} {row.ratio:>7.2f}  "
            f"{row.target:<20} {'yes' if row.met else 'NO'}"
        )
    missed = [row.name for row in bench.rows if not row.met]
    if missed:
        print(f"\nmissed: {', '.join(missed)}")
        return 1
    print("\nevery target met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
