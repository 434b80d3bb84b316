"""Deleting an audience in the console, in a real browser: always asked first, a large one only
once its name is typed, and one in use shows each user linked, with the way to let go of it
(cancel the mailing, stop the automailer, remove the filter or the block), then deletes."""

import pytest
import requests
from playwright.sync_api import Page, expect

from tests.console.conftest import (
    Shot,
    import_contacts,
    make_audience,
    schedule_mailing,
    start_automailer,
    url_of,
)
from tests.server.conftest import Server

LARGE = 10_000


@pytest.fixture(scope="module", autouse=True)
def seeded(api: requests.Session, server: Server) -> None:
    contacts = [f"d-{i:05d}" for i in range(LARGE)]
    import_contacts(api, server, contacts)
    make_audience(api, server, "small", "Small list", contacts[:3])
    make_audience(api, server, "large", "Large list", contacts)


def open_delete_page(page: Page, name: str) -> None:
    row = page.get_by_role("row").filter(has_text=name)
    row.get_by_label(f"Actions for {name}").click()
    row.get_by_role("link", name="Delete…").click()
    expect(page.get_by_role("heading", name=f"Delete “{name}”")).to_be_visible()


def test_a_delete_is_asked_first(page: Page, server: Server, shot: Shot) -> None:
    open_delete_page(page, "Small list")
    expect(page.get_by_role("heading", name="Are you sure?")).to_be_visible()
    expect(page.get_by_text("and its 3 memberships will be deleted")).to_be_visible()
    expect(page.get_by_label("Type the audience's name to confirm")).to_have_count(0)
    shot(page, "12-delete-confirm")
    page.get_by_role("link", name="Keep it").click()
    expect(page.get_by_role("heading", name="Small list")).to_be_visible()

    page.get_by_role("link", name="Delete audience…").click()
    page.get_by_role("button", name="Delete audience").click()
    expect(page.get_by_role("status")).to_have_text("Audience “Small list” deleted.")
    expect(page.get_by_role("row").filter(has_text="Small list")).to_have_count(0)


def test_a_large_audience_is_deleted_only_once_its_name_is_typed(
    page: Page, api: requests.Session, server: Server, shot: Shot
) -> None:
    open_delete_page(page, "Large list")
    confirm = page.get_by_label("Type the audience's name to confirm")
    confirm.fill("Large")
    page.get_by_role("button", name="Delete audience").click()
    # The browser keeps the form until the name matches...
    assert confirm.evaluate("input => input.validity.customError")
    expect(page.get_by_role("heading", name="Delete “Large list”")).to_be_visible()
    # ...and the server checks it too.
    page.locator("form:has(#confirm-name)").evaluate("form => form.submit()")
    expect(page.get_by_role("alert")).to_have_text(
        "Type the audience's name, “Large list”, to delete it."
    )
    assert api.get(f"{url_of(server)}/audience/large", timeout=10).status_code == 200
    confirm = page.get_by_label("Type the audience's name to confirm")
    confirm.fill("Large list")
    shot(page, "13-delete-large")
    page.get_by_role("button", name="Delete audience").click()
    expect(page.get_by_role("status")).to_have_text("Audience “Large list” deleted.")
    assert api.get(f"{url_of(server)}/audience/large", timeout=10).status_code == 404


def seed_users(api: requests.Session, server: Server) -> dict[str, str]:
    """An audience with each kind of user; answers their ids."""
    base = url_of(server)
    make_audience(api, server, "vip", "VIP customers", ["d-00001"])
    make_audience(api, server, "other", "Other list")
    mailing = schedule_mailing(api, server, "vip", "Spring sale", "2099-03-01T09:00:00Z")
    automailer = start_automailer(api, server, "vip", "Welcome series")
    campaign = api.post(
        f"{base}/campaign",
        json={
            "name": "Win-back",
            "steps": [{"name": "Reminder", "audienceFilters": ["vip", "other"]}],
        },
        timeout=10,
    ).json()
    automation = api.post(
        f"{base}/automation",
        json={"name": "Birthday", "triggers": [{"name": "Birthday", "audienceFilters": ["vip"]}]},
        timeout=10,
    ).json()
    message = api.post(
        f"{base}/message",
        json={
            "name": "Newsletter",
            "blocks": [
                {"name": "Intro", "content": "Hi"},
                {"name": "VIP offer", "content": "20% off", "audienceExternalId": "vip"},
            ],
        },
        timeout=10,
    ).json()
    return {
        "mailing": mailing,
        "automailer": automailer,
        "campaign": campaign["id"],
        "automation": automation["id"],
        "message": message["id"],
    }


def test_an_audience_in_use_shows_each_user_linked_and_lets_go_of_them(
    page: Page, api: requests.Session, server: Server, shot: Shot
) -> None:
    ids = seed_users(api, server)
    base = url_of(server)
    page.reload()
    open_delete_page(page, "VIP customers")
    blockers = page.locator("ul.blockers > li")
    expect(blockers).to_have_count(5)
    # 09:00 UTC, in the browser's time zone (Amsterdam).
    expect(blockers.first).to_contain_text("Scheduled for 1 Mar 2099, 10:00")
    expect(page.get_by_role("button", name="Delete audience")).to_have_count(0)

    # Each one is linked to where it lives.
    page.get_by_role("link", name="Mailing “Spring sale”").click()
    assert page.url.endswith(f"/console/mailings#mailing-{ids['mailing']}")
    expect(page.locator(f"#mailing-{ids['mailing']}")).to_contain_text("scheduled")
    page.go_back()
    page.get_by_role("link", name="Automation “Birthday”").click()
    assert page.url.endswith(f"/console/usage#automation-{ids['automation']}")
    expect(page.locator(f"#automation-{ids['automation']}")).to_contain_text("VIP customers")
    page.go_back()

    # Each action is confirmed first; Escape takes the question away.
    page.get_by_text("Cancel the mailing…").click()
    question = page.get_by_text("Cancel mailing “Spring sale”? It will not be sent.")
    expect(question).to_be_visible()
    shot(page, "14-let-go-confirm")
    page.keyboard.press("Escape")
    expect(question).to_be_hidden()
    page.get_by_text("Cancel the mailing…").click()
    page.get_by_role("button", name="Yes, cancel the mailing").click()
    expect(page.get_by_role("status")).to_have_text("Mailing “Spring sale” cancelled.")
    expect(blockers).to_have_count(4)

    page.get_by_text("Stop the automailer…").click()
    page.get_by_role("button", name="Yes, stop the automailer").click()
    expect(page.get_by_role("status")).to_have_text("Automailer “Welcome series” stopped.")
    for _ in range(2):  # the campaign's, then the automation's
        page.get_by_text("Remove the filter…").first.click()
        page.get_by_role("button", name="Yes, remove the filter").click()
        expect(page.get_by_role("status")).to_contain_text("The audience was removed from")
    page.get_by_text("Remove the block…").click()
    page.get_by_role("button", name="Yes, remove the block").click()
    expect(page.get_by_role("status")).to_have_text(
        "The audience's dynamic content was removed from message “Newsletter”."
    )

    # Nothing uses it any more: now it can go.
    expect(page.get_by_role("heading", name="Are you sure?")).to_be_visible()
    page.get_by_role("button", name="Delete audience").click()
    expect(page.get_by_role("status")).to_have_text("Audience “VIP customers” deleted.")

    # What was let go of is otherwise intact.
    mailing = api.get(f"{base}/mailing/{ids['mailing']}", timeout=10).json()
    assert mailing["status"] == "cancelled"
    automailer = api.get(f"{base}/automailer/{ids['automailer']}", timeout=10).json()
    assert automailer["status"] == "stopped"
    campaign = api.get(f"{base}/campaign/{ids['campaign']}", timeout=10).json()
    assert campaign["steps"][0]["name"] == "Reminder"
    assert campaign["steps"][0]["audienceFilters"] == ["other"]
    message = api.get(f"{base}/message/{ids['message']}", timeout=10).json()
    assert [b["name"] for b in message["blocks"]] == ["Intro"]


def test_the_mailings_page_cancels_and_stops_too(
    page: Page, api: requests.Session, server: Server
) -> None:
    make_audience(api, server, "weekly", "Weekly")
    mailing = schedule_mailing(api, server, "weekly", "Weekly news", "2099-05-01T09:00:00Z")
    automailer = start_automailer(api, server, "weekly", "Weekly welcome")
    page.get_by_role("link", name="Mailings", exact=True).click()
    row = page.locator(f"#mailing-{mailing}")
    row.get_by_text("Cancel…").click()
    row.get_by_role("button", name="Yes, cancel the mailing").click()
    expect(page.get_by_role("status")).to_have_text("Mailing “Weekly news” cancelled.")
    expect(page.locator(f"#mailing-{mailing}")).to_contain_text("cancelled")
    row = page.locator(f"#automailer-{automailer}")
    row.get_by_text("Stop…").click()
    row.get_by_role("button", name="Yes, stop the automailer").click()
    expect(page.get_by_role("status")).to_have_text("Automailer “Weekly welcome” stopped.")
    expect(page.locator(f"#automailer-{automailer}")).to_contain_text("stopped")
    # Cancelled twice (from another tab): said on the page, not a raw error.
    response = page.context.request.post(
        f"{server.url}/console/mailings/{mailing}/cancel",
        form={"csrf": page.locator("input[name=csrf]").first.input_value()},
    )
    assert response.ok and "A cancelled mailing cannot cancel" in response.text()
