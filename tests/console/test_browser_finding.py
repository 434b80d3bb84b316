"""Finding things in the console, in a real browser: searching the lists by name or id,
sorting them, paging through them, folders made, renamed and deleted, searching the members
of an audience, coming back to the asked page after signing in, the keyboard, local times."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import requests
from playwright.sync_api import BrowserContext, Page, expect

from tests.console.conftest import Shot, import_contacts, make_audience, sign_in, url_of
from tests.server.conftest import Server

LISTS = 62
DASH = "\N{EN DASH}"
CONTACTS = [f"c-{i:03d}" for i in range(30)]
# Member counts of a few lists; the last one gets its members last (the newest sync).
MEMBERS = {"list-05": 30, "list-40": 3, "list-12": 20}


@pytest.fixture(scope="module", autouse=True)
def seeded(api: requests.Session, server: Server) -> None:
    import_contacts(api, server, CONTACTS)
    for i in range(1, LISTS + 1):
        name = "Top spenders" if i == 33 else f"List {i:02d}"
        make_audience(api, server, f"list-{i:02d}", name)
    for external_id, count in MEMBERS.items():
        imported = api.post(
            f"{url_of(server)}/audience/{external_id}/contact/import",
            data="".join(f"{c}\n" for c in CONTACTS[:count]).encode(),
            headers={"content-type": "text/plain"},
            timeout=30,
        )
        assert imported.status_code == 200, imported.text


def names(page: Page) -> list[str]:
    return page.locator("table.lists tbody tr td:first-child a").all_inner_texts()


def test_lists_are_paged_fifty_at_a_time(page: Page, shot: Shot) -> None:
    pager = page.get_by_role("navigation", name="Pages")
    expect(pager).to_contain_text(f"1{DASH}50 of {LISTS}")
    assert len(names(page)) == 50
    assert names(page)[:2] == ["List 01", "List 02"]  # by name, A to Z
    pager.get_by_role("link", name="Next →").click()
    expect(pager).to_contain_text(f"51{DASH}{LISTS} of {LISTS}")
    assert len(names(page)) == LISTS - 50
    expect(pager.get_by_role("link", name="Next →")).to_have_count(0)
    pager.get_by_role("link", name="← Previous").click()
    expect(pager).to_contain_text(f"1{DASH}50 of {LISTS}")
    shot(page, "9-overview-paged")


def test_lists_are_found_by_part_of_their_name_or_id(page: Page) -> None:
    search = page.get_by_role("searchbox", name="Search lists")
    search.fill("SPENDERS")
    search.press("Enter")
    expect(page.locator("table.lists tbody tr")).to_have_count(1)
    assert names(page) == ["Top spenders"]
    expect(page.get_by_role("navigation", name="Pages")).to_contain_text(f"1{DASH}1 of 1")
    search = page.get_by_role("searchbox", name="Search lists")
    search.fill("list-3")
    search.press("Enter")
    expect(page.locator("table.lists tbody tr")).to_have_count(10)
    # list-33 is "Top spenders": found by its id
    assert names(page) == [f"List {i}" for i in range(30, 40) if i != 33] + ["Top spenders"]
    search = page.get_by_role("searchbox", name="Search lists")
    search.fill("100%_off")
    search.press("Enter")
    expect(page.get_by_text("No list matches “100%_off”.")).to_be_visible()
    page.get_by_role("link", name="Clear").click()
    expect(page.get_by_role("navigation", name="Pages")).to_contain_text(f"of {LISTS}")


def test_lists_sort_by_members_last_sync_created_and_name(page: Page) -> None:
    def sort_by(heading: str) -> None:
        with page.expect_navigation():
            page.get_by_role("columnheader", name=heading).get_by_role("link").click()

    sort_by("Members")
    assert names(page)[:3] == ["List 05", "List 12", "List 40"]  # most first
    expect(page.get_by_role("columnheader", name="Members")).to_have_attribute(
        "aria-sort", "descending"
    )
    sort_by("Members")
    assert "List 05" not in names(page)  # fewest first: 59 empty lists fill the first page
    sort_by("Last sync")
    assert names(page)[:3] == ["List 12", "List 40", "List 05"]  # newest sync first
    sort_by("Created")
    assert names(page)[:2] == ["List 62", "List 61"]  # newest first
    sort_by("Created")
    assert names(page)[:2] == ["List 01", "List 02"]
    sort_by("Name")
    pager = page.get_by_role("navigation", name="Pages")
    pager.get_by_role("link", name="Next →").click()
    expect(pager).to_contain_text(f"51{DASH}{LISTS} of {LISTS}")
    assert names(page)[-1] == "Top spenders"
    # The sort survives paging and searching.
    expect(page.get_by_role("columnheader", name="Name")).to_have_attribute(
        "aria-sort", "ascending"
    )


def test_times_are_shown_in_the_browsers_time_zone(page: Page) -> None:
    created = page.locator("table.lists tbody tr").first.locator("td[data-label=Created] time")
    iso = created.get_attribute("datetime")
    assert iso is not None and iso.endswith("Z")
    local = datetime.fromisoformat(iso.replace("Z", "+00:00")).astimezone(
        ZoneInfo("Europe/Amsterdam")
    )
    shown = created.inner_text()
    assert "UTC" not in shown
    assert local.strftime("%H:%M") in shown and str(local.day) in shown, shown


def test_escape_closes_the_row_menu(page: Page) -> None:
    row = page.get_by_role("row").filter(has_text="List 01")
    button = row.get_by_label("Actions for List 01")
    button.click()
    expect(row.get_by_role("link", name="Export CSV")).to_be_visible()
    page.keyboard.press("Escape")
    expect(row.get_by_role("link", name="Export CSV")).to_be_hidden()
    expect(button).to_be_focused()
    # A click elsewhere closes it too.
    button.click()
    page.get_by_role("heading", name="Dynamic lists").click()
    expect(row.get_by_role("link", name="Export CSV")).to_be_hidden()


def test_folders_are_made_renamed_filled_emptied_and_deleted(page: Page, shot: Shot) -> None:
    page.get_by_label("New folder").fill("Seasonal")
    page.get_by_role("button", name="Create folder").click()
    expect(page.get_by_role("status")).to_have_text("Folder “Seasonal” created.")
    expect(page.get_by_role("heading", name="Seasonal", exact=True)).to_be_visible()

    # The same name in another case is refused on the page, not with a raw error.
    page.get_by_label("New folder").fill("SEASONAL")
    page.get_by_role("button", name="Create folder").click()
    expect(page.get_by_role("alert")).to_have_text(
        "Folder name must be unique within its parent folder"
    )
    expect(page.get_by_role("heading", name="Dynamic lists")).to_be_visible()

    page.get_by_role("link", name="Seasonal").click()
    page.get_by_text("Rename or delete folder").click()
    page.get_by_label("Folder name").fill("Seasonal 2026")
    page.get_by_role("button", name="Rename").click()
    expect(page.get_by_role("status")).to_have_text("Folder “Seasonal” renamed to “Seasonal 2026”.")

    page.goto(page.url.split("/console/")[0] + "/console/?q=list-07")
    row = page.get_by_role("row").filter(has_text="List 07")
    row.get_by_label("Actions for List 07").click()
    row.get_by_label("Move to folder").select_option(label="Seasonal 2026")
    row.get_by_role("button", name="Move").click()
    expect(page.get_by_role("status")).to_have_text("“List 07” moved to Seasonal 2026.")
    assert page.url.endswith("/console/?q=list-07")  # back where the marketer was

    page.get_by_role("link", name="Seasonal 2026").click()
    page.get_by_text("Rename or delete folder").click()
    shot(page, "10-folder-tools")
    page.get_by_role("button", name="Delete folder “Seasonal 2026”").click()
    expect(page.get_by_role("alert")).to_contain_text(
        "Folder “Seasonal 2026” is not empty: it holds 1 list(s)"
    )
    row = page.get_by_role("row").filter(has_text="List 07")
    row.get_by_label("Actions for List 07").click()
    row.get_by_label("Move to folder").select_option(label="(no folder)")
    row.get_by_role("button", name="Move").click()
    expect(page.get_by_role("status")).to_have_text("“List 07” moved out of its folder.")
    page.get_by_text("Rename or delete folder").click()
    page.get_by_role("button", name="Delete folder “Seasonal 2026”").click()
    expect(page.get_by_role("status")).to_have_text("Folder “Seasonal 2026” deleted.")
    expect(page.get_by_role("link", name="Seasonal 2026")).to_have_count(0)


def test_members_are_found_by_part_of_their_id_or_email(page: Page, shot: Shot) -> None:
    page.get_by_role("searchbox", name="Search lists").fill("list-05")
    page.get_by_role("searchbox", name="Search lists").press("Enter")
    page.get_by_role("link", name="List 05").click()
    members = page.get_by_role("region", name="Contacts")
    expect(members.get_by_role("row")).to_have_count(31)
    search = members.get_by_role("searchbox", name="Search contacts")
    search.fill("c-01")
    search.press("Enter")
    expect(members.get_by_role("row")).to_have_count(11)
    search = members.get_by_role("searchbox", name="Search contacts")
    search.fill("C-025@EXAMPLE")
    search.press("Enter")
    expect(members.get_by_role("row")).to_have_count(2)
    expect(members.get_by_role("row").nth(1)).to_contain_text("c-025@example.com")
    shot(page, "11-member-search")
    search = members.get_by_role("searchbox", name="Search contacts")
    search.fill("nobody")
    search.press("Enter")
    expect(members.get_by_text("No contact in this audience matches “nobody”.")).to_be_visible()


def test_signing_in_returns_to_the_page_asked_for(context: BrowserContext, server: Server) -> None:
    page = context.new_page()
    page.goto(f"{server.url}/console/audiences/list-12?q=c-00")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    sign_in(page)
    page.wait_for_url(f"{server.url}/console/audiences/list-12?q=c-00")
    expect(page.get_by_role("heading", name="List 12")).to_be_visible()
    expect(page.get_by_role("region", name="Contacts").get_by_role("row")).to_have_count(11)


def test_the_page_to_return_to_never_leaves_the_console(
    context: BrowserContext, server: Server
) -> None:
    page = context.new_page()
    page.goto(f"{server.url}/console/login?next=//example.com/")
    sign_in(page)
    page.wait_for_url(f"{server.url}/console/")
