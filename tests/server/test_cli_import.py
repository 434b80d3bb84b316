"""`audiences import members|contacts FILE` against a running service: the file is streamed
through the API's import calls with a progress bar, and the server's report is printed."""

import json
import os
import subprocess
from pathlib import Path

import httpx

from tests.server.conftest import AUDIENCES, BOOTSTRAP_KEY, BOOTSTRAP_SECRET, Server

ROWS = 50_000


def run(server: Server, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {
        **os.environ,
        "AUDIENCES_API_URL": f"{server.url}/integrationservice",
        "AUDIENCES_API_KEY": BOOTSTRAP_KEY,
        "AUDIENCES_API_SECRET": BOOTSTRAP_SECRET,
        **env,
    }
    return subprocess.run(
        [AUDIENCES, "import", *args], env=environment, capture_output=True, text=True, timeout=300
    )


def test_contacts_then_members_are_imported_with_progress(server: Server, tmp_path: Path):
    contacts = tmp_path / "contacts.csv"
    contacts.write_text(
        "externalId,email\n" + "".join(f"imp-{i},imp{i}@example.com\n" for i in range(ROWS))
    )
    imported = run(server, "contacts", str(contacts), "--json")
    assert imported.returncode == 0, imported.stderr
    report = json.loads(imported.stdout)
    assert (report["received"], report["created"], report["failed"]) == (ROWS, ROWS, 0)
    assert f"{ROWS:,} rows" in imported.stderr  # the progress bar, on stderr

    auth = (BOOTSTRAP_KEY, BOOTSTRAP_SECRET)
    api = f"{server.url}/integrationservice"
    httpx.post(f"{api}/audience", json={"externalId": "imp", "name": "Imported"}, auth=auth)
    members = tmp_path / "members.txt"
    members.write_text("".join(f"imp-{i}\n" for i in range(ROWS)) + "nobody")  # no last \n
    refused = run(server, "members", str(members), "--audience", "imp")
    assert refused.returncode == 1
    assert refused.stderr.strip().splitlines()[-1].startswith("CONTACT_NOT_FOUND: ")
    added = run(server, "members", str(members), "--audience", "imp", "--unknown", "skip")
    assert added.returncode == 0, added.stderr
    assert f"{ROWS + 1:,} rows" in added.stderr
    lines = dict(line.split(":", 1) for line in added.stdout.splitlines())
    assert lines["         added"].strip() == f"{ROWS:,}"
    assert lines["   unknown ids"].strip() == "nobody"
    count = httpx.get(f"{api}/audience", params={"name": "Imported"}, auth=auth).json()
    assert count["audiences"][0]["memberCount"] == ROWS

    half = tmp_path / "half.ndjson"
    half.write_text("".join(json.dumps(f"imp-{i}") + "\n" for i in range(ROWS // 2)))
    dry = run(server, "members", str(half), "--audience", "imp", "--replace", "--dry-run", "--json")
    assert json.loads(dry.stdout) == {
        "added": 0,
        "removed": ROWS // 2,
        "unchanged": ROWS // 2,
        "unknown": 0,
        "unknownSample": [],
        "dryRun": True,
    }
    replaced = run(server, "members", str(half), "--audience", "imp", "--replace", "--json")
    assert json.loads(replaced.stdout)["removed"] == ROWS // 2


def test_refusals_are_said_before_the_file_is_sent(server: Server, tmp_path: Path):
    members = tmp_path / "members.txt"
    members.write_text("a\nb\n")
    unknown = run(server, "members", str(members), "--audience", "no-such-audience")
    assert (unknown.returncode, unknown.stderr.strip()) == (
        1,
        "RESOURCE_NOT_FOUND: Audience not found",
    )
    wrong = run(server, "members", str(members), "--audience", "x", AUDIENCES_API_SECRET="wrong")
    assert wrong.returncode == 1 and wrong.stderr.startswith("NOT_AUTHORIZED: ")
    anonymous = run(
        server,
        "contacts",
        str(members),
        "--format",
        "csv",
        AUDIENCES_API_KEY="",
        AUDIENCES_API_SECRET="",
    )
    assert anonymous.returncode == 2 and "AUDIENCES_API_KEY" in anonymous.stderr
    nowhere = run(
        server,
        "members",
        str(members),
        "--audience",
        "x",
        AUDIENCES_API_URL="http://127.0.0.1:1/integrationservice",
    )
    assert nowhere.returncode == 1 and "Is `audiences serve` running there" in nowhere.stderr
    missing = run(server, "members", str(tmp_path / "nope.txt"), "--audience", "x")
    assert missing.returncode == 2 and "Cannot read" in missing.stderr
