"""The formats a contact import reads, streamed: NDJSON (a contact object a line) and CSV (a
header of property names and externalId), each record parsed into what it gives or that
line's error."""

import csv
import json
import re
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Protocol

from pydantic import ValidationError

from audiences.contacts.schemas import Channel, ContactIn
from audiences.core.errors import InvalidParams
from audiences.core.uploads import (
    UnsupportedUpload,
    UploadFormat,
    check_csv_columns,
    text_line_batches,
)

# The model's own validator: TypeAdapter's wrapper costs as much again as a short line's parse.
_CONTACT = ContactIn.__pydantic_validator__


def import_format(content_type: str) -> UploadFormat:
    kind = content_type.split(";")[0].strip().lower()
    if kind in ("text/csv", "application/csv"):
        return UploadFormat.CSV
    if kind in ("application/x-ndjson", "application/ndjson", "application/jsonl"):
        return UploadFormat.NDJSON
    raise UnsupportedUpload(
        "Send contacts as application/x-ndjson (a contact object a line) or text/csv (a header "
        "of property names and externalId)"
    )


class LineError(Exception):
    def __init__(self, code: str, message: str) -> None:
        self.code = code
        self.message = message
        super().__init__(message)


class Given(Protocol):
    """What a line gives: a contact of an NDJSON line, or a CSV record's."""

    @property
    def external_id(self) -> str | None: ...
    @property
    def properties(self) -> dict[str, Any] | None: ...
    @property
    def test_group(self) -> bool | None: ...
    @property
    def channels(self) -> list[Channel] | None: ...


@dataclass(slots=True)
class _CsvContact:
    """A CSV record's contact: its fields are text, a dict and a boolean as read, so it skips
    the model's validation (which cost as much as the rest of the record)."""

    external_id: str | None
    properties: dict[str, Any]
    test_group: bool | None
    channels: None = None


def _non_finite(name: str) -> float:
    return float(name.replace("Infinity", "inf"))


# A line that may hold a fractional or non-finite number (a value that starts like one). A
# string that merely looks like one costs only speed.
_MAY_HOLD_FLOAT = re.compile(r"[:,\[]\s*-?(?:\d+(?:\.\d|(?:\.\d+)?[eE])|NaN|Infinity)")


_NESTED = (list, dict, float)


def _has_float(value: Any) -> bool:
    pending = [value]
    while pending:
        item = pending.pop()
        kind = type(item)
        if kind is float:
            return True
        if kind is list:
            pending.extend(item)
        elif kind is dict:
            pending.extend(item.values())
    return False


def _parsed_exactly(contact: ContactIn, line: str) -> bool:
    """Whether pydantic's parse kept every number of the line as sent: no fractional number
    among the properties, and an externalId that cannot have been one."""
    for value in (contact.properties or {}).values():
        if type(value) in _NESTED and _has_float(value):
            return False
    external_id = contact.external_id
    if external_id and (external_id[0].isdigit() or external_id[0] == "-"):
        return _MAY_HOLD_FLOAT.search(line) is None
    return True


def parse_contact_line(line: str) -> ContactIn:
    """A contact from an NDJSON line; its fractional numbers stay exact (Decimal), so money
    keeps every digit a float would lose. Pydantic's parser first (a regular expression that
    looks for such numbers costs more than it); the standard library's only for a line that
    holds one."""
    try:
        contact: ContactIn = _CONTACT.validate_json(line)
    except ValidationError:
        if not _MAY_HOLD_FLOAT.search(line):
            raise
    else:
        if _parsed_exactly(contact, line):
            return contact
    try:
        data = json.loads(line, parse_float=Decimal, parse_constant=_non_finite)
    except RecursionError as exc:
        raise LineError("ERROR", "Malformed JSON: nested too deeply") from exc
    except ValueError as exc:
        raise LineError("ERROR", f"Malformed JSON: {exc}") from exc
    parsed: ContactIn = _CONTACT.validate_python(data)
    return parsed


class Upload(Protocol):
    """An upload's records, a batch for each chunk received, and the contact of a record (or
    its error; None for a blank one). Each record is parsed as it is written: contacts held a
    batch at a time would outlive the young generation, and the garbage collector then costs
    more than the parsing."""

    def batches(self) -> AsyncIterator[Sequence[tuple[int, str | None]]]: ...

    def contact(self, record: str | None) -> Given | LineError | None: ...


@dataclass
class _NdjsonUpload:
    body: AsyncIterator[bytes]
    max_lines: int

    def batches(self) -> AsyncIterator[Sequence[tuple[int, str | None]]]:
        return text_line_batches(self.body, self.max_lines)

    def contact(self, record: str | None) -> Given | LineError | None:
        if record is None or not record.strip():
            return None
        try:
            return parse_contact_line(record)
        except LineError as exc:
            return exc
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first.get("loc", ()))
            message = f"{where}: {first.get('msg')}" if where else str(first.get("msg"))
            return LineError("ERROR", message)


def _csv_contact(header: list[str], values: list[str]) -> _CsvContact:
    """A record's contact, each property as its cell says it (a set's cell lists its bits,
    read by the import's ValueNormalizer)."""
    if len(values) != len(header):
        raise LineError("ERROR", f"expected {len(header)} columns, found {len(values)}")
    properties: dict[str, Any] = {}
    external_id = None
    test_group = None
    for name, value in zip(header, values, strict=True):
        if name == "externalId":
            external_id = value
        elif value == "":
            continue
        elif name == "testGroup":
            test_group = value.strip().lower() in ("true", "1", "yes")
        else:
            properties[name] = value
    return _CsvContact(external_id, properties, test_group)


# A record (a quoted field may span lines) larger than this is refused as that line's error:
# an unclosed quote then costs one bounded record, not the rest of the upload.
MAX_CSV_RECORD = 128 * 1024


class _CsvRecords:
    """Complete CSV records (a quoted field may span lines: a record ends where its quotes
    balance), with the line each starts on; None for a record over MAX_CSV_RECORD. Linear in
    the upload: quotes are counted once per line."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.size = self.quotes = self.start = 0

    def feed(self, batch: list[tuple[int, str]]) -> list[tuple[int, str | None]]:
        records: list[tuple[int, str | None]] = []
        for number, line in batch:
            if not self.lines:
                if '"' not in line and len(line) < MAX_CSV_RECORD:  # a record of its own
                    records.append((number, line.rstrip("\r")))
                    continue
                self.start = number
            self.lines.append(line)
            self.size += len(line) + 1
            self.quotes += line.count('"')
            if self.size > MAX_CSV_RECORD:
                records.append((self.start, None))
                self.lines, self.size, self.quotes = [], 0, 0
            elif self.quotes % 2 == 0:
                records.append((self.start, "\n".join(self.lines).rstrip("\r")))
                self.lines, self.size, self.quotes = [], 0, 0
        return records

    def rest(self) -> list[tuple[int, str | None]]:
        return [(self.start, "\n".join(self.lines))] if self.lines else []


def _csv_values(record: str) -> list[str]:
    try:
        return next(csv.reader([record]), [])
    except csv.Error as exc:
        raise LineError("ERROR", f"The line is not valid CSV: {exc}") from exc


def _csv_header(record: str | None) -> list[str]:
    if record is None:
        raise InvalidParams("The CSV header is larger than 128 KiB")
    try:
        header = [h.strip() for h in _csv_values(record)]
    except LineError as exc:
        raise InvalidParams(f"The CSV header cannot be read: {exc.message}") from exc
    if "externalId" not in header:
        raise InvalidParams("The CSV header has no externalId column")
    check_csv_columns(len(header))
    return header


_TOO_LARGE = LineError(
    "ERROR", "The record is larger than 128 KiB (a field too large, or a quote not closed)"
)


@dataclass
class _CsvUpload:
    body: AsyncIterator[bytes]
    max_lines: int
    header: list[str] = field(default_factory=list)

    async def batches(self) -> AsyncIterator[Sequence[tuple[int, str | None]]]:
        """The records after the header (which is read, and checked, from the first)."""
        records = _CsvRecords()
        async for lines in text_line_batches(self.body, self.max_lines):
            yield self._after_header(records.feed(lines))
        yield self._after_header(records.rest())

    def _after_header(self, batch: list[tuple[int, str | None]]) -> list[tuple[int, str | None]]:
        if not self.header and batch:
            self.header = _csv_header(batch.pop(0)[1])
        return batch

    def contact(self, record: str | None) -> Given | LineError | None:
        if record is None:
            return _TOO_LARGE
        try:
            values = _csv_values(record)
            if not "".join(values).strip():
                return None
            return _csv_contact(self.header, values)
        except LineError as exc:
            return exc


def open_upload(fmt: UploadFormat, body: AsyncIterator[bytes], max_lines: int) -> Upload:
    """The reader of an upload in this format."""
    if fmt is UploadFormat.NDJSON:
        return _NdjsonUpload(body, max_lines)
    return _CsvUpload(body, max_lines)
