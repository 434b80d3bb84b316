"""The code stays `ruff` and `mypy --strict` clean (part of the suite, so CI enforces it)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def test_ruff_is_clean():
    folders = [f for f in ("src", "tests", "bench") if (ROOT / f).is_dir()]
    result = subprocess.run(
        [str(BIN / "ruff"), "check", *folders], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_strict_is_clean():
    result = subprocess.run([str(BIN / "mypy")], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
