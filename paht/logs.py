"""Logs as one JSON object a line: time, level, service, logger, message, and the report and event a worker is
handling, so one report can be followed across every service (`grep '"report_id": "PA-…"' var/logs/*.log`).

The services' config.yml LOGGING uses `JsonFormatter`; the Observable mixin's worker hook (paht.metrics.
ObservedWorkers) sets the context from what each worker handles (an event's payload, an RPC's report, an HTTP
route's `report_id`) and clears it when the worker ends.
"""
from __future__ import annotations

import contextvars
import json
import logging
from datetime import UTC, datetime

REPORT_ID = contextvars.ContextVar("paht_report_id", default=None)
EVENT_ID = contextvars.ContextVar("paht_event_id", default=None)


class WithoutPayloads(logging.Filter):
    """nameko's RPC client logs every reply's whole body at DEBUG ("RPC reply event complete …"): a new report's
    tracking token, a reporter's contact data. Those records are dropped where they are made, whatever the log
    level and handlers (every service imports this module through paht.metrics)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("RPC reply event complete")


logging.getLogger("nameko.rpc").addFilter(WithoutPayloads())


class JsonFormatter(logging.Formatter):
    """`{"time", "level", "service", "logger", "message"[, "report_id", "event_id", "exception"]}` per record."""

    def __init__(self, service: str = "", **_):
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        line = {"time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
                "level": record.levelname, "service": self.service, "logger": record.name,
                "message": record.getMessage()}
        for key, var in (("report_id", REPORT_ID), ("event_id", EVENT_ID)):
            value = getattr(record, key, None) or var.get()
            if value:
                line[key] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def ids_of(args, kwargs) -> tuple[str | None, str | None]:
    """(report_id, event_id) of what a worker handles: an event payload or dead letter ({report_id, event_id}),
    a decision, a report snapshot given to an RPC ({id, pack, state}), an HTTP route's `report_id`."""
    report_id = kwargs.get("report_id") if isinstance(kwargs.get("report_id"), str) else None
    event_id = None
    for value in list(args) + list(kwargs.values()):
        if not isinstance(value, dict):
            continue
        if isinstance(value.get("report_id"), str):
            report_id = report_id or value["report_id"]
            if isinstance(value.get("event_id"), str):
                event_id = event_id or value["event_id"]
        elif isinstance(value.get("id"), str) and "pack" in value and "state" in value:
            report_id = report_id or value["id"]
        body = value.get("body")   # a dead letter: the message it holds
        if isinstance(body, dict) and isinstance(body.get("report_id"), str):
            report_id = report_id or body["report_id"]
            event_id = event_id or (body.get("event_id") if isinstance(body.get("event_id"), str) else None)
    return report_id, event_id


def bind(report_id: str | None = None, event_id: str | None = None) -> tuple:
    """Set the context of the current worker; returns the tokens for `unbind`."""
    return REPORT_ID.set(report_id), EVENT_ID.set(event_id)


def unbind(tokens: tuple) -> None:
    for var, token in zip((REPORT_ID, EVENT_ID), tokens):
        try:
            var.reset(token)
        except ValueError:   # set in another context: just clear it
            var.set(None)
