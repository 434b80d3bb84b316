"""Where a read request's database time goes: one AsyncSession with two statements through
SQLAlchemy, against the same two statements on a bare psycopg connection, measured in the same
run (sequential, round trips included). Prints microseconds per request and their ratio.

    .venv/bin/python bench/request_path.py [--url postgresql://postgres@127.0.0.1:5432/postgres]
"""

import argparse
import asyncio
import time

import psycopg
from sqlalchemy import text
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

CREDENTIAL_LIKE = "SELECT CAST(:a AS int) AS account_id, 'key' AS consumer_key"


async def measure(url: str, requests: int) -> None:
    engine = create_async_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    sessions = async_sessionmaker(
        engine.execution_options(isolation_level="AUTOCOMMIT"), expire_on_commit=False
    )
    started = time.perf_counter()
    for i in range(requests):
        async with sessions() as session:
            (await session.execute(text(CREDENTIAL_LIKE), {"a": i})).one()
            (await session.execute(text("SELECT 1"))).scalar()
            await session.commit()
    through_sqlalchemy = (time.perf_counter() - started) / requests * 1e6
    await engine.dispose()

    connection = await psycopg.AsyncConnection.connect(url, autocommit=True)
    started = time.perf_counter()
    for i in range(requests):
        cursor = await connection.execute(CREDENTIAL_LIKE.replace(":a", "%s"), (i,))
        await cursor.fetchone()
        cursor = await connection.execute("SELECT 1")
        await cursor.fetchone()
    raw = (time.perf_counter() - started) / requests * 1e6
    await connection.close()

    print(f"AsyncSession, two statements   {through_sqlalchemy:7.0f} µs a request")
    print(f"psycopg, the same statements   {raw:7.0f} µs a request")
    print(f"ratio                          {through_sqlalchemy / raw:7.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--requests", type=int, default=3000)
    args = parser.parse_args()
    asyncio.run(measure(args.url, args.requests))


if __name__ == "__main__":
    main()
