"""Statements run on the psycopg connection under a SQLAlchemy one (COPY, and the hottest
statements), with SQLAlchemy's errors; lists of values sent as one JSON text."""

import re
from collections.abc import Sequence
from typing import Any

import psycopg
from psycopg.rows import namedtuple_row
from psycopg.types.json import set_json_loads
from pydantic_core import from_json, to_json
from sqlalchemy.exc import DBAPIError, StatementError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession


async def _driver_of(connection: AsyncConnection) -> psycopg.AsyncConnection[Any]:
    sync = connection.sync_connection
    if sync is not None and not sync.closed and not sync.invalidated:
        # Checked out and valid: reading it does no I/O, so it needs no greenlet hop.
        raw = sync.connection
    else:
        raw = await connection.get_raw_connection()
    driver: psycopg.AsyncConnection[Any] = raw.driver_connection  # type: ignore[assignment]
    return driver


async def driver_connection(session: AsyncSession) -> psycopg.AsyncConnection[Any]:
    """The psycopg connection under the session, in the same transaction (for COPY)."""
    return await _driver_of(await session.connection())


async def _as_sqlalchemy_error(
    connection: AsyncConnection,
    driver: psycopg.AsyncConnection[Any],
    exc: psycopg.Error,
    sql: str,
    params: Any,
) -> StatementError:
    """A driver error of a statement run on the driver connection, as SQLAlchemy would have
    raised it (so the app translates it as any other); a connection found broken is
    invalidated, not returned to the pool."""
    broken = driver.broken or driver.closed
    if broken:
        await connection.invalidate(exc)
    return DBAPIError.instance(sql, params, exc, psycopg.Error, connection_invalidated=broken)


# A list of values (ids, scopes) is sent as one JSON text and unpacked in SQL: psycopg escapes
# a list parameter item by item, 3.3 ms for 2,500 ids, where JSON is encoded at once (83 µs).
def json_text(values: Sequence[Any]) -> str:
    """The parameter for `json_elements` or `json_array`: the values as one JSON text."""
    return to_json(values).decode()


def json_elements(name: str) -> str:
    """SQL for the rows of the JSON array :<name> (a `json_text`), as text."""
    return f"jsonb_array_elements_text(CAST(:{name} AS jsonb))"


def json_array(name: str, kind: str) -> str:
    """SQL for an array of the values of the JSON array :<name> (a `json_text`), each cast to
    `kind`."""
    return f"ARRAY(SELECT CAST({json_elements(name)} AS {kind}))"


class HotStatement:
    """A statement of the hottest paths (every request's credential look-up, the membership
    check), run on the driver connection: SQLAlchemy's execution path costs several times the
    query itself there (bench/request_path.py). Write it with `:name` parameters."""

    def __init__(self, sql: str) -> None:
        self.sql = sql
        # psycopg's named placeholders; a literal % is doubled, and `::` casts are left alone.
        self.pyformat = re.sub(r"(?<![:\w]):(\w+)", r"%(\1)s", sql.replace("%", "%%"))

    async def first(self, connection: AsyncConnection, params: dict[str, Any]) -> Any:
        """The first row (attributes by column name), or None; errors are SQLAlchemy's, as
        everywhere else, and a connection found broken is invalidated."""
        driver = await _driver_of(connection)
        try:
            cursor = driver.cursor(row_factory=namedtuple_row)
            await cursor.execute(self.pyformat, params)
            return await cursor.fetchone()
        except psycopg.Error as exc:
            raise await _as_sqlalchemy_error(connection, driver, exc, self.sql, params) from exc


async def run_together(
    session: AsyncSession, *statements: tuple[HotStatement, dict[str, Any]]
) -> list[list[Any]]:
    """The rows of each statement (attributes by column name, JSON values parsed by
    pydantic-core), run on the session's connection, in its transaction: several are sent
    together in one round trip (a psycopg pipeline; a transaction's BEGIN travels with them),
    one alone as it is. Errors are SQLAlchemy's, as everywhere else, and a connection found
    broken is invalidated."""
    connection = await session.connection()
    driver = await _driver_of(connection)
    cursors = [driver.cursor(row_factory=namedtuple_row) for _ in statements]
    for cursor in cursors:
        set_json_loads(from_json, cursor)
    try:
        if len(statements) == 1:
            (statement, params), (cursor,) = statements[0], cursors
            await cursor.execute(statement.pyformat, params)
        else:
            async with driver.pipeline():
                for cursor, (statement, params) in zip(cursors, statements, strict=True):
                    await cursor.execute(statement.pyformat, params)
        return [await cursor.fetchall() for cursor in cursors]
    except psycopg.Error as exc:
        sql = ";\n".join(statement.sql for statement, _ in statements)
        batch = [params for _, params in statements]
        raise await _as_sqlalchemy_error(connection, driver, exc, sql, batch) from exc
