"""The `audiences` command: migrations, accounts and keys against a real database; which
database it uses and what it says when it cannot use it."""

import json
import os
import re
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest

from audiences import __version__
from audiences.core.db import libpq_url
from tests.conftest import create_database, drop_database
from tests.server.conftest import (
    AUDIENCES,
    Server,
    free_port,
    listening_sockets,
    live_workers,
    read_ready_file,
    start_server,
    stop_server,
    wait_until_listening,
)

LONG_KEY = "cli-tests-server-key-4d2a9c71e0b3f685"


@pytest.fixture(scope="module")
def cli_env(server_url: str) -> Iterator[dict[str, str]]:
    database = create_database(server_url, prefix="audiences_cli")
    env = {**os.environ, "AUDIENCES_DATABASE_URL": database, "AUDIENCES_SECRET_KEY": LONG_KEY}
    assert run(env, "db", "upgrade").returncode == 0
    yield env
    drop_database(server_url, database)


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([AUDIENCES, *args], env=env, capture_output=True, text=True, timeout=60)


def test_db_upgrade_is_idempotent(cli_env: dict[str, str]):
    assert run(cli_env, "db", "upgrade").returncode == 0
    assert run(cli_env, "db", "upgrade").returncode == 0


def test_accounts_and_keys_life_cycle(cli_env: dict[str, str], tmp_path):
    created = run(
        cli_env, "account", "create", "--name", "Shop", "--product", "ecommerce", "--json"
    )
    assert created.returncode == 0, created.stderr
    account = json.loads(created.stdout)
    assert account["products"] == ["ecommerce"]
    assert account["consumerKey"] and account["consumerSecret"]

    listed = json.loads(run(cli_env, "account", "list", "--json").stdout)
    assert {
        "accountId": account["accountId"],
        "name": "Shop",
        "products": ["ecommerce"],
        "disabledAt": None,
        "activeKeys": 1,
    } in listed

    second = json.loads(
        run(cli_env, "key", "create", "--account", str(account["accountId"]), "--json").stdout
    )
    assert second["consumerKey"] != account["consumerKey"]

    server: Server = start_server(cli_env, tmp_path / "cli.log", workers=2)
    try:
        url = f"{server.url}/integrationservice/contact/properties/list"
        new_key = (second["consumerKey"], second["consumerSecret"])
        assert httpx.get(url, auth=new_key).status_code == 200
        revoked = run(cli_env, "key", "revoke", second["consumerKey"])
        assert revoked.returncode == 0
        assert (
            httpx.get(url, auth=(account["consumerKey"], account["consumerSecret"])).status_code
            == 200
        )
        # Each request on a new connection: the kernel spreads them over both workers, and
        # every one refuses the key at once (nothing caches it); after ten failures the
        # guessing throttle adds Retry-After.
        answers = [httpx.get(url, auth=new_key) for _ in range(12)]
        assert [a.status_code for a in answers] == [401] * 12
        assert ["retry-after" in a.headers for a in answers] == [False] * 10 + [True] * 2
    finally:
        stop_server(server)

    assert run(cli_env, "key", "revoke", second["consumerKey"]).returncode == 1
    assert account["consumerSecret"] not in (server.output())


def test_unknown_products_are_refused(cli_env: dict[str, str]):
    result = run(cli_env, "account", "create", "--name", "X", "--product", "gold")
    assert result.returncode == 2
    assert "unknown product" in result.stderr


def test_a_database_url_without_a_secret_key_is_refused(cli_env: dict[str, str]):
    env = {**cli_env, "AUDIENCES_SECRET_KEY": ""}
    result = run(env, "account", "create", "--name", "X", "--product", "automation")
    assert result.returncode == 2
    assert "AUDIENCES_SECRET_KEY" in result.stderr


def test_contact_properties_life_cycle(cli_env: dict[str, str]):
    created = run(
        cli_env, "account", "create", "--name", "Props", "--product", "automation", "--json"
    )
    account = str(json.loads(created.stdout)["accountId"])

    added = run(
        cli_env, "property", "add", "--account", account, "profileFields", "--type", "set",
        "--description", "Interests", "--entry", "1=Cycling", "--entry", "2=Running", "--json",
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    assert json.loads(added.stdout)[0]["entries"] == [
        {"bit": 1, "description": "Cycling", "rank": 1},
        {"bit": 2, "description": "Running", "rank": 2},
    ]
    renamed = run(
        cli_env, "property", "update", "--account", account, "permissions",
        "--entry", "1=Nieuwsbrief", "--entry", "2=Aanbiedingen",
    )  # fmt: skip
    assert renamed.returncode == 0, renamed.stderr

    taken = run(cli_env, "property", "add", "--account", account, "ProfileFields", "--type", "int")
    assert (taken.returncode, "must be unique" in taken.stderr) == (1, True)
    wrong_type = run(cli_env, "property", "add", "--account", account, "x", "--type", "text")
    assert wrong_type.returncode == 2
    bad_entry = run(
        cli_env, "property", "update", "--account", account, "permissions", "--entry", "one"
    )
    assert bad_entry.returncode == 2
    standard = run(cli_env, "property", "remove", "--account", account, "email", "--yes")
    assert standard.returncode == 1
    assert "Standard properties cannot be removed" in standard.stderr
    nobody = run(cli_env, "property", "list", "--account", "999999")
    assert (nobody.returncode, "Account not found" in nobody.stderr) == (1, True)

    removed = run(cli_env, "property", "remove", "--account", account, "profileFields", "--yes")
    assert removed.returncode == 0, removed.stderr
    listed = run(cli_env, "property", "list", "--account", account)
    assert listed.returncode == 0, listed.stderr
    assert "profileFields" not in listed.stdout
    assert "1=Nieuwsbrief" in listed.stdout and "2=Aanbiedingen" in listed.stdout
    assert "email" in listed.stdout


def test_accounts_are_renamed_given_products_disabled_and_enabled(
    cli_env: dict[str, str], tmp_path
):
    created = json.loads(
        run(cli_env, "account", "create", "--name", "Old", "-p", "professional", "--json").stdout
    )
    account = str(created["accountId"])
    renamed = run(cli_env, "account", "rename", account, "New name", "--json")
    assert renamed.returncode == 0, renamed.stderr
    assert json.loads(renamed.stdout)["name"] == "New name"
    products = run(cli_env, "account", "products", account, "-p", "automation", "--json")
    assert json.loads(products.stdout)["products"] == ["automation"]

    # The earlier test used up this address's failed sign-ins; this one is about disabling.
    env = {**cli_env, "AUDIENCES_BASIC_AUTH_MAX_FAILURES": "1000"}
    server: Server = start_server(env, tmp_path / "accounts.log")
    try:
        url = f"{server.url}/integrationservice/audience"
        auth = (created["consumerKey"], created["consumerSecret"])
        assert httpx.get(url, auth=auth).status_code == 200  # automation now
        disabled = json.loads(run(cli_env, "account", "disable", account, "--json").stdout)
        assert disabled["disabledAt"]
        assert httpx.get(url, auth=auth).status_code == 401  # from the next request on
        keys = json.loads(run(cli_env, "key", "list", "--account", account, "--json").stdout)
        assert [(k["consumerKey"], k["active"]) for k in keys] == [(auth[0], False)]
        assert auth[1] not in run(cli_env, "key", "list", "--json").stdout
        enabled = json.loads(run(cli_env, "account", "enable", account, "--json").stdout)
        assert enabled["disabledAt"] is None
        assert httpx.get(url, auth=auth).status_code == 200
    finally:
        stop_server(server)
    listed = json.loads(run(cli_env, "account", "list", "--json").stdout)
    assert {"accountId": created["accountId"], "name": "New name"}.items() <= next(
        a for a in listed if a["accountId"] == created["accountId"]
    ).items()
    missing = run(cli_env, "account", "rename", "999999", "x")
    assert (missing.returncode, missing.stderr.splitlines()[-1]) == (1, "Account not found")


def test_the_version_and_flags_read_as_such():
    version = subprocess.run([AUDIENCES, "--version"], capture_output=True, text=True)
    assert version.stdout.strip() == f"audiences {__version__}"
    help_text = subprocess.run(
        [AUDIENCES, "account", "list", "--help"], capture_output=True, text=True
    ).stdout
    assert re.search(r"^\s+--json\s+Print JSON", help_text, re.MULTILINE), help_text
    assert "<bool>" not in help_text


def test_admin_commands_say_which_database_they_use(cli_env: dict[str, str]):
    listed = run(cli_env, "account", "list", "--json")
    database = cli_env["AUDIENCES_DATABASE_URL"].rsplit("/", 1)[-1]
    assert listed.stderr.startswith("Database: postgresql://") and database in listed.stderr
    json.loads(listed.stdout)  # stdout is only the answer


def test_a_read_command_never_creates_a_schema(server_url: str):
    database = create_database(server_url, prefix="audiences_empty")
    try:
        env = {**os.environ, "AUDIENCES_DATABASE_URL": database, "AUDIENCES_SECRET_KEY": LONG_KEY}
        for command in (["account", "list"], ["key", "list"]):
            result = run(env, *command)
            assert result.returncode == 1
            assert result.stderr.splitlines()[-1] == (
                "The database has no audiences schema yet: run `audiences db upgrade` first."
            )
        with psycopg.connect(libpq_url(database)) as connection:
            tables = connection.execute(
                "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
            ).fetchone()
        assert tables == (0,)
    finally:
        drop_database(server_url, database)


def test_an_old_schema_is_named_with_the_way_to_upgrade(server_url: str):
    database = create_database(server_url, prefix="audiences_old")
    try:
        env = {**os.environ, "AUDIENCES_DATABASE_URL": database, "AUDIENCES_SECRET_KEY": LONG_KEY}
        assert run(env, "db", "upgrade", "d560d415a50e").returncode == 0
        result = run(env, "account", "list")
        assert result.returncode == 1
        assert "is older than this version's" in result.stderr
        assert "run `audiences db upgrade`" in result.stderr
    finally:
        drop_database(server_url, database)


def test_without_any_database_nothing_is_created(tmp_path: Path):
    data = tmp_path / "data"
    env = {**os.environ, "AUDIENCES_DATABASE_URL": "", "AUDIENCES_DATA_DIR": str(data)}
    result = run(env, "account", "list")
    assert result.returncode == 1
    assert "No database yet" in result.stderr and "audiences db upgrade" in result.stderr
    assert not data.exists()


def test_a_bad_database_url_is_one_line(tmp_path: Path):
    for url, said in [
        ("not a url", "AUDIENCES_DATABASE_URL is not a database URL"),
        ("postgresql://nobody@127.0.0.1:1/none", "Cannot use the database: connection failed"),
    ]:
        env = {**os.environ, "AUDIENCES_DATABASE_URL": url, "AUDIENCES_SECRET_KEY": LONG_KEY}
        for command in (["account", "list"], ["db", "upgrade"], ["serve", "--port", "1"]):
            result = run(env, *command)
            assert result.returncode != 0, command
            lines = [line for line in result.stderr.splitlines() if line.strip()]
            assert lines[-1].startswith(said), (command, result.stderr)
            assert "Traceback" not in result.stderr, command
            assert len(lines) <= 2, (command, result.stderr)  # the database line, the problem


def test_serve_on_a_busy_port_says_so_in_one_line(cli_env: dict[str, str]):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run(cli_env, "serve", "--port", str(port))
    assert result.returncode == 1
    assert result.stdout == ""  # no "API: ... Docs: ..." banner
    assert result.stderr.strip() == (
        f"Cannot listen on 127.0.0.1:{port}: the port is already in use (is another "
        "`audiences serve` running?); stop it or choose another port with --port."
    )


def test_serve_logs_readable_lines_when_asked(cli_env: dict[str, str], tmp_path: Path):
    server = start_server({**cli_env, "AUDIENCES_LOG_FORMAT": "human"}, tmp_path / "human.log")
    try:
        httpx.get(f"{server.url}/healthz")
    finally:
        stop_server(server)
    lines = server.output().splitlines()
    access = [line for line in lines if "GET /healthz 200" in line]
    assert access and re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} INFO ", access[0])
    assert not any(line.startswith("{") for line in lines)


@pytest.mark.parametrize("key", ["short-key", "change-me-to-a-long-random-string"])
def test_serve_refuses_a_short_or_published_secret_key(cli_env: dict[str, str], key: str):
    result = subprocess.run(
        [AUDIENCES, "serve", "--port", str(free_port())],
        env={**cli_env, "AUDIENCES_SECRET_KEY": key},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "AUDIENCES_SECRET_KEY" in result.stderr


def test_a_restart_does_not_revive_a_revoked_bootstrap_key_nor_its_console_session(
    server_url: str, tmp_path: Path
):
    database = create_database(server_url, prefix="audiences_revived")
    key, secret = "boot-revoked", "boot-revoked-secret-0123456789"
    env = {
        "AUDIENCES_DATABASE_URL": database,
        "AUDIENCES_SECRET_KEY": LONG_KEY,
        "AUDIENCES_BOOTSTRAP_KEY": key,
        "AUDIENCES_BOOTSTRAP_SECRET": secret,
    }
    log = tmp_path / "server.log"
    try:
        first = start_server(env, log)
        try:
            console = httpx.Client(base_url=first.url, follow_redirects=False)
            login = console.get("/console/login")
            csrf = re.search(r'name="csrf" value="([^"]+)"', login.text)
            assert csrf
            signed = console.post(
                "/console/login", data={"key": key, "secret": secret, "csrf": csrf[1]}
            )
            assert signed.status_code == 303
            assert console.get("/console/").status_code == 200
            assert run({**os.environ, **env}, "key", "revoke", key).returncode == 0
        finally:
            stop_server(first)
        second = start_server(env, log, port=int(first.url.rsplit(":", 1)[1]))
        try:
            assert "stays revoked" in second.output()
            ping = httpx.get(f"{second.url}/integrationservice/ping", auth=(key, secret))
            assert ping.status_code == 401
            assert console.get("/console/").status_code == 303  # the old cookie is no session
        finally:
            stop_server(second)
    finally:
        drop_database(server_url, database)


def test_serve_on_port_0_with_workers_listens_where_it_says(
    cli_env: dict[str, str], tmp_path: Path
):
    ready = tmp_path / "ready.json"
    process = subprocess.Popen(
        [AUDIENCES, "serve", "--port", "0", "--workers", "2", "--ready-file", str(ready)],
        env=cli_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        url = read_ready_file(ready, process)["url"]
        # Both workers listen on the announced port, each on a socket of its own.
        server = Server(url, process, tmp_path / "unused.log")
        wait_until_listening(server)
        port = url.rsplit(":", 1)[1]
        first, second = (listening_sockets(worker, int(port)) for worker in live_workers(server))
        assert first and second and not first & second
        assert httpx.get(f"{url}/healthz").status_code == 200
        busy = subprocess.run(
            [AUDIENCES, "serve", "--port", port, "--workers", "2"],
            env=cli_env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert busy.returncode == 1 and "already in use" in busy.stderr, busy.stderr
    finally:
        process.terminate()
        process.wait(40)
