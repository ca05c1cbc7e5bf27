"""Event type names on the bus (nameko events) and helpers to put pydantic models on it."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

TRANSITIONED = "transitioned"    # intake → everyone: a decision was applied to a report
DECISION = "decision"            # any service → intake: apply this Decision
CLOCK_ADVANCED = "clock_advanced"  # intake → sla: the controlled clock moved, sweep now
REPORT_PURGED = "report_purged"  # intake → everyone: a report's retention ended, forget its reporter (ReportPurged)


def jsonable(value: Any) -> Any:
    """A stored document as plain JSON types (datetimes as ISO 8601), for events, RPC and HTTP answers."""
    if isinstance(value, dict):
        return {key: jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(item) for item in value]
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    return value
