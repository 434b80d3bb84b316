"""All SQL of staging an id upload: a temporary table filled by COPY on the request's own
connection and transaction as the body arrives, analyzed before anything joins it (its
statistics are otherwise empty and the planner guesses), and dropped by the handle that made
it (or at commit, or with a rollback)."""

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import sql
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from audiences.core.errors import InvalidParams
from audiences.core.statements import driver_connection
from audiences.core.uploads import (
    EndMarkerGuard,
    LineCounter,
    UploadFormat,
    csv_header,
    describe_copy_error,
    ndjson_id,
    plain_chunks,
    text_lines,
    upload_format,
    without_bom,
)

STAGING = "upload_ids"

# Each line is one value: CSV with a delimiter and a quote that no valid id contains (ids
# cannot hold control characters), so lines reach PostgreSQL as they are, without parsing them
# in Python.
_PLAIN_COPY = "COPY {} (ext) FROM STDIN WITH (FORMAT csv, DELIMITER E'\\x02', QUOTE E'\\x01')"


@dataclass
class StagedIds:
    """An upload staged in `upload_ids` (one row a line, in upload order: ctid); `lines` counts
    them. The tables it and later steps made are dropped by `drop`."""

    lines: int
    tables: list[str] = field(default_factory=lambda: [STAGING])

    async def drop(self, session: AsyncSession) -> None:
        """Frees the tables now rather than at commit (the transaction may stage again)."""
        names = ", ".join(f'"{table}"' for table in self.tables)
        await session.execute(text(f"DROP TABLE IF EXISTS {names}"))
        self.tables = []


async def stage_ids(
    session: AsyncSession, body: AsyncIterator[bytes], content_type: str, max_lines: int
) -> StagedIds:
    """Stages the uploaded ids, blank lines left out. Bad input is a 400 that names the line;
    the transaction is then unusable and is rolled back (which drops the table)."""
    fmt = upload_format(content_type)
    connection = await driver_connection(session)
    await connection.execute(
        sql.SQL("CREATE TEMP TABLE {} (ext text) ON COMMIT DROP").format(sql.Identifier(STAGING))
    )
    staged = StagedIds(0)
    try:
        if fmt is UploadFormat.PLAIN:
            staged.lines = await _copy_plain(connection, body, max_lines)
        elif fmt is UploadFormat.CSV:
            staged.lines = await _copy_csv(connection, body, max_lines, staged)
        else:
            staged.lines = await _copy_ndjson(connection, body, max_lines)
    except psycopg.errors.DataError as exc:
        # A CSV upload's first line is its header, which PostgreSQL never saw.
        offset = 1 if fmt is UploadFormat.CSV else 0
        described = describe_copy_error(exc, offset)
        raise InvalidParams(f"The upload cannot be read: {described}") from exc
    await connection.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(STAGING)))
    return staged


async def _copy_plain(
    connection: psycopg.AsyncConnection[Any], body: AsyncIterator[bytes], max_lines: int
) -> int:
    statement = sql.SQL(_PLAIN_COPY).format(sql.Identifier(STAGING))
    guard = EndMarkerGuard(b"\x01\\.\x01")
    async with connection.cursor() as cursor:
        async with cursor.copy(statement) as copy:
            async for chunk in plain_chunks(body, max_lines):
                if data := guard.feed(chunk):
                    await copy.write(data)
            if rest := guard.finish():
                await copy.write(rest)
        return int(cursor.rowcount)


async def _copy_csv(
    connection: psycopg.AsyncConnection[Any],
    body: AsyncIterator[bytes],
    max_lines: int,
    staged: StagedIds,
) -> int:
    """The header names the columns; PostgreSQL parses the rest (quotes, embedded newlines)
    into a table of every column, whose id column is then staged."""
    counter = LineCounter(max_lines)
    chunks = without_bom(body)
    names, column, rest = await csv_header(chunks)
    wide = f"{STAGING}_rows"
    staged.tables.append(wide)
    columns = sql.SQL(", ").join(
        sql.SQL("{} text").format(sql.Identifier(f"c{i}")) for i in range(len(names))
    )
    await connection.execute(
        sql.SQL("CREATE TEMP TABLE {} ({}) ON COMMIT DROP").format(sql.Identifier(wide), columns)
    )
    statement = sql.SQL("COPY {} FROM STDIN WITH (FORMAT csv)").format(sql.Identifier(wide))
    guard = EndMarkerGuard(b'"\\."')
    async with connection.cursor() as cursor, cursor.copy(statement) as copy:
        counter.add(rest)
        await copy.write(guard.feed(rest))
        async for chunk in chunks:
            counter.add(chunk)
            if data := guard.feed(chunk):
                await copy.write(data)
        if data := guard.finish():
            await copy.write(data)
    staged_rows = await connection.execute(
        sql.SQL("INSERT INTO {} (ext) SELECT {col} FROM {} WHERE {col} <> ''").format(
            sql.Identifier(STAGING), sql.Identifier(wide), col=sql.Identifier(f"c{column}")
        )
    )
    return int(staged_rows.rowcount)


async def _copy_ndjson(
    connection: psycopg.AsyncConnection[Any], body: AsyncIterator[bytes], max_lines: int
) -> int:
    statement = sql.SQL("COPY {} (ext) FROM STDIN").format(sql.Identifier(STAGING))
    rows = 0
    async with connection.cursor() as cursor, cursor.copy(statement) as copy:
        async for number, line in text_lines(body, max_lines):
            value = ndjson_id(line, number)
            if value:
                if "\x00" in value:
                    raise InvalidParams(f"Line {number} contains a NUL character")
                await copy.write_row((value,))
                rows += 1
    return rows
