"""The vendor's other contact calls: search (MPSearchQuery), updated contacts, bounces, and a
contact's mailing, campaign-mailing and form history, in the vendor's paged shapes."""

from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from audiences.contacts import queries, query_repository
from tests.conftest import Tenant
from tests.factories import (
    add_members,
    make_audience,
    make_automailer,
    make_contact,
    make_mailing,
    schedule,
)

API = "/integrationservice-1.1.0"
ON = [{"bit": 1, "enabled": True}]


async def search(client: httpx.AsyncClient, query: str, **params: Any) -> httpx.Response:
    return await client.get(f"{API}/contact/search", params={"MPSearchQuery": query, **params})


def ids(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [c["externalId"] for c in response.json()["contacts"]]


async def every_page(client: httpx.AsyncClient, url: str, key: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    next_url: str | None = url
    while next_url:
        page = (await client.get(next_url)).json()
        items += page[key]
        next_url = page["paging"]["next"]
    return items


class TestSearch:
    async def test_finds_by_email_as_the_php_client_asks(self, tenant: Tenant):
        await make_contact(tenant.client, "c1", email="ann+news@example.com", firstName="Ann")
        await make_contact(tenant.client, "c2", email="bo@example.com")
        # Exactly what it sends: "=" encoded, the address (and its "+") not.
        response = await tenant.client.get(
            f"{API}/contact/search?pageSize=1&MPSearchQuery=email%3DAnn+news@Example.com"
        )
        assert ids(response) == ["c1"]
        contact = response.json()["contacts"][0]
        assert contact["properties"]["firstName"] == "Ann"
        assert contact["properties"]["permissions"] == []
        assert response.json()["paging"]["after"] is not None

    async def test_an_unknown_address_is_an_empty_page_not_a_missing_contact(self, tenant: Tenant):
        response = await search(tenant.client, "email=nobody@example.com", pageSize=1)
        assert response.status_code == 200
        assert response.json() == {"paging": {"next": None, "after": None}, "contacts": []}

    async def test_by_ids(self, tenant: Tenant):
        await make_contact(tenant.client, "crm=1")
        encrypted = (await tenant.client.get(f"{API}/contact/crm=1")).json()["encryptedId"]
        assert ids(await search(tenant.client, "externalId=crm=1")) == ["crm=1"]
        assert ids(await search(tenant.client, f"encryptedId={encrypted}")) == ["crm=1"]

    @pytest.mark.parametrize(
        ("query", "found"),
        [
            ("city=utrecht", ["a"]),
            ("postalCode=3511 ab", ["a"]),
            ("turnover=12.5", ["a"]),
            ("turnover=0012.50", ["a"]),
            ("birthday=1990-05-01", ["b"]),
            ("lastOrderAt=2026-12-01T11:00:00+02:00", ["b"]),
            ("gender=f", ["a", "b"]),
            ("permissions=1", ["a"]),
            ("permissions=1;2", []),
            ("city=", ["b"]),
            ("level=3", ["b"]),
        ],
    )
    async def test_by_a_property_compared_by_its_type(
        self, tenant: Tenant, query: str, found: list[str]
    ):
        await tenant.client.post(f"{API}/contact/properties", json={"name": "level", "type": "int"})
        await make_contact(
            tenant.client,
            "a",
            city="Utrecht",
            postalCode="3511 AB",
            turnover="12.50",
            gender="F",
            permissions=[{"bit": 1, "enabled": True}, {"bit": 2, "enabled": False}],
        )
        await make_contact(
            tenant.client,
            "b",
            birthday="1990-05-01",
            lastOrderAt="2026-12-01T09:00:00Z",
            gender="F",
            level=3,
        )
        assert ids(await search(tenant.client, query)) == found

    async def test_pages_neither_skip_nor_repeat(self, tenant: Tenant):
        for i in range(5):
            await make_contact(tenant.client, f"c{i}", city="Delft")
        url = f"{API}/contact/search?MPSearchQuery=city%3DDelft&pageSize=2"
        found = await every_page(tenant.client, url, "contacts")
        assert [c["externalId"] for c in found] == [f"c{i}" for i in range(5)]

    @pytest.mark.parametrize(
        ("query", "words"),
        [
            ("", "name=value"),
            ("email", "name=value"),
            ("shoeSize=44", "not a property"),
            ("turnover=lots", "turnover"),
        ],
    )
    async def test_a_query_it_cannot_read_is_400(self, tenant: Tenant, query: str, words: str):
        response = await search(tenant.client, query)
        assert response.status_code == 400
        assert response.json()["errorType"] == "INVALID_PARAMS"
        assert words in response.json()["message"]

    async def test_without_a_query_it_is_a_400_not_a_contact_named_search(self, tenant: Tenant):
        response = await tenant.client.get(f"{API}/contact/search")
        assert response.status_code == 400
        assert "MPSearchQuery" in response.json()["message"]

    async def test_finds_nothing_of_another_account(self, tenant: Tenant, other_tenant: Tenant):
        await make_contact(tenant.client, "c1", email="ann@example.com")
        assert ids(await search(other_tenant.client, "email=ann@example.com")) == []
        assert ids(await search(other_tenant.client, "externalId=c1")) == []


class TestUpdatedContacts:
    @pytest.mark.parametrize("window", ["narrow", "wide"])
    async def test_lists_the_contacts_changed_in_the_period(
        self, tenant: Tenant, session: AsyncSession, monkeypatch: pytest.MonkeyPatch, window: str
    ):
        if window == "wide":
            # Every window counts as wide: read in contact order, not through changed_at.
            monkeypatch.setattr(query_repository, "NARROW_WINDOW", 1)
        for name in ("old", "new", "later"):
            await make_contact(tenant.client, name)
        moments = {"old": "2026-01-01T00:00:00Z", "later": "2026-03-01T00:00:00Z"}
        for name, moment in moments.items():
            await session.execute(
                text(
                    "UPDATE contacts SET changed_at = CAST(:m AS timestamptz) "
                    "WHERE account_id = :a AND external_id = :e"
                ),
                {"m": moment, "a": tenant.account_id, "e": name},
            )
        response = await tenant.client.get(
            f"{API}/contact/updates/list",
            params={"fromDate": "2026-01-01T00:00:00Z", "toDate": "2026-03-01T01:00:00+01:00"},
        )
        assert ids(response) == ["old", "later"]
        everything = await tenant.client.get(
            f"{API}/contact/updates/list",
            params={"fromDate": "2025-01-01", "toDate": "2099-01-01", "pageSize": 2},
        )
        assert ids(everything) == ["old", "new"]
        rest = await tenant.client.get(everything.json()["paging"]["next"])
        assert ids(rest) == ["later"]

    @pytest.mark.parametrize(
        ("params", "message"),
        [
            ({"toDate": "2026-01-01"}, "Invalid fromDate or no fromDate given"),
            ({"fromDate": "2026-01-01"}, "Invalid toDate or no toDate given"),
            (
                {"fromDate": "yesterday", "toDate": "2026-01-01"},
                "Invalid fromDate or no fromDate given",
            ),
            (
                {"fromDate": "2026-01-01", "toDate": "2026-13-01"},
                "Invalid toDate or no toDate given",
            ),
            (
                {"fromDate": "2026-02-01", "toDate": "2026-01-01"},
                "fromDate must not be after toDate",
            ),
        ],
    )
    async def test_dates_are_required_with_the_vendors_messages(
        self, tenant: Tenant, params: dict[str, str], message: str
    ):
        response = await tenant.client.get(f"{API}/contact/updates/list", params=params)
        assert response.status_code == 400
        assert response.json() == {"errorType": "INVALID_PARAMS", "message": message}


class TestMailingHistory:
    async def setup_contact(self, tenant: Tenant) -> None:
        await make_contact(tenant.client, "c1", email="c1@example.com", permissions=ON)
        await make_contact(tenant.client, "c2", email="c2@example.com")
        await make_audience(tenant.client, "a")
        await add_members(tenant.client, "a", ["c1", "c2"])

    async def send(self, tenant: Tenant, name: str) -> dict[str, Any]:
        mailing = await make_mailing(tenant.client, "a", name=name)
        path = f"{API}/mailing/{mailing['encryptedId']}"
        await schedule(tenant.client, mailing)
        await tenant.client.post(f"{path}/start")
        sent: dict[str, Any] = (await tenant.client.post(f"{path}/complete")).json()
        return sent

    async def test_a_completed_mailing_is_in_its_recipients_history(self, tenant: Tenant):
        await self.setup_contact(tenant)
        draft = await make_mailing(tenant.client, "a", name="Never sent")
        sent = await self.send(tenant, "December")
        history = (await tenant.client.get(f"{API}/contact/c1/mailings")).json()
        assert history["paging"] == {"next": None, "after": None}
        [item] = history["mailingHistories"]
        assert item["mailing"] == {
            "encryptedId": sent["encryptedId"],
            "name": "December",
            "scheduledStartDate": sent["scheduledStartDate"],
            "type": "EMAIL",
            "sentCount": 1,
        }
        assert item["sentDate"].endswith("Z")
        assert (item["opened"], item["clicked"]) == (False, False)
        assert draft["encryptedId"] != sent["encryptedId"]
        # c2 has no permission: the mailing did not reach it.
        empty = (await tenant.client.get(f"{API}/contact/c2/mailings")).json()
        assert empty["mailingHistories"] == []

    async def test_automailer_runs_and_mailings_in_the_order_sent(
        self, tenant: Tenant, session: AsyncSession, monkeypatch: pytest.MonkeyPatch
    ):
        await self.setup_contact(tenant)
        await self.send(tenant, "First")
        await session.execute(
            text(
                "UPDATE audience_members SET added_at = '2026-06-02T00:00:00Z' "
                "WHERE account_id = :a"
            ),
            {"a": tenant.account_id},
        )
        automailer = await make_automailer(tenant.client, "a", first="2026-06-01T00:00:00Z")
        run = await tenant.client.post(
            f"{API}/automailer/{automailer['id']}/runs", json={"at": "2026-06-06T00:00:00Z"}
        )
        assert [c["externalId"] for c in run.json()["contacts"]] == ["c1"]
        await self.send(tenant, "Third")
        monkeypatch.setattr(queries, "HISTORY_PAGE", 2)
        items = await every_page(tenant.client, f"{API}/contact/c1/mailings", "mailingHistories")
        assert [(i["mailing"]["name"], i["mailing"]["sentCount"]) for i in items] == [
            ("First", 1),
            ("Welcome", 1),
            ("Third", 1),
        ]
        assert items[1]["mailing"]["encryptedId"] == automailer["id"]
        assert items[1]["sentDate"] == "2026-06-06T00:00:00Z"

    async def test_an_unknown_contact_is_404(self, tenant: Tenant):
        response = await tenant.client.get(f"{API}/contact/nope/mailings")
        assert response.status_code == 404
        assert response.json()["message"] == "Given contact not found"


class TestWhatThisServiceDoesNotRecord:
    @pytest.mark.parametrize(
        ("path", "key"),
        [("campaign-mailings", "campaignMailingHistories"), ("forms", "formHistories")],
    )
    async def test_a_contacts_history_is_an_empty_page(self, tenant: Tenant, path: str, key: str):
        await make_contact(tenant.client, "c1")
        response = await tenant.client.get(f"{API}/contact/c1/{path}")
        assert response.json() == {"paging": {"next": None, "after": None}, key: []}
        unknown = await tenant.client.get(f"{API}/contact/nope/{path}")
        assert unknown.status_code == 404
        assert unknown.json()["errorType"] == "CONTACT_NOT_FOUND"

    async def test_bounces_are_an_empty_page_after_the_date_checks(self, tenant: Tenant):
        url = f"{API}/contact/bounces/list"
        ok = await tenant.client.get(url, params={"fromDate": "2026-01-01", "toDate": "2026-02-01"})
        assert ok.json() == {"paging": {"next": None, "after": None}, "bounces": []}
        missing = await tenant.client.get(url, params={"fromDate": "2026-01-01"})
        assert missing.status_code == 400
        assert missing.json()["message"] == "Invalid toDate or no toDate given"


@pytest.mark.parametrize(
    "url",
    [
        "/contact/search?MPSearchQuery=firstName%3D%ED%A0%80",
        "/contact/search?MPSearchQuery=lastOrderAt%3D2026-12-01T10:00:00%2B99:00",
        "/contact/search?MPSearchQuery=lastOrderAt%3D9999-12-31T23:59:59-23:59",
        "/contact/search?MPSearchQuery=permissions%3D99999999999",
        "/contact/search?MPSearchQuery=" + "a" * 5000 + "%3Db",
        "/contact/search?MPSearchQuery=email%3Dx&after=99999999999999999999",
        "/contact/updates/list?fromDate=0001-01-01T00:00:00%2B14:00&toDate=9999-12-31T23:59:59-14:00",
        "/contact/updates/list?fromDate=1&toDate=99999999999999999999",
        "/contact/%ED%A0%80/mailings",
        "/contact/c1/mailings?after=-1",
    ],
)
async def test_hostile_queries_are_answered_never_a_500(tenant: Tenant, url: str):
    await make_contact(tenant.client, "c1", lastOrderAt="2026-01-01T00:00:00Z", turnover="5")
    response = await tenant.client.get(f"{API}{url}")
    assert response.status_code in (200, 400, 404), response.text
    assert "errorType" in response.json() or response.status_code == 200
