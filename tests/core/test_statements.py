"""Hot statements run on the driver connection, yet behave as SQLAlchemy's: named parameters,
rows by column name, and errors translated (a broken connection invalidated)."""

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, OperationalError, ProgrammingError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from audiences.core.statements import HotStatement


async def test_named_parameters_casts_and_percent_signs(connection: AsyncConnection):
    statement = HotStatement(
        "SELECT CAST(:n AS int) + 1 AS next, :word::text || '%' AS word, 5 % 3 AS rest"
    )
    row = await statement.first(connection, {"n": 41, "word": "ok"})
    assert (row.next, row.word, row.rest) == (42, "ok%", 2)


async def test_no_row_is_none(connection: AsyncConnection):
    statement = HotStatement("SELECT 1 AS one WHERE CAST(:flag AS boolean)")
    assert await statement.first(connection, {"flag": False}) is None


async def test_it_runs_in_the_connection_transaction(connection: AsyncConnection):
    await connection.execute(text("CREATE TEMPORARY TABLE hot (id int)"))
    await connection.execute(text("INSERT INTO hot VALUES (7)"))
    row = await HotStatement("SELECT id FROM hot").first(connection, {})
    assert row.id == 7


async def test_sql_errors_are_sqlalchemy_errors(connection: AsyncConnection):
    await connection.execute(text("SAVEPOINT before_error"))
    with pytest.raises(ProgrammingError) as raised:
        await HotStatement("SELECT no_such_column FROM pg_class").first(connection, {})
    assert isinstance(raised.value, DBAPIError)
    assert not raised.value.connection_invalidated
    await connection.execute(text("ROLLBACK TO SAVEPOINT before_error"))


async def test_a_broken_connection_is_invalidated(engine: AsyncEngine):
    async with engine.connect() as victim, engine.connect() as killer:
        pid = await victim.scalar(text("SELECT pg_backend_pid()"))
        await victim.commit()
        await killer.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        with pytest.raises(OperationalError) as raised:
            await HotStatement("SELECT 1 AS one").first(victim, {})
        assert raised.value.connection_invalidated
        assert victim.invalidated
