"""The console in a real browser: a tour of sign-in, the overview, a row's menu, moving an
audience to a folder, exporting it, its View, the delete page of an audience in use, mailings,
campaigns and messages, and the overview at phone width. The README shows its screenshots."""

from pathlib import Path

import pytest
import requests
from playwright.sync_api import BrowserContext, Page, expect

from tests.console.conftest import (
    Shot,
    import_contacts,
    make_audience,
    schedule_mailing,
    sign_in,
    url_of,
)
from tests.server.conftest import BOOTSTRAP_KEY, BOOTSTRAP_SECRET, Server


@pytest.fixture(scope="module", autouse=True)
def seeded(api: requests.Session, server: Server) -> None:
    base = url_of(server)
    visitors = [f"web-{i:03d}" for i in range(120)]
    import_contacts(api, server, visitors)
    make_audience(api, server, "visitors-last-month", "Visitors last month", visitors)
    make_audience(api, server, "top-100", "Top 100 customers", visitors[:40])
    make_audience(api, server, "newsletter-optins", "Newsletter opt-ins")
    api.post(f"{base}/folder", json={"name": "Web shop"}, timeout=10)
    api.post(
        f"{base}/campaign",
        json={
            "name": "Win-back",
            "status": "active",
            "steps": [{"name": "Reminder mail", "audienceFilters": ["top-100"]}],
        },
        timeout=10,
    )
    schedule_mailing(api, server, "top-100", "December newsletter", "2099-12-01T09:00:00Z")
    api.post(
        f"{base}/message",
        json={
            "name": "December newsletter",
            "blocks": [
                {"name": "Intro", "content": "Hi"},
                {"name": "VIP offer", "content": "20% off", "audienceExternalId": "top-100"},
            ],
        },
        timeout=10,
    )


def test_a_marketer_finds_views_moves_exports_and_sees_what_keeps_a_delete(
    context: BrowserContext, server: Server, shot: Shot, tmp_path: Path
) -> None:
    page = context.new_page()
    page.goto(f"{server.url}/console/")
    assert page.url.endswith("/console/login")
    shot(page, "1-sign-in")
    sign_in(page, "not the secret")
    expect(page.get_by_role("alert")).to_have_text("That key and secret do not match.")
    # The log says so too: a refused sign-in is not a "200".
    refused = [line for line in server.output().splitlines() if "console sign-in refused" in line]
    assert refused and '"level": "WARNING"' in refused[-1]
    assert '"message": "POST /console/login 401"' in server.output()
    sign_in(page)

    # The overview: each audience with the database icon, its member count and last sync.
    page.wait_for_url(f"{server.url}/console/")
    expect(page.get_by_role("heading", name="Dynamic lists")).to_be_visible()
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
    expect(page.get_by_role("status")).to_have_text("“Visitors last month” moved to Web shop.")
    row = page.get_by_role("row").filter(has_text="Visitors last month")
    assert "Web shop" in row.inner_text()
    page.get_by_role("link", name="Web shop").click()
    expect(page.get_by_role("row").filter(has_text="Visitors last month")).to_have_count(1)
    expect(page.get_by_role("row").filter(has_text="Top 100 customers")).to_have_count(0)

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

    # View: the properties, the contacts in pages, what uses the audience, its history.
    page.goto(f"{server.url}/console/")
    page.get_by_role("link", name="Top 100 customers").click()
    expect(page.get_by_role("heading", name="Top 100 customers")).to_be_visible()
    assert "40" in page.locator("dl.props").inner_text()
    members = page.get_by_role("region", name="Contacts").get_by_role("row")
    expect(members).to_have_count(41)
    in_use = page.locator("aside").inner_text()
    assert "Campaign “Win-back”" in in_use and "Mailing “December newsletter”" in in_use
    history = page.get_by_role("region", name="History").get_by_role("row")
    expect(history.filter(has_text="Create")).to_have_count(1)
    expect(history.filter(has_text=BOOTSTRAP_KEY)).to_have_count(2)  # created, members added
    shot(page, "4-view")

    # Deleting it: the page says what uses it, each linked, with the way to let go.
    page.get_by_role("link", name="Delete audience…").click()
    expect(page.get_by_role("heading", name="It is still in use")).to_be_visible()
    blockers = page.locator("ul.blockers > li")
    expect(blockers).to_have_count(3)
    for name in ("Campaign “Win-back”", "Mailing “December newsletter”", "Content block"):
        expect(blockers.get_by_role("link", name=name)).to_have_count(1)
    expect(page.get_by_role("button", name="Delete audience")).to_have_count(0)
    shot(page, "5-delete-refused")

    # Mailings: create one with an audience as target group and a permission.
    page.get_by_role("link", name="Mailings", exact=True).click()
    page.get_by_label("Name").first.fill("Spring sale")
    page.get_by_label("Target group").first.select_option(label="Visitors last month")
    page.get_by_role("button", name="Create draft").click()
    expect(page.get_by_role("status")).to_contain_text("Spring sale")
    spring = page.get_by_role("row").filter(has_text="Spring sale")
    assert "120" in spring.inner_text()
    shot(page, "6-mailings")

    page.get_by_role("link", name="Campaigns & messages").click()
    reminder = page.get_by_role("row").filter(has_text="Reminder mail")
    assert "Top 100 customers" in reminder.inner_text()
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


def test_the_overview_reads_well_at_phone_width(browser, server: Server, shot: Shot) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page: Page = context.new_page()
    page.goto(f"{server.url}/console/login")
    sign_in(page)
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


def test_no_page_breaks_the_content_security_policy(page: Page, server: Server) -> None:
    """Every page works under its policy (no inline script, style or handler is blocked), and
    a property's removal still asks first."""
    blocked: list[str] = []
    page.on("console", lambda message: blocked.append(message.text))
    page.on("pageerror", lambda error: blocked.append(str(error)))
    page.goto(f"{server.url}/console/properties")
    page.get_by_label("Name", exact=True).fill("csp_probe")
    page.get_by_role("button", name="Add property").click()
    page.wait_for_load_state()
    for path in (
        "/console/",
        "/console/audiences/top-100",
        "/console/audiences/top-100/delete",
        "/console/mailings",
        "/console/properties",
    ):
        page.goto(f"{server.url}{path}")
        page.wait_for_load_state()
    asked: list[str] = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    page.get_by_role("button", name="Remove csp_probe").click()
    expect(page.get_by_role("button", name="Remove csp_probe")).to_be_visible()  # kept: declined
    assert asked and "csp_probe" in asked[0]
    assert not [text for text in blocked if "Content Security Policy" in text], blocked
