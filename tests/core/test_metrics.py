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
