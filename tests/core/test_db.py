"""Hot statements run on the driver connection, yet behave as SQLAlchemy's: named parameters,
rows by column name, and errors translated (a broken connection invalidated). The pools hand
out the connection used last."""

import asyncio
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, OperationalError, ProgrammingError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from audiences.core.db import Database, HotStatement, connect_args, create_engine
from audiences.core.settings import Settings


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


class TestTransactionPooling:
    def test_behind_pgbouncer_nothing_outlives_a_transaction(self, settings: Settings):
        pooled = settings.model_copy(update={"db_transaction_pooling": True})
        args = connect_args(pooled, {"application_name": "x", "options": "-c a=b"})
        assert args == {"application_name": "x", "prepare_threshold": None}

    def test_directly_on_postgresql_the_startup_options_stay(self, settings: Settings):
        args = {"application_name": "x", "options": "-c a=b"}
        assert connect_args(settings, args) == args

    async def test_the_engines_prepare_nothing_and_set_nothing(self, settings: Settings):
        pooled = settings.model_copy(
            update={"db_transaction_pooling": True, "db_statement_timeout_ms": 1000}
        )
        engine = create_engine(pooled)
        try:
            async with engine.connect() as connection:
                driver = await connection.get_raw_connection()
                psycopg_connection: Any = driver.driver_connection
                assert psycopg_connection.prepare_threshold is None
                timeout = await connection.scalar(text("SHOW statement_timeout"))
                assert timeout == "0"
        finally:
            await engine.dispose()


async def test_after_a_burst_requests_go_on_with_the_connection_used_last(settings: Settings):
    database = Database.open(settings)
    engine = database.engines[0]
    try:

        async def backend(hold: asyncio.Event | None = None) -> int:
            async with database.write_sessions() as session:
                pid = await session.scalar(text("SELECT pg_backend_pid()"))
                if hold is not None:
                    await hold.wait()
                await session.commit()
            return int(pid)

        # Eight connections opened at once, as a burst of requests opens them.
        release = asyncio.Event()
        burst = [asyncio.create_task(backend(release)) for _ in range(8)]
        while engine.sync_engine.pool.checkedout() < 8:
            await asyncio.sleep(0.01)
        release.set()
        assert len(set(await asyncio.gather(*burst))) == 8
        # Then one request at a time: each on the same backend, not around the pool.
        assert len({await backend() for _ in range(8)}) == 1
    finally:
        await database.close()
