"""Streamed uploads: the formats and the line rules (what reaches the staging table is in
tests/memberships/test_staging.py)."""

from collections.abc import AsyncIterator

import pytest

from audiences.core.errors import InvalidParams
from audiences.core.uploads import (
    UnsupportedUpload,
    UploadFormat,
    UploadTooLarge,
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
