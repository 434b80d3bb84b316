"""The package builds with the metadata it declares, and the container setup stops and starts
as a service must: an init process, offline installs, a long enough grace period, no
usable default secret."""

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def test_the_build_backend_understands_the_spdx_license():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert project["project"]["license"] == "Apache-2.0"
    # A license given as an SPDX expression needs setuptools 77 or newer (PEP 639).
    floor = next(r for r in project["build-system"]["requires"] if r.startswith("setuptools"))
    found = re.fullmatch(r"setuptools>=(\d+)(\.\d+)*", floor)
    assert found and int(found[1]) >= 77, floor


def test_the_image_runs_under_an_init_and_installs_only_its_own_wheels():
    dockerfile = (ROOT / "Dockerfile").read_text()
    entrypoint = re.search(r"^ENTRYPOINT (\[.*\])$", dockerfile, re.MULTILINE)
    assert entrypoint and "tini" in entrypoint[1].split(",")[0], "PID 1 must reap orphans"
    assert "apt-get install -y --no-install-recommends tini" in dockerfile
    installs = [line for line in dockerfile.splitlines() if "pip install" in line]
    assert installs and all("--no-index" in line for line in installs), installs


def test_compose_waits_for_the_graceful_stop_and_demands_a_secret_key_and_credential():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    service = compose["services"]["audiences"]
    grace = re.fullmatch(r"(\d+)s", service["stop_grace_period"])
    assert grace and int(grace[1]) > 30 + 5, "uvicorn gets 30 s, the workers' join 35 s"
    secret = service["environment"]["AUDIENCES_SECRET_KEY"]
    assert re.fullmatch(r"\$\{AUDIENCES_SECRET_KEY:\?[^}]+\}", secret), secret
    # No published default credential either: every deployment would answer to it.
    for name in ("AUDIENCES_BOOTSTRAP_KEY", "AUDIENCES_BOOTSTRAP_SECRET"):
        value = service["environment"][name]
        assert re.fullmatch(rf"\$\{{{name}:\?[^}}]+\}}", value), value
