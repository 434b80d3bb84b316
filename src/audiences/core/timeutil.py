from datetime import UTC, datetime


def epoch_ms(moment: datetime | None) -> int | None:
    """Epoch milliseconds, as the vendor's JSON carries dates; None stays None."""
    if moment is None:
        return None
    return int(moment.timestamp() * 1000)


def from_epoch_ms(value: int) -> datetime:
    return datetime.fromtimestamp(value / 1000, tz=UTC)
