"""The console in a real browser (Debian's Chromium driven by Playwright): sign in, the
overview, moving an audience to a folder, exporting it, its View, and a refused delete told in
plain words. Each page's screenshot is saved under docs/screenshots/ (the README shows them), or
in the folder AUDIENCES_SCREENSHOTS names."""

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from playwright.sync_api import Browser, Page, sync_playwright

from tests.server.conftest import BOOTSTRAP_KEY, BOOTSTRAP_SECRET, Server

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or "/usr/bin/chromium"
SHOTS = Path(
    os.environ.get("AUDIENCES_SCREENSHOTS")
    or Path(__file__).resolve().parents[2] / "docs" / "screenshots"
)
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


def seed(api: str) -> None:
    http = requests.Session()
    http.auth = (BOOTSTRAP_KEY, BOOTSTRAP_SECRET)
    contacts = "".join(
        f'{{"externalId": "web-{i:03d}", "properties": {{"email": "visitor{i}@example.com", '
        f'"permissions": [{{"bit": 1, "enabled": true}}]}}}}\n'
        for i in range(120)
    )
    http.post(
        f"{api}/contact/import",
        data=contacts,
        headers={"content-type": "application/x-ndjson"},
        timeout=30,
    )
    for external_id, name in [
        ("visitors-last-month", "Visitors last month"),
        ("top-100", "Top 100 customers"),
        ("newsletter-optins", "Newsletter opt-ins"),
    ]:
        http.post(f"{api}/audience", json={"externalId": external_id, "name": name}, timeout=10)
    ids = "".join(f"web-{i:03d}\n" for i in range(120)).encode()
    http.post(
        f"{api}/audience/visitors-last-month/contact/import",
        data=ids,
        headers={"content-type": "text/plain"},
        timeout=30,
    )
    http.post(
        f"{api}/audience/top-100/contact",
        json={"contacts": [f"web-{i:03d}" for i in range(40)]},
        timeout=10,
    )
    http.post(f"{api}/folder", json={"name": "Web shop"}, timeout=10)
    http.post(
        f"{api}/campaign",
        json={
            "name": "Win-back",
            "status": "active",
            "steps": [{"name": "Reminder mail", "audienceFilters": ["top-100"]}],
        },
        timeout=10,
    )
    mailing = http.post(
        f"{api}/mailing",
        json={
            "name": "December newsletter",
            "type": "EMAIL",
            "audienceExternalId": "top-100",
            "permissionBit": 1,
        },
        timeout=10,
    ).json()
    http.post(
        f"{api}/mailing/{mailing['encryptedId']}/schedule",
        json={"scheduledStartDate": "2099-12-01T09:00:00Z"},
        timeout=10,
    )
    http.post(
        f"{api}/message",
        json={
            "name": "December newsletter",
            "blocks": [
                {"name": "Intro", "content": "Hi"},
                {"name": "VIP offer", "content": "20% off", "audienceExternalId": "top-100"},
            ],
        },
        timeout=10,
    )


@pytest.fixture(scope="module")
def browser(server: Server) -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium is needed for the browser tests ({CHROMIUM}); .ci/run installs it")
    seed(f"{server.url}/integrationservice")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield chromium
        chromium.close()


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_a_marketer_finds_views_moves_exports_and_is_told_why_not_delete(
    browser: Browser, server: Server, tmp_path: Path
) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 860}, accept_downloads=True)
    page = context.new_page()
    page.goto(f"{server.url}/console/")
    assert page.url.endswith("/console/login")
    shot(page, "1-sign-in")
    page.get_by_label("Consumer key").fill(BOOTSTRAP_KEY)
    page.get_by_label("Consumer secret").fill("not the secret")
    page.get_by_role("button", name="Sign in").click()
    assert page.get_by_role("alert").inner_text() == "That key and secret do not match."
    page.get_by_label("Consumer secret").fill(BOOTSTRAP_SECRET)
    page.get_by_role("button", name="Sign in").click()

    # The overview: each audience with the database icon, its member count and last sync.
    page.wait_for_url(f"{server.url}/console/")
    assert page.get_by_role("heading", name="Dynamic lists").is_visible()
    row = page.get_by_role("row").filter(has_text="Visitors last month")
    assert row.get_by_role("img", name="Audience").count() == 1
    assert "120" in row.inner_text()
    shot(page, "2-overview")

    # Move to folder, from the row's menu, with the keyboard.
    row.get_by_label("Actions for Visitors last month").focus()
    page.keyboard.press("Enter")
    shot(page, "3-row-menu")
    row.get_by_label("Move to folder").select_option(label="Web shop")
    row.get_by_role("button", name="Move").click()
    page.wait_for_load_state()
    assert "moved" in page.get_by_role("status").first.inner_text()
    row = page.get_by_role("row").filter(has_text="Visitors last month")
    assert "Web shop" in row.inner_text()
    page.get_by_role("link", name="Web shop").click()
    assert page.get_by_role("row").filter(has_text="Visitors last month").count() == 1
    assert page.get_by_role("row").filter(has_text="Top 100 customers").count() == 0

    # Export CSV.
    row = page.get_by_role("row").filter(has_text="Visitors last month")
    row.get_by_label("Actions for Visitors last month").click()
    with page.expect_download() as download_info:
        row.get_by_role("link", name="Export CSV").click()
    exported = tmp_path / "export.csv"
    download_info.value.save_as(exported)
    lines = exported.read_text().splitlines()
    assert lines[0] == "externalId,email,addedAt"
    assert len(lines) == 121

    # View: the properties, the contacts in pages, and what uses the audience.
    page.goto(f"{server.url}/console/")
    page.get_by_role("link", name="Top 100 customers").click()
    assert page.get_by_role("heading", name="Top 100 customers").is_visible()
    assert "40" in page.locator("dl.props").inner_text()
    assert page.get_by_role("row").count() == 41
    in_use = page.locator("aside").inner_text()
    assert "Campaign “Win-back”" in in_use and "Mailing “December newsletter”" in in_use
    shot(page, "4-view")

    # A refused delete, in plain words.
    page.get_by_role("button", name="Delete audience").click()
    alert = page.get_by_role("alert").inner_text()
    assert alert.startswith("This audience cannot be deleted because it is in use by")
    assert "Win-back" in alert and "December newsletter" in alert
    shot(page, "5-delete-refused")

    # Mailings: create one with an audience as target group and a permission.
    page.get_by_role("link", name="Mailings").click()
    page.get_by_label("Name").first.fill("Spring sale")
    page.get_by_label("Target group").first.select_option(label="Visitors last month")
    page.get_by_role("button", name="Create draft").click()
    assert "Spring sale" in page.get_by_role("status").first.inner_text()
    spring = page.get_by_role("row").filter(has_text="Spring sale")
    assert "120" in spring.inner_text()
    shot(page, "6-mailings")

    page.get_by_role("link", name="Campaigns & messages").click()
    assert (
        "Top 100 customers" in page.get_by_role("row").filter(has_text="Reminder mail").inner_text()
    )
    shot(page, "7-campaigns-and-messages")

    # Contact properties: the standard ones and the account's own; define one.
    page.get_by_role("link", name="Contact properties").click()
    assert page.get_by_role("row").filter(has_text="Newsletter").count() == 1
    page.get_by_label("Name", exact=True).fill("customerType")
    page.get_by_label("Description", exact=True).fill("Customer type")
    page.get_by_role("button", name="Add property").click()
    assert "customerType" in page.get_by_role("status").first.inner_text()
    assert page.get_by_role("button", name="Remove customerType").is_visible()
    shot(page, "9-contact-properties")

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(f"{server.url}/console/login")
    page.goto(f"{server.url}/console/")
    assert page.url.endswith("/console/login")
    context.close()


def test_the_overview_reads_well_at_phone_width(browser: Browser, server: Server) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    page.goto(f"{server.url}/console/login")
    page.get_by_label("Consumer key").fill(BOOTSTRAP_KEY)
    page.get_by_label("Consumer secret").fill(BOOTSTRAP_SECRET)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{server.url}/console/")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 400, f"the page scrolls sideways ({width}px)"
    shot(page, "8-overview-phone")
    context.close()


def test_forms_without_the_csrf_token_are_refused(server: Server) -> None:
    session = requests.Session()
    page = session.get(f"{server.url}/console/login", timeout=10)
    set_cookie = page.headers["set-cookie"].lower()
    assert (
        "httponly" in set_cookie
        and "samesite=strict" in set_cookie
        and "path=/console" in set_cookie
    )
    response = session.post(
        f"{server.url}/console/login",
        data={"key": BOOTSTRAP_KEY, "secret": BOOTSTRAP_SECRET},
        timeout=10,
    )
    assert response.status_code == 400
    assert "expired" in response.text
