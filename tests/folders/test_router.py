"""Folders, moving audiences, and the dynamic-lists overview."""

from tests.conftest import Tenant
from tests.factories import add_members, make_audience, make_contacts

API = "/integrationservice"


async def folder(tenant: Tenant, name: str, parent: str | None = None) -> str:
    response = await tenant.client.post(f"{API}/folder", json={"name": name, "parentId": parent})
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def test_folders_nest_one_level(tenant: Tenant):
    shop = await folder(tenant, "Shop")
    summer = await folder(tenant, "Summer", shop)
    too_deep = await tenant.client.post(f"{API}/folder", json={"name": "Deep", "parentId": summer})
    assert too_deep.status_code == 400
    assert too_deep.json()["errorType"] == "INVALID_PARAMS"
    listing = (await tenant.client.get(f"{API}/folder")).json()["folders"]
    assert [(f["name"], f["parentId"], f["folderCount"]) for f in listing] == [
        ("Shop", None, 1),
        ("Summer", shop, 0),
    ]


async def test_names_are_unique_among_siblings_regardless_of_case(tenant: Tenant):
    shop = await folder(tenant, "Shop")
    duplicate = await tenant.client.post(f"{API}/folder", json={"name": "SHOP"})
    assert duplicate.status_code == 417
    assert duplicate.json()["errorType"] == "NAME_ALREADY_IN_USE"
    assert await folder(tenant, "Shop", shop)  # the same name under another parent is fine


async def test_moving_audiences_and_deleting_only_empty_folders(tenant: Tenant):
    await make_audience(tenant.client, "a", "Alpha")
    shop = await folder(tenant, "Shop")
    moved = await tenant.client.put(f"{API}/audience/a/folder", json={"folderId": shop})
    assert moved.status_code == 200
    assert moved.json()["externalId"] == "a"
    refused = await tenant.client.delete(f"{API}/folder/{shop}")
    assert refused.status_code == 417
    assert refused.json()["audiences"] == 1
    in_folder = (await tenant.client.get(f"{API}/audience", params={"folder": shop})).json()
    assert [a["externalId"] for a in in_folder["audiences"]] == ["a"]
    assert in_folder["audiences"][0]["folderId"] == shop
    await tenant.client.put(f"{API}/audience/a/folder", json={"folderId": None})
    assert (await tenant.client.delete(f"{API}/folder/{shop}")).status_code == 204
    events = (await tenant.client.get(f"{API}/audience/a/history")).json()["events"]
    assert [e["details"].get("folder") for e in events if e["operation"] == "move"] == [
        None,
        "Shop",
    ]


async def test_renaming_and_unknown_folders(tenant: Tenant):
    shop = await folder(tenant, "Shop")
    renamed = await tenant.client.put(f"{API}/folder/{shop}", json={"name": "Web shop"})
    assert renamed.json()["name"] == "Web shop"
    assert (await tenant.client.put(f"{API}/folder/nope", json={"name": "x"})).status_code == 404
    await make_audience(tenant.client, "a")
    unknown = await tenant.client.put(f"{API}/audience/a/folder", json={"folderId": "nope"})
    assert unknown.status_code == 404
    assert unknown.json()["message"] == "Folder not found"


async def test_the_dynamic_lists_overview(tenant: Tenant, other_tenant: Tenant):
    await make_contacts(tenant.client, ["c1", "c2"])
    await make_audience(tenant.client, "a", "Alpha")
    await make_audience(tenant.client, "b", "Beta")
    await add_members(tenant.client, "b", ["c1", "c2"])
    shop = await folder(tenant, "Shop")
    await tenant.client.put(f"{API}/audience/b/folder", json={"folderId": shop})
    items = (await tenant.client.get(f"{API}/dynamic-list")).json()["items"]
    assert [(i["kind"], i["externalId"], i["folderName"], i["memberCount"]) for i in items] == [
        ("audience", "a", None, 0),
        ("audience", "b", "Shop", 2),
    ]
    assert items[1]["lastSyncDate"] is not None
    only_shop = (await tenant.client.get(f"{API}/dynamic-list", params={"folder": shop})).json()
    assert [i["externalId"] for i in only_shop["items"]] == ["b"]
    assert (await other_tenant.client.get(f"{API}/dynamic-list")).json()["items"] == []
    assert (await other_tenant.client.delete(f"{API}/folder/{shop}")).status_code == 404


async def test_a_rename_to_a_siblings_name_is_refused_in_any_case(tenant: Tenant):
    await folder(tenant, "Shop")
    summer = await folder(tenant, "Summer")
    renamed = await tenant.client.put(f"{API}/folder/{summer}", json={"name": "sHoP"})
    assert renamed.status_code == 417
    assert renamed.json()["errorType"] == "NAME_ALREADY_IN_USE"
    same = await tenant.client.put(f"{API}/folder/{summer}", json={"name": "SUMMER"})
    assert same.status_code == 200 and same.json()["name"] == "SUMMER"
