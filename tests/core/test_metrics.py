"""/metrics in Prometheus format: requests by route and status with latency, members written."""

import asyncio
import re

import httpx

from tests.conftest import Tenant
from tests.factories import add_members, make_audience, make_contacts


def sample(text: str, name: str, **labels: str) -> float:
    for line in text.splitlines():
        if not line.startswith(name + "{"):
            continue
        series, value = line.rsplit(" ", 1)
        found = dict(re.findall(r'(\w+)="([^"]*)"', series[len(name) :]))
        if all(found.get(k) == v for k, v in labels.items()):
            return float(value)
    return 0.0


async def test_requests_and_members_written_are_counted(tenant: Tenant, http: httpx.AsyncClient):
    before = (await http.get("/metrics")).text
    await make_contacts(tenant.client, ["c1", "c2"])
    await make_audience(tenant.client, "a")
    await add_members(tenant.client, "a", ["c1", "c2"])
    await tenant.client.get("/integrationservice/audience/a")
    await tenant.client.get("/integrationservice/audience/missing")
    route = "/audience/{externalId}"  # the route as declared, whichever base path was used
    # A request is counted as its response ends, which the client may see a moment before.
    for _ in range(50):
        response = await http.get("/metrics")
        after = response.text
        if sample(after, "audiences_http_requests_total", route=route, status="404") > sample(
            before, "audiences_http_requests_total", route=route, status="404"
        ):
            break
        await asyncio.sleep(0.05)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    for status, expected in (("200", 1), ("404", 1)):
        total = "audiences_http_requests_total"
        labels = {"method": "GET", "route": route, "status": status}
        grown = sample(after, total, **labels) - sample(before, total, **labels)
        assert grown == expected
    count = "audiences_http_request_duration_seconds_count"
    assert sample(after, count, method="GET", route=route) >= 2
    added = sample(after, "audiences_members_written_total", change="added") - sample(
        before, "audiences_members_written_total", change="added"
    )
    assert added == 2


async def counted(http: httpx.AsyncClient, method: str, route: str, status: str) -> float:
    text = (await http.get("/metrics")).text
    return sample(text, "audiences_http_requests_total", method=method, route=route, status=status)


async def test_writes_are_counted_under_their_route_template(
    tenant: Tenant, http: httpx.AsyncClient
):
    writes = [
        ("POST", "/audience", "200"),
        ("PUT", "/audience/{externalId}", "200"),
        ("DELETE", "/audience/{externalId}", "204"),
    ]
    before = [await counted(http, *labels) for labels in writes]
    unmatched = await counted(http, "POST", "unmatched", "200")
    created = await tenant.client.post(
        "/integrationservice-1.1.0/audience", json={"externalId": "w", "name": "W"}
    )
    assert created.status_code == 200
    # A body sent as form encoding (curl -d) is re-typed as JSON on the way: still its route.
    renamed = await tenant.client.put(
        "/integrationservice/audience/w",
        content=b'{"name": "W2"}',
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert renamed.status_code == 200
    assert (await tenant.client.delete("/integrationservice/audience/w")).status_code == 204
    await asyncio.sleep(0.05)
    after = [await counted(http, *labels) for labels in writes]
    assert [a - b for a, b in zip(after, before, strict=True)] == [1, 1, 1]
    assert await counted(http, "POST", "unmatched", "200") == unmatched


async def test_a_client_that_leaves_mid_body_is_a_499_not_a_500(app, tenant: Tenant, http):  # type: ignore[no-untyped-def]
    before = await counted(http, "POST", "/audience", "499")
    errors = await counted(http, "POST", "/audience", "500")
    messages = [
        {"type": "http.request", "body": b'{"externalId": ', "more_body": True},
        {"type": "http.disconnect"},
    ]
    sent: list[dict[str, object]] = []

    async def receive() -> dict[str, object]:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    auth = tenant.auth.auth_flow(httpx.Request("POST", "http://x")).__next__()
    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/integrationservice/audience",
        "raw_path": b"/integrationservice/audience",
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"testserver"),
            (b"content-type", b"application/json"),
            (b"content-length", b"100"),
            (b"authorization", auth.headers["authorization"].encode()),
        ],
        "client": ("127.0.0.1", 1234),
        "server": ("testserver", 80),
        "state": {},
    }
    await app(scope, receive, send)
    assert not [m for m in sent if m["type"] == "http.response.start" and m["status"] == 500]
    assert await counted(http, "POST", "/audience", "499") == before + 1
    assert await counted(http, "POST", "/audience", "500") == errors
