"""Streamed uploads (text/plain, text/csv, NDJSON): the format of a body, and the transforms of
its bytes on their way to a COPY (byte order mark, blank lines, the `\\.` end marker, line
limits, decoding), at constant memory whatever the size. The COPY and staging SQL live with the
repositories that stage (memberships/staging.py, contacts/bulk_repository.py)."""

import codecs
import csv
import json
import re
from collections.abc import AsyncIterator
from enum import Enum

import psycopg

from audiences.core.errors import DomainError, InvalidParams

_BLANK_LINES = re.compile(rb"\n{2,}")
# A CSV upload's header: PostgreSQL tables hold at most 1600 columns, and nobody needs more.
MAX_CSV_COLUMNS = 1000
MAX_CSV_HEADER = 64 * 1024


class UploadFormat(Enum):
    PLAIN = "text/plain"
    CSV = "text/csv"
    NDJSON = "application/x-ndjson"


class UnsupportedUpload(DomainError):
    status = 415
    error_type = "INVALID_PARAMS"
    message = (
        "Send the ids as text/plain (one a line), text/csv (with an externalId column) or "
        "application/x-ndjson"
    )


class UploadTooLarge(DomainError):
    status = 413
    error_type = "INVALID_PARAMS"

    def __init__(self, maximum: int) -> None:
        super().__init__(f"Too many lines in one upload (maximum is {maximum})")


def check_csv_columns(count: int) -> None:
    """A CSV header of more than MAX_CSV_COLUMNS columns is refused."""
    if count > MAX_CSV_COLUMNS:
        raise InvalidParams(f"The CSV header has {count} columns; at most {MAX_CSV_COLUMNS}")


def upload_format(content_type: str) -> UploadFormat:
    kind = content_type.split(";")[0].strip().lower()
    # curl sends form encoding by default and some tools send nothing: both mean plain lines.
    if kind in ("", "text/plain", "application/x-www-form-urlencoded", "application/octet-stream"):
        return UploadFormat.PLAIN
    if kind in ("text/csv", "application/csv"):
        return UploadFormat.CSV
    if kind in (
        "application/x-ndjson",
        "application/ndjson",
        "application/jsonl",
        "application/jsonlines",
    ):
        return UploadFormat.NDJSON
    raise UnsupportedUpload()


def describe_copy_error(exc: psycopg.Error, offset: int) -> str:
    primary = exc.diag.message_primary or "invalid data"
    context = exc.diag.context or ""
    # PostgreSQL's context reads "COPY <table>, line N[, column c]: ..."; keep only the line.
    for part in context.split(","):
        part = part.strip()
        if part.startswith("line "):
            number = part.split(":")[0].removeprefix("line ")
            if number.isdigit():
                return f"line {int(number) + offset}: {primary}"
    return primary


class LineCounter:
    def __init__(self, maximum: int) -> None:
        self.maximum = maximum
        self.lines = 0

    def add(self, chunk: bytes) -> None:
        self.lines += chunk.count(b"\n")
        if self.lines > self.maximum:
            raise UploadTooLarge(self.maximum)


async def without_bom(body: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    first = True
    async for chunk in body:
        if first:
            if not chunk:
                continue
            chunk = chunk.removeprefix(codecs.BOM_UTF8)
            first = False
        yield chunk


class EndMarkerGuard:
    """COPY in CSV format ends at a line that is exactly `\\.`, whatever follows: such a line
    is written quoted instead (as data), so every line of an upload reaches the table. An
    unfinished last line that may still become one (at most three bytes) is held back."""

    _MARKER = re.compile(rb"(?<=\n)\\\.(?=\r?\n)")

    def __init__(self, quoted: bytes) -> None:
        self.quoted = quoted
        self.held = b""
        self.line_start = True

    def feed(self, chunk: bytes) -> bytes:
        data = self.held + chunk
        starts_line = self.line_start or bool(self.held)
        data = self._MARKER.sub(self.quoted, data)
        if starts_line and (data.startswith((b"\\.\n", b"\\.\r\n"))):
            data = self.quoted + data[2:]
        tail = data[data.rfind(b"\n") + 1 :]
        tail_starts_line = b"\n" in data or starts_line
        if tail_starts_line and tail in (b"\\", b"\\.", b"\\.\r"):
            self.held, data = tail, data[: len(data) - len(tail)]
        else:
            self.held = b""
        if data:
            self.line_start = data.endswith(b"\n")
        return data

    def finish(self) -> bytes:
        held, self.held = self.held, b""
        return self.quoted + held[2:] if held.startswith(b"\\.") else held


async def plain_chunks(body: AsyncIterator[bytes], max_lines: int) -> AsyncIterator[bytes]:
    """A text/plain upload's bytes with one kind of line ending (ids never hold a CR) and no
    blank lines, so that every line is an id; at most `max_lines` lines (413 past them)."""
    counter = LineCounter(max_lines)
    line_start = True
    async for chunk in without_bom(body):
        counter.add(chunk)
        chunk = _BLANK_LINES.sub(b"\n", chunk.replace(b"\r", b""))
        if line_start:
            chunk = chunk.lstrip(b"\n")
        if chunk:
            line_start = chunk.endswith(b"\n")
            yield chunk


async def csv_header(chunks: AsyncIterator[bytes]) -> tuple[list[str], int, bytes]:
    """A CSV upload's header: its column names, the index of the externalId column and the
    bytes read past the header line."""
    head = b""
    async for chunk in chunks:
        head += chunk
        if b"\n" in head or len(head) > MAX_CSV_HEADER:
            break
    header_line, newline, rest = head.partition(b"\n")
    if len(header_line) > MAX_CSV_HEADER or (not newline and len(head) > MAX_CSV_HEADER):
        raise InvalidParams(f"The CSV header is larger than {MAX_CSV_HEADER // 1024} KiB")
    try:
        header = next(csv.reader([header_line.decode("utf-8").rstrip("\r")]), [])
    except UnicodeDecodeError as exc:
        raise InvalidParams("The CSV header is not valid UTF-8") from exc
    except csv.Error as exc:  # a lone CR inside the line, for one
        raise InvalidParams(f"The CSV header is not valid CSV: {exc}") from exc
    names = [h.strip() for h in header]
    check_csv_columns(len(names))
    lowered = [n.lower() for n in names]
    if "externalid" not in lowered:
        raise InvalidParams("The CSV header has no externalId column")
    return names, lowered.index("externalid"), rest


def ndjson_id(line: str, number: int) -> str | None:
    if not line.strip():
        return None
    try:
        value = json.loads(line)
    except json.JSONDecodeError as exc:
        raise InvalidParams(f"Line {number} is not JSON: {exc.msg}") from exc
    if isinstance(value, dict):
        value = value.get("externalId")
    if not isinstance(value, str):
        raise InvalidParams(f'Line {number} must be a JSON string or {{"externalId": "..."}}')
    return value


async def text_line_batches(
    body: AsyncIterator[bytes], max_lines: int
) -> AsyncIterator[list[tuple[int, str]]]:
    """(line number, text) of each line of an upload, decoded incrementally, a list for each
    chunk received: a bulk reader then loops over a chunk's lines without an await a line."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    pending = ""
    number = 0
    async for chunk in without_bom(body):
        try:
            pending += decoder.decode(chunk)
        except UnicodeDecodeError as exc:
            bad = number + 1 + chunk[: exc.start].count(b"\n")
            raise InvalidParams(f"Line {bad} is not valid UTF-8") from exc
        *complete, pending = pending.split("\n")
        if number + len(complete) > max_lines:
            raise UploadTooLarge(max_lines)
        if complete:
            yield list(enumerate(complete, start=number + 1))
            number += len(complete)
    if pending.strip():
        yield [(number + 1, pending)]


async def text_lines(body: AsyncIterator[bytes], max_lines: int) -> AsyncIterator[tuple[int, str]]:
    """(line number, text) of each line of an upload, decoded incrementally."""
    async for batch in text_line_batches(body, max_lines):
        for line in batch:
            yield line
