"""Sixteen clients hammer the same few audiences over real HTTP (two workers): adds, removes,
empties, renames and replaces. Every acknowledged write is there at the end, no 5xx, no
deadlock reaches a client, and the member counts stay true.

Each client owns its contacts, so the final state of each (contact, audience) pair is the
client's last acknowledged operation on it. Set AUDIENCES_HAMMER_SECONDS for a longer run."""

import asyncio
import os
import random
from dataclasses import dataclass, field

import httpx

from tests.oauth import OAuth1
from tests.server.conftest import BOOTSTRAP_KEY, BOOTSTRAP_SECRET, ROUTED, Server

# Directly on PostgreSQL, and behind PgBouncer in transaction pooling mode.
pytestmark = ROUTED

CLIENTS = 16
CONTACTS_EACH = 30
SHARED = ["hammer-0", "hammer-1", "hammer-2"]
SECONDS = float(os.environ.get("AUDIENCES_HAMMER_SECONDS", "8"))


@dataclass
class Client:
    number: int
    http: httpx.AsyncClient
    contacts: list[str]
    private: str
    expected: dict[tuple[str, str], bool] = field(default_factory=dict)
    names: dict[str, list[str]] = field(default_factory=dict)
    operations: int = 0
    failures: list[str] = field(default_factory=list)

    def check(self, response: httpx.Response, *ok: int) -> bool:
        self.operations += 1
        if response.status_code in ok:
            return True
        request = response.request
        self.failures.append(
            f"{request.method} {request.url.path} -> {response.status_code} {response.text[:200]}"
        )
        return False

    async def step(self) -> None:
        shared = random.choice(SHARED)
        picked = random.sample(self.contacts, random.randint(1, 8))
        choice = random.random()
        if choice < 0.3:
            audience = random.choice([shared, self.private])
            response = await self.http.post(
                f"/audience/{audience}/contact", json={"contacts": picked}
            )
            if self.check(response, 204):
                self.expected.update({(audience, c): True for c in picked})
        elif choice < 0.55:
            audience = random.choice([shared, self.private])
            response = await self.http.request(
                "DELETE", f"/audience/{audience}/contact", json={"contacts": picked}
            )
            if self.check(response, 204):
                self.expected.update({(audience, c): False for c in picked})
        elif choice < 0.65:
            body = "".join(f"{c}\n" for c in picked)
            response = await self.http.post(
                f"/audience/{shared}/contact/import",
                content=body,
                headers={"content-type": "text/plain"},
            )
            if self.check(response, 200):
                self.expected.update({(shared, c): True for c in picked})
        elif choice < 0.75:
            name = f"{shared} by {self.number} #{self.operations}"
            response = await self.http.put(
                f"/audience/{shared}", json={"externalId": shared, "name": name}
            )
            if self.check(response, 200):
                self.names.setdefault(shared, []).append(name)
        elif choice < 0.85:
            response = await self.http.delete(f"/audience/{self.private}/contact")
            if self.check(response, 204):
                self.expected.update({(self.private, c): False for c in self.contacts})
        else:
            body = "".join(f"{c}\n" for c in picked)
            response = await self.http.put(
                f"/audience/{self.private}/contact",
                content=body,
                headers={"content-type": "text/plain"},
            )
            if self.check(response, 200):
                self.expected.update({(self.private, c): c in picked for c in self.contacts})


async def members(http: httpx.AsyncClient, audience: str) -> set[str]:
    seen: set[str] = set()
    url: str | None = f"/audience/{audience}/contact?pageSize=1000"
    while url:
        page = (await http.get(url)).json()
        seen.update(m["externalId"] for m in page["contacts"])
        url = page["paging"]["next"]
    return seen


async def hammer(server: Server) -> list[Client]:
    api = f"{server.url}/integrationservice"
    admin = httpx.AsyncClient(base_url=api, auth=(BOOTSTRAP_KEY, BOOTSTRAP_SECRET), timeout=60)
    contacts = [f"h{n:02d}-{i:03d}" for n in range(CLIENTS) for i in range(CONTACTS_EACH)]
    body = "".join(
        f'{{"externalId": "{c}", "properties": {{"email": "{c}@example.com"}}}}\n' for c in contacts
    )
    response = await admin.post(
        "/contact/import", content=body, headers={"content-type": "application/x-ndjson"}
    )
    assert response.status_code == 200, response.text
    for audience in SHARED + [f"hammer-p{n}" for n in range(CLIENTS)]:
        response = await admin.post("/audience", json={"externalId": audience, "name": audience})
        assert response.status_code == 200, response.text
    clients = [
        Client(
            number=n,
            # Half the clients sign with OAuth 1.0a (nonces under load), half use Basic.
            http=httpx.AsyncClient(
                base_url=api,
                auth=OAuth1(BOOTSTRAP_KEY, BOOTSTRAP_SECRET)
                if n % 2
                else (BOOTSTRAP_KEY, BOOTSTRAP_SECRET),
                timeout=30,
            ),
            contacts=[f"h{n:02d}-{i:03d}" for i in range(CONTACTS_EACH)],
            private=f"hammer-p{n}",
        )
        for n in range(CLIENTS)
    ]
    deadline = asyncio.get_running_loop().time() + SECONDS

    async def run(client: Client) -> None:
        while asyncio.get_running_loop().time() < deadline:
            await client.step()

    await asyncio.gather(*(run(c) for c in clients))
    for client in clients:
        await client.http.aclose()
    clients.append(Client(-1, admin, [], ""))
    return clients


async def test_every_acknowledged_write_survives_the_hammering(server: Server):
    clients = await hammer(server)
    admin = clients.pop().http
    failures = [f for c in clients for f in c.failures]
    assert failures == [], failures[:10]
    operations = sum(c.operations for c in clients)
    assert operations > CLIENTS * 10
    wrong = []
    audiences = SHARED + [c.private for c in clients]
    actual = {audience: await members(admin, audience) for audience in audiences}
    for client in clients:
        for (audience, contact), member in client.expected.items():
            if (contact in actual[audience]) != member:
                wrong.append((audience, contact, member))
    assert wrong == [], wrong[:10]
    listing = (await admin.get("/audience", params={"pageSize": 1000, "name": "hammer"})).json()
    counts = {a["externalId"]: a["memberCount"] for a in listing["audiences"]}
    assert {a: counts[a] for a in audiences} == {a: len(actual[a]) for a in audiences}
    for audience in SHARED:
        final = (await admin.get(f"/audience/{audience}")).json()["name"]
        acknowledged = [n for c in clients for n in c.names.get(audience, [])]
        assert not acknowledged or final in acknowledged
    await admin.aclose()
    print(f"\nhammer: {CLIENTS} clients, {SECONDS:.0f} s, {operations} acknowledged operations")
