"""Bulk members: streamed import, atomic replace, listing, membership check."""

from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from tests.conftest import Tenant
from tests.factories import add_members, make_audience, make_contacts, member_count, member_ids

API = "/integrationservice"


async def upload(
    client: httpx.AsyncClient,
    method: str,
    path: str,
    body: bytes | str,
    content_type: str = "text/plain",
    **params: Any,
) -> httpx.Response:
    data = body.encode() if isinstance(body, str) else body
    return await client.request(
        method, f"{API}{path}", content=data, headers={"content-type": content_type}, params=params
    )


@pytest.fixture
async def five(tenant: Tenant) -> Tenant:
    await make_contacts(tenant.client, ["c1", "c2", "c3", "c4", "c5"])
    await make_audience(tenant.client, "a")
    return tenant


class TestImport:
    async def test_plain_lines_with_duplicates_blank_lines_and_crlf(
        self, five: Tenant, session: AsyncSession
    ):
        response = await upload(
            five.client, "POST", "/audience/a/contact/import", "c1\r\nc2\r\nc2\r\n\r\nc3"
        )
        assert response.status_code == 200, response.text
        assert response.json() == {
            "received": 4,
            "added": 3,
            "alreadyMember": 0,
            "unknown": 0,
            "unknownSample": [],
        }
        assert await member_ids(session, five, "a") == {"c1", "c2", "c3"}
        again = await upload(five.client, "POST", "/audience/a/contact/import", "c3\nc4\n")
        assert again.json()["added"] == 1
        assert again.json()["alreadyMember"] == 1
        assert await member_count(session, five, "a") == 4
        audience = (await five.client.get(f"{API}/audience/a")).json()
        assert audience["lastContactAddedAt"] and audience["lastSyncDate"]

    async def test_unknown_ids_reject_the_whole_upload(self, five: Tenant, session: AsyncSession):
        body = "c1\nx3\nc2\nx1\nx3\nx2\n"
        response = await upload(five.client, "POST", "/audience/a/contact/import", body)
        assert response.status_code == 404
        refusal = response.json()
        assert refusal["errorType"] == "CONTACT_NOT_FOUND"
        assert refusal["unknown"] == 3
        assert refusal["unknownSample"] == ["x3", "x1", "x2"]
        assert await member_ids(session, five, "a") == set()
        assert (await five.client.get(f"{API}/audience/a")).json()["lastSyncDate"] is None

    async def test_the_sample_holds_the_first_1000_unknown_ids(self, five: Tenant):
        body = "\n".join(f"x{i}" for i in range(1500))
        response = await upload(five.client, "POST", "/audience/a/contact/import", body)
        assert response.json()["unknown"] == 1500
        assert response.json()["unknownSample"] == [f"x{i}" for i in range(1000)]

    async def test_the_sample_cuts_each_id_past_255_characters(self, five: Tenant):
        huge, long = "h" * 5_000_000, "l" * 255
        body = f"{huge}\n{long}\nx1\n"
        response = await upload(five.client, "POST", "/audience/a/contact/import", body)
        assert response.status_code == 404
        assert response.json()["unknownSample"] == ["h" * 255 + "…", long, "x1"]
        assert len(response.content) < 2000

    async def test_skip_adds_the_known_ids_and_reports_the_others(
        self, five: Tenant, session: AsyncSession
    ):
        response = await upload(
            five.client, "POST", "/audience/a/contact/import", "c1\nx1\nc2\n", unknown="skip"
        )
        assert response.status_code == 200
        assert response.json() == {
            "received": 3,
            "added": 2,
            "alreadyMember": 0,
            "unknown": 1,
            "unknownSample": ["x1"],
        }
        assert await member_ids(session, five, "a") == {"c1", "c2"}

    async def test_csv_with_other_columns_and_quotes(self, five: Tenant, session: AsyncSession):
        body = 'segment,ExternalId,score\n"a, b",c1,1\nx,"c2",2\n"multi\nline",c3,3\n'
        response = await upload(five.client, "POST", "/audience/a/contact/import", body, "text/csv")
        assert response.status_code == 200, response.text
        assert response.json()["added"] == 3
        assert await member_ids(session, five, "a") == {"c1", "c2", "c3"}

    async def test_ndjson_strings_and_objects(self, five: Tenant, session: AsyncSession):
        body = '"c1"\n{"externalId": "c2", "other": 1}\n\n"c3"\n'
        response = await upload(
            five.client, "POST", "/audience/a/contact/import", body, "application/x-ndjson"
        )
        assert response.status_code == 200, response.text
        assert await member_ids(session, five, "a") == {"c1", "c2", "c3"}

    @pytest.mark.parametrize(
        ("body", "content_type", "message"),
        [
            (b"c1\nbad\x00id\n", "text/plain", "line 2"),
            (b"c1\nbad\xff\n", "text/plain", "line 2"),
            (b"externalId\nc1\nc2,extra\n", "text/csv", "line 3"),
            (b"name\nc1\n", "text/csv", "no externalId column"),
            (b"externalId" + b",x" * 2000 + b"\nc1\n", "text/csv", "2001 columns; at most 1000"),
            (b"externalId," + b"x" * 70_000 + b"\nc1\n", "text/csv", "larger than 64 KiB"),
            (b"externalId," + b"x" * 70_000, "text/csv", "larger than 64 KiB"),
            (b'"c1"\n{oops\n', "application/x-ndjson", "Line 2"),
            (b'"c1"\n42\n', "application/x-ndjson", "Line 2"),
        ],
    )
    async def test_unreadable_uploads_are_400_naming_the_line(
        self, five: Tenant, session: AsyncSession, body: bytes, content_type: str, message: str
    ):
        response = await upload(
            five.client, "POST", "/audience/a/contact/import", body, content_type
        )
        assert response.status_code == 400
        assert response.json()["errorType"] == "INVALID_PARAMS"
        assert message in response.json()["message"]
        assert await member_ids(session, five, "a") == set()

    async def test_json_is_not_an_upload_format(self, five: Tenant):
        response = await upload(
            five.client, "POST", "/audience/a/contact/import", "[]", "application/json"
        )
        assert response.status_code == 415
        assert response.json()["errorType"] == "INVALID_PARAMS"

    async def test_an_unknown_audience_is_404(self, five: Tenant):
        response = await upload(five.client, "POST", "/audience/zz/contact/import", "c1\n")
        assert response.status_code == 404
        assert response.json()["message"] == "Audience not found"

    async def test_too_many_lines_is_413(self, five: Tenant, app):
        app.state.settings = app.state.settings.model_copy(update={"max_upload_lines": 3})
        response = await upload(
            five.client, "POST", "/audience/a/contact/import", "c1\nc2\nc3\nc4\nc5\n"
        )
        assert response.status_code == 413
        assert "maximum is 3" in response.json()["message"]

    async def test_a_large_upload_in_one_request(self, tenant: Tenant, session: AsyncSession):
        await session.execute(
            text(
                """
                INSERT INTO contacts (account_id, external_id, encrypted_id)
                SELECT :a, 'big-' || i, 'enc-' || i FROM generate_series(1, 50000) i
                """
            ),
            {"a": tenant.account_id},
        )
        await session.commit()
        await make_audience(tenant.client, "big")
        body = "".join(f"big-{i}\n" for i in range(1, 50001)).encode()

        async def chunks():  # type: ignore[no-untyped-def]
            for start in range(0, len(body), 7919):
                yield body[start : start + 7919]

        response = await tenant.client.post(
            f"{API}/audience/big/contact/import",
            content=chunks(),
            headers={"content-type": "text/plain"},
        )
        assert response.status_code == 200, response.text
        assert response.json()["added"] == 50000
        assert await member_count(session, tenant, "big") == 50000


class TestReplace:
    async def test_dry_run_answers_the_difference_and_changes_nothing(
        self, five: Tenant, session: AsyncSession
    ):
        await add_members(five.client, "a", ["c1", "c2", "c3"])
        response = await upload(
            five.client, "PUT", "/audience/a/contact", "c2\nc3\nc4\nc5\n", dryRun="true"
        )
        assert response.status_code == 200
        assert response.json() == {
            "added": 2,
            "removed": 1,
            "unchanged": 2,
            "unknown": 0,
            "unknownSample": [],
            "dryRun": True,
        }
        assert await member_ids(session, five, "a") == {"c1", "c2", "c3"}

    async def test_apply_makes_the_members_exactly_the_set(
        self, five: Tenant, session: AsyncSession
    ):
        await add_members(five.client, "a", ["c1", "c2", "c3"])
        first_added = await session.scalar(
            text(
                """
                SELECT m.added_at FROM audience_members m JOIN contacts c
                ON c.account_id = m.account_id AND c.contact_id = m.contact_id
                WHERE c.external_id = 'c2' AND c.account_id = :a
                """
            ),
            {"a": five.account_id},
        )
        response = await upload(five.client, "PUT", "/audience/a/contact", "c2\nc3\nc4\nc5\nc5\n")
        assert response.status_code == 200
        assert response.json() == {
            "added": 2,
            "removed": 1,
            "unchanged": 2,
            "unknown": 0,
            "unknownSample": [],
            "dryRun": False,
        }
        assert await member_ids(session, five, "a") == {"c2", "c3", "c4", "c5"}
        assert await member_count(session, five, "a") == 4
        audience = (await five.client.get(f"{API}/audience/a")).json()
        assert audience["lastContactAddedAt"] and audience["lastContactRemovedAt"]
        kept = await session.scalar(
            text(
                """
                SELECT m.added_at FROM audience_members m JOIN contacts c
                ON c.account_id = m.account_id AND c.contact_id = m.contact_id
                WHERE c.external_id = 'c2' AND c.account_id = :a
                """
            ),
            {"a": five.account_id},
        )
        assert kept == first_added

    async def test_an_empty_upload_empties_the_audience(self, five: Tenant, session: AsyncSession):
        await add_members(five.client, "a", ["c1", "c2"])
        response = await upload(five.client, "PUT", "/audience/a/contact", "")
        assert response.json()["removed"] == 2
        assert await member_count(session, five, "a") == 0

    async def test_unknown_ids_refuse_unless_skipped(self, five: Tenant, session: AsyncSession):
        await add_members(five.client, "a", ["c1"])
        refused = await upload(five.client, "PUT", "/audience/a/contact", "c2\nnope\n")
        assert refused.status_code == 404
        assert refused.json()["unknownSample"] == ["nope"]
        assert await member_ids(session, five, "a") == {"c1"}
        skipped = await upload(
            five.client, "PUT", "/audience/a/contact", "c2\nnope\n", unknown="skip"
        )
        assert skipped.json()["unknown"] == 1
        assert await member_ids(session, five, "a") == {"c2"}

    async def test_a_line_that_is_copys_end_marker_cuts_nothing_short(
        self, five: Tenant, session: AsyncSession
    ):
        await add_members(five.client, "a", ["c1", "c2", "c3", "c4", "c5"])
        body = "c1\nc2\n\\.\nc3\nc4\nc5"
        refused = await upload(five.client, "PUT", "/audience/a/contact", body)
        assert refused.status_code == 404
        assert refused.json()["unknownSample"] == ["\\."]
        assert await member_ids(session, five, "a") == {"c1", "c2", "c3", "c4", "c5"}
        skipped = await upload(five.client, "PUT", "/audience/a/contact", body, unknown="skip")
        assert skipped.status_code == 200
        assert skipped.json()["unknown"] == 1
        assert skipped.json()["removed"] == 0
        assert await member_ids(session, five, "a") == {"c1", "c2", "c3", "c4", "c5"}

    async def test_a_replace_and_an_import_in_one_test_transaction(self, five: Tenant):
        assert (await upload(five.client, "PUT", "/audience/a/contact", "c1\n")).status_code == 200
        assert (
            await upload(five.client, "POST", "/audience/a/contact/import", "c2\n")
        ).status_code == 200
        assert (await upload(five.client, "PUT", "/audience/a/contact", "c3\n")).status_code == 200


class TestListing:
    async def test_pages_with_added_at_and_added_since(self, five: Tenant, session: AsyncSession):
        await add_members(five.client, "a", ["c1", "c2", "c3", "c4", "c5"])
        await session.execute(
            text(
                """
                UPDATE audience_members m SET added_at = '2020-01-01T00:00:00Z'
                FROM contacts c WHERE c.account_id = m.account_id AND c.contact_id = m.contact_id
                  AND c.external_id IN ('c1', 'c2')
                """
            )
        )
        seen: list[str] = []
        url: str | None = f"{API}/audience/a/contact?pageSize=2"
        while url:
            page = (await five.client.get(url)).json()
            seen += [m["externalId"] for m in page["contacts"]]
            assert all(
                m["email"].endswith("@example.com") and m["addedAt"] > 0 for m in page["contacts"]
            )
            url = page["paging"]["next"]
        assert seen == ["c1", "c2", "c3", "c4", "c5"]
        recent = await five.client.get(
            f"{API}/audience/a/contact", params={"addedSince": "2021-01-01T00:00:00Z"}
        )
        assert [m["externalId"] for m in recent.json()["contacts"]] == ["c3", "c4", "c5"]
        by_ms = await five.client.get(
            f"{API}/audience/a/contact", params={"addedSince": "1609459200000"}
        )
        assert [m["externalId"] for m in by_ms.json()["contacts"]] == ["c3", "c4", "c5"]

    async def test_a_bad_added_since_is_400(self, five: Tenant):
        response = await five.client.get(
            f"{API}/audience/a/contact", params={"addedSince": "yesterday"}
        )
        assert response.status_code == 400

    # 15 digits: the year 5138 or later, more than the document's pattern admits.
    @pytest.mark.parametrize(
        "since", ["99999999999999999", "100000000000000", "9" * 5000, "²", "99999-01-01"]
    )
    async def test_an_added_since_out_of_range_is_400(self, five: Tenant, since: str):
        response = await five.client.get(f"{API}/audience/a/contact", params={"addedSince": since})
        assert response.status_code == 400
        assert "addedSince" in response.json()["message"]

    async def test_membership_check(self, five: Tenant):
        await add_members(five.client, "a", ["c1"])
        member = await five.client.get(f"{API}/audience/a/contact/c1")
        assert member.status_code == 200
        assert member.json()["externalId"] == "c1"
        assert member.json()["addedAt"] > 0
        stranger = await five.client.get(f"{API}/audience/a/contact/c2")
        assert stranger.status_code == 404
        assert stranger.json()["errorType"] == "CONTACT_NOT_FOUND"
        unknown = await five.client.get(f"{API}/audience/zz/contact/c1")
        assert unknown.status_code == 404
        assert unknown.json()["message"] == "Audience not found"

    async def test_audience_overview_with_member_counts(self, five: Tenant):
        await make_audience(five.client, "b", "Bees")
        await make_audience(five.client, "c", "Cees")
        await add_members(five.client, "a", ["c1", "c2"])
        await upload(five.client, "POST", "/audience/b/contact/import", "c1\nc2\nc3\n")
        page = (await five.client.get(f"{API}/audience", params={"pageSize": 2})).json()
        assert [(a["externalId"], a["memberCount"]) for a in page["audiences"]] == [
            ("a", 2),
            ("b", 3),
        ]
        rest = (await five.client.get(page["paging"]["next"])).json()
        assert [a["externalId"] for a in rest["audiences"]] == ["c"]
        assert rest["paging"]["next"] is None
        named = (await five.client.get(f"{API}/audience", params={"name": "EES"})).json()
        assert [a["externalId"] for a in named["audiences"]] == ["b", "c"]
        percent = (await five.client.get(f"{API}/audience", params={"name": "%"})).json()
        assert percent["audiences"] == []

    async def test_the_other_base_path_keeps_its_links(self, five: Tenant):
        await make_audience(five.client, "b")
        page = (
            await five.client.get("/integrationservice-1.1.0/audience", params={"pageSize": 1})
        ).json()
        assert "/integrationservice-1.1.0/audience?" in page["paging"]["next"]
