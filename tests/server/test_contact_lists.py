"""Contact lists over real HTTP (two workers), directly on PostgreSQL and behind PgBouncer in
transaction pooling mode: a list reads and writes on its transaction's connection (several
statements sent together), and nothing of it may outlive the transaction."""

import asyncio

import httpx

from tests.server.conftest import BOOTSTRAP_KEY, BOOTSTRAP_SECRET, ROUTED, Server

pytestmark = ROUTED


async def test_lists_of_new_and_existing_contacts_write_every_one(server: Server) -> None:
    api = f"{server.url}/integrationservice"
    async with httpx.AsyncClient(
        base_url=api, auth=(BOOTSTRAP_KEY, BOOTSTRAP_SECRET), timeout=60
    ) as http:

        async def lists(client: int) -> None:
            # Each round adds 50 contacts and updates the previous round's 50, more times than
            # psycopg takes to prepare a statement on a direct connection.
            for round_ in range(8):
                contacts = [
                    {"externalId": f"l{client}-{round_}-{i}", "properties": {"firstName": "New"}}
                    for i in range(50)
                ] + [
                    {"externalId": f"l{client}-{round_ - 1}-{i}", "properties": {"lastName": "Old"}}
                    for i in range(50)
                ]
                response = await http.post(
                    "/contact/list", json={"update": True, "contacts": contacts}
                )
                assert response.status_code == 200, response.text
                messages = [item["message"] for item in response.json()]
                assert messages[:50] == ["Contact added"] * 50
                assert messages[50:] == ["Contact " + ("updated" if round_ else "added")] * 50

        await asyncio.gather(*(lists(client) for client in range(4)))
        contact = (await http.get("/contact/l3-6-7")).json()
        assert (contact["properties"]["firstName"], contact["properties"]["lastName"]) == (
            "New",
            "Old",
        )
