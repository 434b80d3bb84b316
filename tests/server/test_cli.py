"""The `audiences` command: migrations, accounts and keys against a real database."""

import json
import os
import subprocess
from collections.abc import Iterator

import httpx
import pytest

from tests.conftest import create_database, drop_database
from tests.server.conftest import AUDIENCES, Server, start_server, stop_server


@pytest.fixture(scope="module")
def cli_env(server_url: str) -> Iterator[dict[str, str]]:
    database = create_database(server_url, prefix="audiences_cli")
    yield {**os.environ, "AUDIENCES_DATABASE_URL": database, "AUDIENCES_SECRET_KEY": "cli-key"}
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
