"""docs/ci.md's shell recipe runs as written: `with-audiences.sh` starts the stand-in, runs the
doc's Node suite against it (an account per test, a retry against a real 503), passes the suite's
failure on, and leaves no database behind either way."""

import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[1] / "docs" / "ci.md"
MARK = re.compile(r"<!-- run by tests/test_ci_doc.py: (\S+) -->\n```\w+\n(.*?)\n```", re.DOTALL)


def recipe_files() -> dict[str, str]:
    """The doc's marked blocks by the file name they are run as."""
    text = DOC.read_text()
    found = {name: code + "\n" for name, code in MARK.findall(text)}
    assert len(found) == text.count("<!-- run by tests/test_ci_doc.py"), "a mark without a block"
    return found


def ephemeral_folders() -> set[Path]:
    return set(Path(tempfile.gettempdir()).glob("audiences-ephemeral-*"))


def run(folder: Path, *command: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "AUDIENCES_DATABASE_URL": "",
        "AUDIENCES_SECRET_KEY": "",
        "AUDIENCES_BOOTSTRAP_KEY": "",
    }
    return subprocess.run(
        ["bash", "with-audiences.sh", *command],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture
def recipe(tmp_path: Path) -> Path:
    for name, code in recipe_files().items():
        (tmp_path / name).write_text(code)
    return tmp_path


@pytest.mark.skipif(shutil.which("node") is None or shutil.which("jq") is None, reason="node, jq")
def test_the_shell_recipe_runs_the_node_suite_as_written(recipe: Path):
    before = ephemeral_folders()
    result = run(recipe, "node", "--test")
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"^# pass 2$", result.stdout, re.MULTILINE), result.stdout
    assert ephemeral_folders() - before == set()


@pytest.mark.skipif(shutil.which("jq") is None, reason="jq")
def test_a_failing_suite_fails_the_job_and_leaves_nothing_behind(recipe: Path):
    before = ephemeral_folders()
    result = run(recipe, "bash", "-c", 'test -n "$SPOTLER_CONSUMER_SECRET" && exit 3')
    assert result.returncode == 3, result.stdout + result.stderr
    assert ephemeral_folders() - before == set()


def test_the_doc_marks_the_script_and_the_node_suite():
    assert set(recipe_files()) == {"with-audiences.sh", "connector.test.mjs"}
