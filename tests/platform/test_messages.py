"""Messages: dynamic content blocks shown to an audience's members."""

from tests.conftest import Tenant
from tests.factories import add_members, make_audience, make_contact, make_message

API = "/integrationservice"


async def test_render_shows_static_blocks_and_the_contacts_dynamic_ones(tenant: Tenant):
    await make_contact(tenant.client, "vip")
    await make_contact(tenant.client, "regular")
    await make_audience(tenant.client, "vips")
    await add_members(tenant.client, "vips", ["vip"])
    message = await make_message(
        tenant.client, [("Intro", None), ("VIP offer", "vips"), ("Outro", None)]
    )
    assert [b["audienceExternalId"] for b in message["blocks"]] == [None, "vips", None]

    async def seen(contact: str) -> list[str]:
        response = await tenant.client.get(
            f"{API}/message/{message['id']}/render", params={"contact": contact}
        )
        assert response.status_code == 200
        return [b["name"] for b in response.json()["blocks"]]

    assert await seen("vip") == ["Intro", "VIP offer", "Outro"]
    assert await seen("regular") == ["Intro", "Outro"]


async def test_crud(tenant: Tenant):
    await make_audience(tenant.client, "a")
    message = await make_message(tenant.client, [("Intro", None)])
    path = f"{API}/message/{message['id']}"
    assert (await tenant.client.get(path)).json() == message
    updated = await tenant.client.put(
        path,
        json={
            "name": "Renamed",
            "blocks": [{"name": "X", "content": "x", "audienceExternalId": "a"}],
        },
    )
    assert updated.status_code == 200
    assert updated.json()["name"] == "Renamed"
    assert updated.json()["blocks"][0]["audienceExternalId"] == "a"
    assert (await tenant.client.delete(path)).status_code == 204
    assert (await tenant.client.get(path)).status_code == 404


async def test_render_refuses_unknown_contacts_and_messages(tenant: Tenant):
    message = await make_message(tenant.client, [("Intro", None)])
    unknown_contact = await tenant.client.get(
        f"{API}/message/{message['id']}/render", params={"contact": "x"}
    )
    assert unknown_contact.status_code == 404
    assert unknown_contact.json()["errorType"] == "CONTACT_NOT_FOUND"
    unknown_message = await tenant.client.get(f"{API}/message/nope/render", params={"contact": "x"})
    assert unknown_message.status_code == 404
    assert unknown_message.json()["message"] == "Message not found"


async def test_an_unknown_block_audience_is_404_naming_it(tenant: Tenant):
    response = await tenant.client.post(
        f"{API}/message",
        json={"name": "M", "blocks": [{"name": "b", "content": "", "audienceExternalId": "ghost"}]},
    )
    assert response.status_code == 404
    assert response.json()["audienceExternalId"] == "ghost"


async def test_a_missing_contact_parameter_is_400(tenant: Tenant):
    message = await make_message(tenant.client, [("Intro", None)])
    response = await tenant.client.get(f"{API}/message/{message['id']}/render")
    assert response.status_code == 400
    assert "contact" in response.json()["message"]
