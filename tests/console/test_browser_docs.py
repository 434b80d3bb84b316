"""The OpenAPI page in a real browser: the Authorize dialog shows both schemes without an
error, Basic lets "Try it out" call the API, and the credential is not kept in the browser."""

from pathlib import Path

from playwright.sync_api import BrowserContext, expect

from tests.server.conftest import BOOTSTRAP_KEY, BOOTSTRAP_SECRET, Server


def test_authorize_shows_both_schemes_and_basic_tries_calls(
    context: BrowserContext, server: Server, screenshots: Path
) -> None:
    page = context.new_page()
    page.goto(f"{server.url}/docs")
    sections = page.locator(".opblock-tag-section h3")
    expect(sections.first).to_have_attribute("data-tag", "Contacts")
    tags = [sections.nth(i).get_attribute("data-tag") for i in range(3)]
    assert tags == ["Contacts", "Audiences", "Audience contacts"]

    page.get_by_role("button", name="Authorize").first.click()
    dialog = page.locator(".dialog-ux .modal-ux")
    expect(dialog).to_contain_text("basicAuth")
    expect(dialog).to_contain_text("oauth1")
    expect(dialog).to_contain_text("HMAC-SHA1")
    assert "unsupported" not in dialog.inner_text().lower()
    page.screenshot(path=str(screenshots / "15-docs-authorize.png"))
    basic = dialog.locator(".auth-container").filter(has_text="basicAuth")
    basic.locator("input").nth(0).fill(BOOTSTRAP_KEY)
    basic.locator("input[type=password]").fill(BOOTSTRAP_SECRET)
    basic.get_by_role("button", name="Apply credentials").click()
    expect(basic.get_by_role("button", name="Remove authorization")).to_be_visible()
    dialog.get_by_role("button", name="Close").first.click()

    operation = page.locator("#operations-Contacts-list_properties")
    operation.locator(".opblock-summary").click()
    operation.get_by_role("button", name="Execute").click()
    status = operation.locator(".live-responses-table tbody .response-col_status")
    expect(status).to_have_text("200")
    stored = page.evaluate("JSON.stringify(Object.assign({}, window.localStorage))")
    assert BOOTSTRAP_SECRET not in stored and "authorized" not in stored
