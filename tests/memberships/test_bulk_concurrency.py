"""Bulk members under real transactions: export, readers during a replace, paging during
writes, and a failed upload leaving nothing behind."""

import asyncio
import csv
import io

import pytest
from sqlalchemy import text

from tests.conftest import Committed

API = "/integrationservice"


async def contacts(committed: Committed, prefix: str, count: int) -> None:
    async with committed.engine.begin() as connection:
        await connection.execute(
            text(
                """
                INSERT INTO contacts (account_id, external_id, encrypted_id, email)
                SELECT :a, :p || lpad(i::text, 6, '0'), md5(:p || i), :p || i || '@example.com'
                FROM generate_series(0, :n - 1) i
                """
            ),
            {"a": committed.account_id, "p": prefix, "n": count},
        )


def ids(prefix: str, start: int, stop: int) -> str:
    return "".join(f"{prefix}{i:06d}\n" for i in range(start, stop))


async def audience(committed: Committed, name: str, members: str = "") -> None:
    client = committed.client
    assert (
        await client.post(f"{API}/audience", json={"externalId": name, "name": name})
    ).status_code == 200
    if members:
        response = await client.post(
            f"{API}/audience/{name}/contact/import",
            content=members,
            headers={"content-type": "text/plain"},
        )
        assert response.status_code == 200, response.text


async def test_export_streams_every_member_as_csv(committed: Committed):
    await contacts(committed, "exp", 3000)
    await audience(committed, "export", ids("exp", 0, 2500))
    response = await committed.client.get(f"{API}/audience/export/contact/export")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert 'filename="export.csv"' in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert len(rows) == 2500
    assert {r["externalId"] for r in rows} == {f"exp{i:06d}" for i in range(2500)}
    assert all(r["email"] == f"exp{int(r['externalId'][3:])}@example.com" for r in rows)
    assert all(r["addedAt"].endswith("Z") and "T" in r["addedAt"] for r in rows)


async def test_export_of_an_unknown_audience_is_404(committed: Committed):
    response = await committed.client.get(f"{API}/audience/nope/contact/export")
    assert response.status_code == 404
    assert response.json()["errorType"] == "RESOURCE_NOT_FOUND"


async def test_readers_see_the_old_set_or_the_new_one_never_a_mix(committed: Committed):
    await contacts(committed, "rep", 40000)
    await audience(committed, "replace", ids("rep", 0, 20000))
    old = (20000, "rep000000", "rep019999")
    new = (20000, "rep020000", "rep039999")
    done = asyncio.Event()
    seen: set[tuple[int, str, str]] = set()

    async def read() -> None:
        while not done.is_set():
            async with committed.engine.connect() as connection:
                row = (
                    await connection.execute(
                        text(
                            """
                            SELECT count(*), min(c.external_id), max(c.external_id)
                            FROM audience_members m
                            JOIN audiences a
                              ON a.account_id = m.account_id AND a.audience_id = m.audience_id
                            JOIN contacts c
                              ON c.account_id = m.account_id AND c.contact_id = m.contact_id
                            WHERE a.external_id = 'replace' AND a.account_id = :a
                            """
                        ),
                        {"a": committed.account_id},
                    )
                ).one()
            seen.add((int(row[0]), row[1], row[2]))
            await asyncio.sleep(0)

    async def replace() -> None:
        try:
            response = await committed.client.put(
                f"{API}/audience/replace/contact",
                content=ids("rep", 20000, 40000),
                headers={"content-type": "text/plain"},
            )
            assert response.status_code == 200, response.text
            assert response.json()["added"] == 20000 and response.json()["removed"] == 20000
        finally:
            done.set()

    await asyncio.gather(read(), read(), replace())
    assert seen <= {old, new}, seen
    assert old in seen


async def test_keyset_pages_neither_skip_nor_repeat_while_members_change(committed: Committed):
    await contacts(committed, "pag", 3000)
    await audience(committed, "paging", ids("pag", 0, 1000))
    stable = {f"pag{i:06d}" for i in range(0, 1000, 2)}  # never touched during the walk
    writer_done = asyncio.Event()

    async def write() -> None:
        for round_ in range(10):
            extra = ids("pag", 1000 + round_ * 100, 1100 + round_ * 100)
            await committed.client.post(
                f"{API}/audience/paging/contact/import",
                content=extra,
                headers={"content-type": "text/plain"},
            )
            gone = [f"pag{i:06d}" for i in range(1 + round_ * 50, 1 + round_ * 50 + 100, 2)]
            await committed.client.request(
                "DELETE", f"{API}/audience/paging/contact", json={"contacts": gone}
            )
            await asyncio.sleep(0.005)
        writer_done.set()

    async def walk() -> list[str]:
        seen: list[str] = []
        url: str | None = f"{API}/audience/paging/contact?pageSize=37"
        while url:
            page = (await committed.client.get(url)).json()
            seen += [m["externalId"] for m in page["contacts"]]
            url = page["paging"]["next"]
            await asyncio.sleep(0.002)
        return seen

    seen, _ = await asyncio.gather(walk(), write())
    assert len(seen) == len(set(seen)), "a member was listed twice"
    assert stable <= set(seen), sorted(stable - set(seen))[:5]


async def test_a_refused_upload_leaves_nothing_and_the_next_one_works(committed: Committed):
    await contacts(committed, "rb", 100)
    await audience(committed, "rollback", ids("rb", 0, 10))
    refused = await committed.client.post(
        f"{API}/audience/rollback/contact/import",
        content=ids("rb", 10, 50) + "missing\n",
        headers={"content-type": "text/plain"},
    )
    assert refused.status_code == 404
    broken = await committed.client.post(
        f"{API}/audience/rollback/contact/import",
        content=b"rb000060\n\x00\n",
        headers={"content-type": "text/plain"},
    )
    assert broken.status_code == 400
    async with committed.engine.connect() as connection:
        count = await connection.scalar(
            text(
                """
                SELECT count(*) FROM audience_members m JOIN audiences a
                ON a.account_id = m.account_id AND a.audience_id = m.audience_id
                WHERE a.external_id = 'rollback' AND a.account_id = :a
                """
            ),
            {"a": committed.account_id},
        )
    assert count == 10
    for _ in range(5):  # every pooled connection is clean again
        ok = await committed.client.post(
            f"{API}/audience/rollback/contact/import",
            content=ids("rb", 10, 50),
            headers={"content-type": "text/plain"},
        )
        assert ok.status_code == 200, ok.text
    listing = (await committed.client.get(f"{API}/audience", params={"name": "rollback"})).json()
    assert listing["audiences"][0]["memberCount"] == 50


@pytest.mark.parametrize("disconnect_after", [1])
async def test_an_abandoned_export_frees_its_connection(
    committed: Committed, disconnect_after: int
):
    await contacts(committed, "abn", 20000)
    await audience(committed, "abandon", ids("abn", 0, 20000))
    for _ in range(3):
        async with committed.client.stream(
            "GET", f"{API}/audience/abandon/contact/export"
        ) as response:
            assert response.status_code == 200
            async for _chunk in response.aiter_raw():
                break
    response = await committed.client.get(f"{API}/audience/abandon/contact/export")
    assert response.text.count("\n") == 20001
