"""The console's browser tests run against the real server started by tests/server."""

from tests.server.conftest import server

__all__ = ["server"]
