"""Publishing's domain: the result letter from the pack's template, and what may be made public."""
from __future__ import annotations

from datetime import datetime

from paht.schemas import Decision

from .schemas import Publication


def letter_context(report: dict, pack, now: datetime) -> dict:
    result = report.get("result") or {}
    lead = next((a for a in report.get("assigned_agencies") or [] if a.get("role") == "lead"), {})
    categories = getattr(pack, "categories", {}) or {}
    category = report.get("category") or "other"
    return {
        "report": {
            "id": report["id"], "description": report.get("description"),
            "category": category, "category_name": (categories.get(category) or {}).get("name", category),
            "ward_name": (report.get("ward") or {}).get("name"),
            "address": (report.get("location") or {}).get("address"),
            "submitted_at": report.get("submitted_at"),
        },
        "agency_name": lead.get("name"), "agency_id": lead.get("id"),
        "result_text": result.get("text"), "approved_by": result.get("approved_by"),
        "approved_at": result.get("approved_at"), "published_at": now.isoformat(),
        "after_photos": [f"/api/v1/reports/{report['id']}/result-photos/{sha}"
                         for sha in result.get("after_photos") or []],
        "province": pack.meta.get("province"), "regulation": pack.meta.get("regulation", {}),
    }


def publication_decision(report: dict, pack, now: datetime, event_id: str, actor: dict,
                         letter: str | None = None) -> Decision:
    """Published for everyone, or delivered privately when the reporter asked for secrecy."""
    text = letter or pack.render_letter(letter_context(report, pack, now))
    private = bool(report.get("keep_private"))
    article = ((pack.meta.get("publication") or {}).get("private_on_request") or {}).get("article")
    publication = Publication(letter=text, published_at=now.isoformat(), private=private,
                              article=article if private else None).model_dump()
    return Decision(event_id=event_id, report_id=report["id"], occurred_at=now, pack=report["pack"],
                    kind="delivered_privately" if private else "published", source="publishing",
                    to_state="delivered_privately" if private else "published", from_states=["approved"],
                    actor=actor, detail={"private": private}, patch={"publication": publication})
