"""The immediate case (a routing rule's `immediate: true`: fire, security, disaster): once it is routed, the
on-duty system behind PAHT_IMMEDIATE_WEBHOOK is told at once, standing in for the automatic call or SMS to the lead
agency (docs/webhooks.md). It is one more notification of the outbox, so it is sent, retried and dead-lettered as
the others are."""
from __future__ import annotations

from datetime import datetime

from paht.schemas import Transitioned

from .notifications import outbox_entry
from .schemas import ImmediateNotification

CHANNEL = "immediate_webhook"
TEMPLATE = "immediate"   # the notice's name in the timeline; the body is fixed, no pack template renders it


def immediate_entries(announced: Transitioned, channels: frozenset[str], now: datetime) -> list[dict]:
    """The immediate case's webhook, queued once per routing (a report routed again is told again)."""
    route = announced.report.get("route") or {}
    if CHANNEL not in channels or announced.cause != "routed" or announced.to_state != "dispatched" \
            or not route.get("immediate"):
        return []
    report, lead = announced.report, route.get("lead")
    body = ImmediateNotification(
        report_id=report["id"], category=report.get("category"), lead=lead, co=route.get("co", []),
        ward=report.get("ward"), location=report.get("location"), description=report.get("description"),
        rule=route.get("rule"), article=route.get("article")).model_dump()
    return [outbox_entry(announced, TEMPLATE, f"agency:{lead}", CHANNEL, lead, lead, body, now)]
