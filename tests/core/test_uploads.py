"""Streamed uploads of ids: the formats, the line rules, and what reaches the staging table."""

from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncConnection

from audiences.core.db import _driver_of
from audiences.core.errors import InvalidParams
from audiences.core.uploads import (
    UnsupportedUpload,
    UploadFormat,
    UploadTooLarge,
    copy_ids,
    create_staging,
    text_lines,
    upload_format,
)


async def chunks(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


class TestUploadFormat:
    @pytest.mark.parametrize(
        ("content_type", "expected"),
        [
            ("", UploadFormat.PLAIN),
            ("text/plain; charset=utf-8", UploadFormat.PLAIN),
            ("application/x-www-form-urlencoded", UploadFormat.PLAIN),
            ("application/octet-stream", UploadFormat.PLAIN),
            ("text/csv", UploadFormat.CSV),
            ("Application/CSV", UploadFormat.CSV),
            ("application/x-ndjson", UploadFormat.NDJSON),
            ("application/jsonl", UploadFormat.NDJSON),
        ],
    )
    def test_each_accepted_type_maps_to_its_format(self, content_type: str, expected):  # type: ignore[no-untyped-def]
        assert upload_format(content_type) is expected

    @pytest.mark.parametrize("content_type", ["application/json", "application/xml", "image/png"])
    def test_other_types_are_415(self, content_type: str):
        with pytest.raises(UnsupportedUpload) as refused:
            upload_format(content_type)
        assert refused.value.status == 415


class TestTextLines:
    async def test_lines_split_across_chunks_and_multibyte_characters_are_joined(self):
        body = "café\nnaïve\n日本".encode()
        pieces = [body[i : i + 3] for i in range(0, len(body), 3)]
        lines = [line async for line in text_lines(chunks(*pieces), 10)]
        assert lines == [(1, "café"), (2, "naïve"), (3, "日本")]

    async def test_a_byte_order_mark_is_dropped(self):
        lines = [line async for line in text_lines(chunks(b"\xef\xbb\xbfa\nb\n"), 10)]
        assert lines == [(1, "a"), (2, "b")]

    async def test_invalid_utf8_names_the_line(self):
        with pytest.raises(InvalidParams, match="Line 2"):
            _ = [line async for line in text_lines(chunks(b"ok\n\xff\xfe\n"), 10)]

    async def test_more_lines_than_allowed_is_413(self):
        with pytest.raises(UploadTooLarge):
            _ = [line async for line in text_lines(chunks(b"a\nb\nc\nd\n"), 3)]


async def staged(connection: AsyncConnection, fmt: UploadFormat, *parts: bytes) -> list[Any]:
    driver = await _driver_of(connection)
    await create_staging(driver, "t_upload")
    count = await copy_ids(driver, chunks(*parts), fmt, "t_upload", 100)
    rows = await driver.execute("SELECT ext FROM t_upload ORDER BY ctid")
    values = [row[0] for row in await rows.fetchall()]
    assert count == len(values)
    return values


class TestCopyIds:
    async def test_plain_lines_are_staged_as_they_are_without_blank_lines(
        self, connection: AsyncConnection
    ):
        values = await staged(
            connection, UploadFormat.PLAIN, b'\r\n\na,b\r\n"q"\n', b"  spaced \n\n\nlast"
        )
        assert values == ["a,b", '"q"', "  spaced ", "last"]

    async def test_csv_takes_the_external_id_column_whatever_its_place_and_case(
        self, connection: AsyncConnection
    ):
        values = await staged(
            connection,
            UploadFormat.CSV,
            b"segment,ExternalID\n",
            b'a,c1\nb,"c,2"\nc,\n',
        )
        assert values == ["c1", "c,2"]

    async def test_csv_without_an_external_id_column_is_400(self, connection: AsyncConnection):
        with pytest.raises(InvalidParams, match="externalId"):
            await staged(connection, UploadFormat.CSV, b"id,name\n1,a\n")

    async def test_ndjson_takes_strings_and_objects(self, connection: AsyncConnection):
        values = await staged(
            connection, UploadFormat.NDJSON, b'"a"\n{"externalId": "b"}\n\n"c\\\\d"\n'
        )
        assert values == ["a", "b", "c\\d"]

    async def test_ndjson_of_another_shape_names_the_line(self, connection: AsyncConnection):
        with pytest.raises(InvalidParams, match="Line 2"):
            await staged(connection, UploadFormat.NDJSON, b'"a"\n42\n')


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
    async def test_plain_uploads_stage_every_line(self, connection: AsyncConnection, parts):  # type: ignore[no-untyped-def]
        values = await staged(connection, UploadFormat.PLAIN, *parts)
        assert [v for v in values if v != "\\."] == ["u1", "u2", "u3", "u4"]
        assert "\\." in values

    async def test_a_line_that_only_starts_like_the_marker_is_kept_as_it_is(
        self, connection: AsyncConnection
    ):
        values = await staged(connection, UploadFormat.PLAIN, b"\\.x\na\\.\n\\\\.\n")
        assert values == ["\\.x", "a\\.", "\\\\."]

    async def test_csv_uploads_stage_every_line(self, connection: AsyncConnection):
        values = await staged(connection, UploadFormat.CSV, b"externalId\nc1\n\\.\nc2\n", b"c3\n")
        assert values == ["c1", "\\.", "c2", "c3"]
