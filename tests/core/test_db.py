"""The engines: behind PgBouncer nothing outlives a transaction, and the pools hand out the
connection used last."""

import asyncio
from typing import Any

from sqlalchemy import text

from audiences.core.db import Database, connect_args, create_engine
from audiences.core.settings import Settings


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
