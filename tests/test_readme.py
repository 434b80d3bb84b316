"""The README's snippets run as written against a live `audiences serve`: every block marked
`<!-- run by tests/test_readme.py -->`, in order, twice in a row, each in a fresh shell (a
bare environment; only the database of the admin commands is given, as a user's would be).
The one change: the server listens on a free port instead of 8000. The credential the README
shows is the server's bootstrap credential, so the snippets need no editing."""

import os
import re
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import create_database, drop_database
from tests.server.conftest import Server, start_server, stop_server

README = Path(__file__).resolve().parents[1] / "README.md"
MARK = "<!-- run by tests/test_readme.py -->"
BLOCK = re.compile(re.escape(MARK) + r"\n( *)```(\w+)\n(.*?)\n\1```", re.DOTALL)


def snippets() -> list[tuple[str, str]]:
    """(language, code) of each marked block, in the README's order."""
    text = README.read_text()
    found = [(m[2], textwrap.dedent(m[3])) for m in BLOCK.finditer(text)]
    assert len(found) == text.count(MARK), "a marked block is not a fenced code block"
    return found


def readme_credential() -> tuple[str, str]:
    found = re.search(r"^K=(\S+) S=(\S+)$", README.read_text(), re.MULTILINE)
    assert found, "the curl walkthrough sets K and S"
    return found[1], found[2]


@pytest.fixture(scope="module")
def live(server_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, str]]:
    database = create_database(server_url, prefix="audiences_readme")
    key, secret = readme_credential()
    env = {
        "AUDIENCES_DATABASE_URL": database,
        "AUDIENCES_SECRET_KEY": "readme-tests-server-key-3e8a1c5f7d0b9246",
        "AUDIENCES_BOOTSTRAP_KEY": key,
        "AUDIENCES_BOOTSTRAP_SECRET": secret,
        "AUDIENCES_BOOTSTRAP_PRODUCTS": "automation,ecommerce",
    }
    server = start_server(env, tmp_path_factory.mktemp("readme") / "server.log")
    yield server, database
    stop_server(server)
    drop_database(server_url, database)


def test_the_readme_snippets_run_as_written_twice_in_a_row(
    live: tuple[Server, str], tmp_path: Path
) -> None:
    server, database = live
    blocks = snippets()
    assert [language for language, _ in blocks].count("sh") >= 4
    assert any(language == "python" for language, _ in blocks)
    # The README's commands run from the folder where its first command made .venv.
    (tmp_path / ".venv").symlink_to(Path(sys.executable).parent.parent)
    address = server.url.removeprefix("http://")
    fresh = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "LANG": "C.UTF-8",
        "AUDIENCES_DATABASE_URL": database,
        "AUDIENCES_SECRET_KEY": "readme-tests-server-key-3e8a1c5f7d0b9246",
    }
    for round in (1, 2):
        for language, code in blocks:
            runnable = code.replace("127.0.0.1:8000", address)
            command = (
                ["bash", "-e", "-o", "pipefail", "-c", runnable]
                if language == "sh"
                else [".venv/bin/python", "-c", runnable]
            )
            result = subprocess.run(
                command, cwd=tmp_path, env=fresh, capture_output=True, text=True, timeout=600
            )
            assert result.returncode == 0, (
                f"round {round}, {language} block starting {code[:80]!r}:\n"
                f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
            )
            if language == "python":
                assert "'externalId': 'visitors'" in result.stdout
    exported = (tmp_path / "members.csv").read_text().splitlines()
    assert exported[0] == "externalId,email,addedAt" and len(exported) == 10_001
