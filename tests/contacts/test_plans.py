"""Contact import plans on stale statistics: every join stays linear (tests/plans.py)."""

import json

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from audiences.contacts import bulk_repository, repository
from audiences.core.statements import driver_connection
from tests.conftest import Tenant
from tests.plans import (
    Planned,
    describe,
    explain,
    fill_after_analyze,
    nodes,
    quadratic_joins,
    recorded_plans,
)

API = "/integrationservice"


async def stage(session: AsyncSession, first: int, last: int) -> None:
    """Contacts n<first>...n<last> staged as an upload's COPY leaves them."""
    await bulk_repository.create_staging(await driver_connection(session))
    await session.execute(
        text(
            f"""
            INSERT INTO {bulk_repository.STAGING} (line, external_id, properties, removed)
            SELECT i, 'n' || i, jsonb_build_object('email', 'n' || i || '@example.com'), '{{}}'
            FROM generate_series(CAST(:first AS int), :last) i
            """
        ),
        {"first": first, "last": last},
    )


def ndjson(ids: range, prefix: str = "n") -> bytes:
    return "".join(
        f'{{"externalId": "{prefix}{i}", "properties": {{"email": "{prefix}{i}@example.com"}}}}\n'
        for i in ids
    ).encode()


async def import_contacts(client: httpx.AsyncClient, body: bytes) -> dict[str, int]:
    response = await client.post(
        f"{API}/contact/import", content=body, headers={"content-type": "application/x-ndjson"}
    )
    assert response.status_code == 200, response.text[:2000]
    report: dict[str, int] = response.json()
    return report


class TestImportPlans:
    async def test_300k_new_contacts_into_70k_never_analyzed_are_joined_linearly(
        self,
        session: AsyncSession,
        connection: AsyncConnection,
        tenant: Tenant,
        other_tenant: Tenant,
    ):
        # The reproduction: 70,000 contacts never analyzed, then 300,000 new ones. A nested
        # loop over the account's contacts (believed a few hundred) ran for many minutes.
        await fill_after_analyze(
            session, tenant.account_id, other_tenant.account_id, 70_000, never_analyzed=True
        )
        await stage(session, 1, 300_000)
        with (
            recorded_plans(connection, stop_at="UPDATE contacts") as recorded,
            pytest.raises(Planned),
        ):
            await bulk_repository.settle_staging(session, tenant.account_id)
            await bulk_repository.upsert_contacts(session, tenant.account_id, False)
        assert recorded.of("UPDATE contacts")

    @pytest.mark.parametrize("never_analyzed", [False, True], ids=["analyzed-empty", "never"])
    async def test_an_import_into_a_freshly_filled_account_is_joined_linearly(
        self,
        session: AsyncSession,
        connection: AsyncConnection,
        tenant: Tenant,
        other_tenant: Tenant,
        never_analyzed: bool,
    ):
        await fill_after_analyze(
            session, tenant.account_id, other_tenant.account_id, never_analyzed=never_analyzed
        )
        await session.commit()
        body = ndjson(range(40)) + ndjson(range(1, 2000, 50), "c")
        with recorded_plans(connection) as recorded:
            report = await import_contacts(tenant.client, body)
        assert (report["created"], report["updated"]) == (40, 40)
        assert recorded.of("INSERT INTO contacts")
        # The contacts updated are read by their keys, not the account's every contact.
        (update,) = recorded.of("UPDATE contacts")
        reads = [
            n
            for n in nodes(update)
            if n.get("Relation Name") == "contacts" and "Scan" in n["Node Type"]
        ]
        conditions = [n.get("Index Cond", "") + n.get("Recheck Cond", "") for n in reads]
        assert reads and all("contact_id = ANY" in c for c in conditions), conditions

    async def test_a_contact_list_into_a_freshly_filled_account_is_linear(
        self,
        session: AsyncSession,
        connection: AsyncConnection,
        tenant: Tenant,
        other_tenant: Tenant,
    ):
        await fill_after_analyze(session, tenant.account_id, other_tenant.account_id)
        await session.commit()
        contacts = [{"externalId": f"c{i}", "properties": {"firstName": "Ann"}} for i in range(50)]
        contacts += [{"externalId": f"n{i}", "properties": {"firstName": "Bo"}} for i in range(50)]
        with recorded_plans(connection):
            response = await tenant.client.post(
                f"{API}/contact/list", json={"contacts": contacts, "update": True}
            )
        assert response.status_code == 200, response.text
        assert all(item["code"] == "OK" for item in response.json())
        # The contacts locked and updated are found by their keys, not by reading the account's
        # every contact (which stale statistics believe nearly empty). Both statements run on
        # the driver connection: their plans are read here, on the same statistics.
        ids = sorted(c["externalId"] for c in contacts)
        params = {"account_id": tenant.account_id, "external_ids": json.dumps(ids)}
        locking = await explain(session, repository.LOCK_LISTED.sql, params)
        stored = await session.scalars(
            text(
                "SELECT contact_id FROM contacts"
                " WHERE account_id = :account_id AND external_id = ANY(:external_ids)"
            ),
            {"account_id": tenant.account_id, "external_ids": ids[:50]},
        )
        values = {"email": None, "test_group": False, "email_channel": True, "sms_channel": False}
        changed = [{"contact_id": i, "properties": {"firstName": "Ann"}, **values} for i in stored]
        new = [
            {"external_id": f"x{i}", "encrypted_id": f"x{i}", "properties": {}, **values}
            for i in range(50)
        ]
        assert len(changed) == 50
        writing = await explain(
            session,
            repository.WRITE_LISTED.sql,
            {
                "account_id": tenant.account_id,
                "contact_ids": json.dumps([c["contact_id"] for c in changed]),
                "changed": json.dumps(changed),
                "new": json.dumps(new),
            },
        )
        for plan, key in ((locking, "external_id"), (writing, "contact_id")):
            assert not quadratic_joins(plan), describe(plan)
            reads = [
                n
                for n in nodes(plan)
                if n.get("Relation Name") == "contacts" and "Scan" in n["Node Type"]
            ]
            conditions = [n.get("Index Cond", "") + n.get("Recheck Cond", "") for n in reads]
            assert reads and all(key in c and "= ANY" in c for c in conditions), conditions
