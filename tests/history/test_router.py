"""Every change to an audience or its members is on record."""

from tests.conftest import Tenant
from tests.factories import add_members, make_audience, make_contacts

API = "/integrationservice"


async def test_who_emptied_this_audience(tenant: Tenant, other_tenant: Tenant):
    await make_contacts(tenant.client, ["c1", "c2", "c3"])
    await make_audience(tenant.client, "a", "First")
    await tenant.client.put(f"{API}/audience/a", json={"externalId": "a", "name": "Second"})
    await add_members(tenant.client, "a", ["c1", "c2", "c3"])
    await tenant.client.request("DELETE", f"{API}/audience/a/contact", json={"contacts": ["c1"]})
    await tenant.client.post(
        f"{API}/audience/a/contact/import", content=b"c1\n", headers={"content-type": "text/plain"}
    )
    await tenant.client.put(
        f"{API}/audience/a/contact", content=b"c1\nc2\n", headers={"content-type": "text/plain"}
    )
    emptied = await tenant.client.delete(
        f"{API}/audience/a/contact", headers={"X-Request-Id": "who-did-it"}
    )
    assert emptied.status_code == 204

    history = (await tenant.client.get(f"{API}/audience/a/history")).json()
    events = history["events"]
    assert [e["operation"] for e in events] == [
        "empty",
        "replace",
        "import",
        "remove_members",
        "add_members",
        "update",
        "create",
    ]
    assert events[0]["details"] == {"removed": 2}
    assert events[0]["requestId"] == "who-did-it"
    assert events[0]["consumerKey"] == tenant.key
    assert events[0]["at"] > 1_700_000_000_000
    assert events[1]["details"] == {"added": 0, "removed": 1, "unchanged": 2, "unknown": 0}
    assert events[2]["details"]["added"] == 1
    assert events[3]["details"] == {"requested": 1, "removed": 1}
    assert events[4]["details"] == {"requested": 3, "added": 3}
    assert events[5]["details"] == {"name": "Second"}
    assert (await other_tenant.client.get(f"{API}/audience/a/history")).status_code == 404


async def test_history_pages_newest_first(tenant: Tenant):
    await make_audience(tenant.client, "a", "Name 0")
    for i in range(1, 5):
        await tenant.client.put(f"{API}/audience/a", json={"externalId": "a", "name": f"Name {i}"})
    first = (await tenant.client.get(f"{API}/audience/a/history", params={"pageSize": 3})).json()
    second = (await tenant.client.get(first["paging"]["next"])).json()
    names = [e["details"]["name"] for e in first["events"] + second["events"]]
    assert names == ["Name 4", "Name 3", "Name 2", "Name 1", "Name 0"]
    assert second["paging"]["next"] is None


async def test_a_refused_change_is_not_recorded(tenant: Tenant):
    await make_audience(tenant.client, "a")
    await tenant.client.post(f"{API}/audience/a/contact", json={"contacts": ["nobody"]})
    events = (await tenant.client.get(f"{API}/audience/a/history")).json()["events"]
    assert [e["operation"] for e in events] == ["create"]
