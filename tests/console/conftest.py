"""The console's browser tests: Debian's Chromium driven by Playwright, against the real server
started by tests/server (one per test module, so modules do not see each other's audiences).

Screenshots go to a temporary folder, so a test run leaves the checkout clean; set
AUDIENCES_SCREENSHOTS=docs/screenshots to refresh the ones the README shows."""

import os
import shutil
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest
import requests
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

from tests.server.conftest import BOOTSTRAP_KEY, BOOTSTRAP_SECRET, Server, server

__all__ = ["server"]

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or "/usr/bin/chromium"
FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
Shot = Callable[[Page, str], None]
# The machine running the tests may be busy (a few cores shared by several suites): waits are
# generous, and only a real absence fails.
WAIT_MS = 20_000
expect.set_options(timeout=WAIT_MS)


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    asked = os.environ.get("AUDIENCES_SCREENSHOTS")
    folder = Path(asked) if asked else tmp_path_factory.mktemp("screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="session")
def shot(screenshots: Path) -> Shot:
    def take(page: Page, name: str) -> None:
        page.screenshot(path=str(screenshots / f"{name}.png"), full_page=True)

    return take


@pytest.fixture(scope="module")
def api(server: Server) -> Iterator[requests.Session]:
    """The server's API, as the bootstrap account (to seed what the console shows)."""
    http = requests.Session()
    http.auth = (BOOTSTRAP_KEY, BOOTSTRAP_SECRET)
    yield http
    http.close()


@pytest.fixture(scope="module")
def browser(server: Server) -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium is needed for the browser tests ({CHROMIUM}); .ci/run installs it")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield chromium
        chromium.close()


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    """A fresh browser profile (no session cookie), in Amsterdam, in British English."""
    context = browser.new_context(
        viewport={"width": 1280, "height": 860},
        accept_downloads=True,
        timezone_id="Europe/Amsterdam",
        locale="en-GB",
    )
    context.set_default_timeout(WAIT_MS)
    yield context
    context.close()


def sign_in(page: Page, secret: str = BOOTSTRAP_SECRET) -> None:
    """Fills in the sign-in form the page shows and sends it."""
    page.get_by_label("Consumer key").fill(BOOTSTRAP_KEY)
    page.get_by_label("Consumer secret").fill(secret)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


def url_of(server: Server) -> str:
    return f"{server.url}/integrationservice"


def import_contacts(api: requests.Session, server: Server, external_ids: list[str]) -> None:
    lines = "".join(
        f'{{"externalId": "{e}", "properties": {{"email": "{e}@example.com", '
        f'"permissions": [{{"bit": 1, "enabled": true}}]}}}}\n'
        for e in external_ids
    )
    response = api.post(
        f"{url_of(server)}/contact/import",
        data=lines.encode(),
        headers={"content-type": "application/x-ndjson"},
        timeout=60,
    )
    assert response.status_code == 200, response.text


def make_audience(
    api: requests.Session, server: Server, external_id: str, name: str, members: Sequence[str] = ()
) -> None:
    created = api.post(
        f"{url_of(server)}/audience", json={"externalId": external_id, "name": name}, timeout=10
    )
    assert created.status_code == 200, created.text
    if members:
        imported = api.post(
            f"{url_of(server)}/audience/{external_id}/contact/import",
            data="".join(f"{m}\n" for m in members).encode(),
            headers={"content-type": "text/plain"},
            timeout=60,
        )
        assert imported.status_code == 200, imported.text


def schedule_mailing(
    api: requests.Session, server: Server, audience: str, name: str, start: str
) -> str:
    """A mailing to the audience, scheduled for `start`; answers its id."""
    base = url_of(server)
    mailing = api.post(
        f"{base}/mailing",
        json={"name": name, "type": "EMAIL", "audienceExternalId": audience, "permissionBit": 1},
        timeout=10,
    )
    assert mailing.status_code == 201, mailing.text
    encrypted_id: str = mailing.json()["encryptedId"]
    scheduled = api.post(
        f"{base}/mailing/{encrypted_id}/schedule", json={"scheduledStartDate": start}, timeout=10
    )
    assert scheduled.status_code == 200, scheduled.text
    return encrypted_id


def start_automailer(api: requests.Session, server: Server, audience: str, name: str) -> str:
    """An active automailer on the audience until 2099; answers its id."""
    automailer = api.post(
        f"{url_of(server)}/automailer",
        json={
            "name": name,
            "audienceExternalId": audience,
            "permissionBit": 1,
            "firstSendingMoment": "2026-01-01T00:00:00Z",
            "period": "P3D",
            "lastSendingMoment": "2099-01-01T00:00:00Z",
        },
        timeout=10,
    )
    assert automailer.status_code == 201, automailer.text
    public_id: str = automailer.json()["id"]
    return public_id


@pytest.fixture
def page(context: BrowserContext, server: Server) -> Page:
    """A page signed in to the console, on the overview."""
    page = context.new_page()
    page.goto(f"{server.url}/console/login")
    sign_in(page)
    page.wait_for_url(f"{server.url}/console/")
    return page
