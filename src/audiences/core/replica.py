"""A streaming replica for the reads that may lag (exports and member listings): used while it
is up and at most `read_replica_max_lag` seconds behind the primary, else the primary serves
them. Everything that must see the caller's own writes never comes here."""

import asyncio
import logging
import math
import time
from collections import deque
from dataclasses import dataclass, field

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from audiences.core.metrics import observe_replica

logger = logging.getLogger("audiences.replica")

_PRIMARY_POSITION = text("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint")
_REPLAYED_POSITION = text(
    "SELECT pg_is_in_recovery(), pg_wal_lsn_diff(pg_last_wal_replay_lsn(), '0/0')::bigint"
)


@dataclass
class Replica:
    """The replica's sessions and libpq URL, and how far behind it was when last looked at."""

    read_sessions: async_sessionmaker[AsyncSession]
    url: str
    engine: AsyncEngine
    max_lag: float
    up: bool = False
    lag: float = math.inf
    # (when, primary WAL position) samples the replica had not replayed yet, oldest first.
    _unreplayed: deque[tuple[float, int]] = field(default_factory=deque)

    @property
    def fresh(self) -> bool:
        return self.up and self.lag <= self.max_lag

    def record(self, now: float, primary: int, replayed: int | None) -> None:
        """Lag is the age of the oldest primary position not replayed yet (0 when caught up):
        unlike `now() - pg_last_xact_replay_timestamp()`, it does not grow while the primary
        is idle."""
        if replayed is None:
            self.up, self.lag = False, math.inf
            self._unreplayed.clear()
            return
        self._unreplayed.append((now, primary))
        while self._unreplayed and self._unreplayed[0][1] <= replayed:
            self._unreplayed.popleft()
        self.up = True
        self.lag = now - self._unreplayed[0][0] if self._unreplayed else 0.0

    def lost(self) -> None:
        self.record(time.monotonic(), 0, None)


async def watch(replica: Replica, primary: AsyncEngine, interval: float) -> None:
    """Looks at the replica's replay position every `interval` seconds, for as long as the
    worker runs; an unreachable replica (or one that is not a standby) is not used."""
    warned = False
    while True:
        try:
            async with asyncio.timeout(max(interval, 1.0) * 2):
                async with primary.connect() as connection:
                    position = (await connection.execute(_PRIMARY_POSITION)).scalar_one()
                async with replica.engine.connect() as connection:
                    standby, replayed = (await connection.execute(_REPLAYED_POSITION)).one()
            if not standby:
                replayed = None
                if not warned:
                    logger.warning("the read replica is not a standby; reads stay on the primary")
            replica.record(time.monotonic(), position, replayed)
            warned = not standby
        except Exception as exc:
            if replica.up:
                logger.warning("the read replica is unreachable (%s); reads go to the primary", exc)
            replica.lost()
        observe_replica(replica.up, replica.lag, replica.fresh)
        await asyncio.sleep(interval)
