"""Logs: JSON lines for collectors, readable lines for a person at a terminal."""

import json
import logging

import pytest

from audiences.core.logs import HumanFormatter, JsonFormatter, chosen_format


def record(**extra: object) -> logging.LogRecord:
    entry = logging.LogRecord("audiences.access", logging.INFO, __file__, 1, "GET /x 200", (), None)
    for name, value in {"request_id": "4bf92f3577b34da6a3ce929d0e0e4736", **extra}.items():
        setattr(entry, name, value)
    return entry


def test_auto_is_json_when_stderr_is_not_a_terminal(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("AUDIENCES_LOG_FORMAT", raising=False)
    monkeypatch.setattr("sys.stderr.isatty", lambda: False)
    assert chosen_format() == "json"
    monkeypatch.setattr("sys.stderr.isatty", lambda: True)
    assert chosen_format() == "human"
    assert chosen_format("json") == "json"
    monkeypatch.setenv("AUDIENCES_LOG_FORMAT", "human")
    monkeypatch.setattr("sys.stderr.isatty", lambda: False)
    assert chosen_format() == "human"


def test_a_json_line_carries_the_request_and_its_timing():
    line = json.loads(JsonFormatter().format(record(status=200, duration_ms=12.5)))
    assert line["message"] == "GET /x 200"
    assert (line["status"], line["duration_ms"]) == (200, 12.5)
    assert line["request_id"] == "4bf92f3577b34da6a3ce929d0e0e4736"


def test_a_human_line_reads_as_a_sentence_with_the_short_request_id():
    line = HumanFormatter(color=False).format(record(status=200, duration_ms=12.5))
    assert " INFO    GET /x 200 12 ms  req 4bf92f35  audiences.access" in line
    assert not line.startswith("{")
    colored = HumanFormatter(color=True).format(
        logging.LogRecord("audiences", logging.WARNING, __file__, 1, "careful", (), None)
    )
    assert "\x1b[33mWARNING" in colored
