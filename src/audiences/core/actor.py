"""Who is making the current request, for the record (history, logs)."""

from contextvars import ContextVar

_consumer_key: ContextVar[str | None] = ContextVar("consumer_key", default=None)


def set_consumer_key(consumer_key: str) -> None:
    _consumer_key.set(consumer_key)


def current_consumer_key() -> str | None:
    return _consumer_key.get()
