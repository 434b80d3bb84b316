"""pytest fixtures for a connector's test suite (registered under the `pytest11` entry point,
so `pip install audiences` is all it takes; inert until a test asks for a fixture):

- `audiences_service` (session): `audiences serve --ephemeral` started once, on a free port;
  its `url` and admin credential. Stopped at the end of the session, its database removed.
- `audiences_account` (function): a fresh account for the test, through `/testing/accounts`:
  `.base_url` (the `/integrationservice-1.1.0` base), `.consumer_key`, `.consumer_secret`."""

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

BASE_PATH = "/integrationservice-1.1.0"
PRODUCTS = ("professional", "automation", "ecommerce")


@dataclass(frozen=True)
class Service:
    """A running `serve --ephemeral`: where it answers, its admin credential, and its
    throwaway database (a temporary folder, or a database name on a configured server)."""

    url: str
    consumer_key: str
    consumer_secret: str
    data_dir: str
    process: "subprocess.Popen[bytes]"
    log: Path

    @property
    def base_url(self) -> str:
        return self.url + BASE_PATH

    def stop(self, timeout: float = 40) -> int:
        """SIGTERM, as CI stops a job: requests in flight finish, the database is removed."""
        if self.process.poll() is None:
            self.process.terminate()
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()


@dataclass(frozen=True)
class Account:
    """An account of its own for one test."""

    base_url: str
    consumer_key: str
    consumer_secret: str

    @property
    def auth(self) -> tuple[str, str]:
        """HTTP Basic credentials (the service takes OAuth 1.0a as Spotler signs, too)."""
        return self.consumer_key, self.consumer_secret


def start_service(
    folder: Path,
    env: Mapping[str, str] | None = None,
    timeout: float = 120,
    args: tuple[str, ...] = (),
) -> Service:
    """Starts `audiences serve --ephemeral --port 0` and returns once its ready file says it
    answers; its output goes to `folder/audiences.log`."""
    ready = folder / "audiences-ready.json"
    log = folder / "audiences.log"
    ready.unlink(missing_ok=True)
    command = [sys.executable, "-m", "audiences", "serve", "--ephemeral", "--port", "0"]
    with log.open("ab") as output:
        process = subprocess.Popen(  # noqa: S603
            [*command, "--ready-file", str(ready), *args],
            env={**os.environ, **(env or {})},
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        found = _wait_for(ready, process, log, timeout)
    except BaseException:
        # Never left running: stopped as CI would stop it, so its database goes too.
        process.terminate()
        try:
            process.wait(40)
        except subprocess.TimeoutExpired:
            process.kill()
        raise
    return Service(
        found["url"],
        found["consumerKey"],
        found["consumerSecret"],
        found["dataDir"],
        process,
        log,
    )


def _wait_for(
    ready: Path, process: "subprocess.Popen[bytes]", log: Path, timeout: float
) -> dict[str, str]:
    """The ready file's content, once written."""
    deadline = time.monotonic() + timeout
    while not ready.exists():
        if process.poll() is not None:
            raise RuntimeError(f"audiences serve exited ({process.returncode}):\n{log.read_text()}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"audiences serve was not ready in {timeout} s:\n{log.read_text()}")
        time.sleep(0.02)
    found: dict[str, str] = json.loads(ready.read_text())
    return found


def create_account(service: Service, name: str, products: tuple[str, ...] = PRODUCTS) -> Account:
    """A new account through the service's `/testing/accounts` call."""
    answer = httpx.post(
        f"{service.base_url}/testing/accounts",
        json={"name": name[:100] or "test", "products": list(products)},
        auth=(service.consumer_key, service.consumer_secret),
        timeout=30,
    )
    answer.raise_for_status()
    body = answer.json()
    return Account(service.base_url, body["consumerKey"], body["consumerSecret"])


@pytest.fixture(scope="session")
def audiences_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    """`audiences serve --ephemeral`, once for the session."""
    service = start_service(tmp_path_factory.mktemp("audiences"))
    try:
        yield service
    finally:
        service.stop()


@pytest.fixture
def audiences_account(audiences_service: Service, request: pytest.FixtureRequest) -> Account:
    """A fresh account for this test: it sees nothing of any other test's data."""
    return create_account(audiences_service, request.node.name)
