"""Staging an id upload: what reaches the staging table in each format (every line, the
`\\.` end marker included), its statistics, and the handle that drops what it made."""

from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from audiences.core.errors import InvalidParams
from audiences.core.uploads import UploadFormat
from audiences.memberships.staging import stage_ids


async def chunks(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


async def staged(session: AsyncSession, fmt: UploadFormat, *parts: bytes) -> list[Any]:
    handle = await stage_ids(session, chunks(*parts), fmt.value, 100)
    rows = await session.execute(text("SELECT ext FROM upload_ids ORDER BY ctid"))
    values = [row[0] for row in rows]
    assert handle.lines == len(values)
    await handle.drop(session)
    return values


class TestCopyIds:
    async def test_plain_lines_are_staged_as_they_are_without_blank_lines(
        self, session: AsyncSession
    ):
        values = await staged(
            session, UploadFormat.PLAIN, b'\r\n\na,b\r\n"q"\n', b"  spaced \n\n\nlast"
        )
        assert values == ["a,b", '"q"', "  spaced ", "last"]

    async def test_csv_takes_the_external_id_column_whatever_its_place_and_case(
        self, session: AsyncSession
    ):
        values = await staged(
            session,
            UploadFormat.CSV,
            b"segment,ExternalID\n",
            b'a,c1\nb,"c,2"\nc,\n',
        )
        assert values == ["c1", "c,2"]

    async def test_csv_without_an_external_id_column_is_400(self, session: AsyncSession):
        with pytest.raises(InvalidParams, match="externalId"):
            await staged(session, UploadFormat.CSV, b"id,name\n1,a\n")

    async def test_ndjson_takes_strings_and_objects(self, session: AsyncSession):
        values = await staged(
            session, UploadFormat.NDJSON, b'"a"\n{"externalId": "b"}\n\n"c\\\\d"\n'
        )
        assert values == ["a", "b", "c\\d"]

    async def test_ndjson_of_another_shape_names_the_line(self, session: AsyncSession):
        with pytest.raises(InvalidParams, match="Line 2"):
            await staged(session, UploadFormat.NDJSON, b'"a"\n42\n')


class TestEndOfDataMarker:
    """COPY's end-of-data line `\\.` is data in an upload: nothing after it is lost."""

    @pytest.mark.parametrize(
        "parts",
        [
            (b"u1\nu2\n\\.\nu3\nu4\n",),
            (b"\\.\nu1\nu2\n\\.\nu3\nu4",),
            (b"u1\nu2\n\\", b".\nu3\nu4\n"),
            (b"u1\nu2\n", b"\\", b".", b"\nu3\r\nu4"),
            (b"u1\r\nu2\r\n\\.\r\nu3\nu4\n\\.",),
        ],
    )
    async def test_plain_uploads_stage_every_line(self, session: AsyncSession, parts):  # type: ignore[no-untyped-def]
        values = await staged(session, UploadFormat.PLAIN, *parts)
        assert [v for v in values if v != "\\."] == ["u1", "u2", "u3", "u4"]
        assert "\\." in values

    async def test_a_line_that_only_starts_like_the_marker_is_kept_as_it_is(
        self, session: AsyncSession
    ):
        values = await staged(session, UploadFormat.PLAIN, b"\\.x\na\\.\n\\\\.\n")
        assert values == ["\\.x", "a\\.", "\\\\."]

    async def test_csv_uploads_stage_every_line(self, session: AsyncSession):
        values = await staged(session, UploadFormat.CSV, b"externalId\nc1\n\\.\nc2\n", b"c3\n")
        assert values == ["c1", "\\.", "c2", "c3"]


class TestHandle:
    async def test_the_staged_upload_is_analyzed_before_anything_joins_it(
        self, session: AsyncSession
    ):
        handle = await stage_ids(
            session, chunks(b"".join(b"c%d\n" % i for i in range(500))), "", 1000
        )
        estimate = await session.scalar(
            text("SELECT reltuples FROM pg_class WHERE oid = 'upload_ids'::regclass")
        )
        assert estimate == 500
        await handle.drop(session)

    async def test_the_handle_drops_every_table_it_made(self, session: AsyncSession):
        handle = await stage_ids(session, chunks(b"externalId,x\nc1,1\n"), "text/csv", 10)
        assert handle.tables == ["upload_ids", "upload_ids_rows"]
        await handle.drop(session)
        left = await session.scalar(
            text(
                "SELECT count(*) FROM pg_class WHERE relname ~ '^upload_ids' AND relpersistence='t'"
            )
        )
        assert left == 0
        # The same transaction can stage again.
        again = await stage_ids(session, chunks(b"c1\n"), "text/plain", 10)
        assert again.lines == 1
