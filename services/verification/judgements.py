"""What only a person can judge: the operator's findings, kept as facts the acceptance rules then decide on."""
from __future__ import annotations

from datetime import datetime

from paht.schemas import Decision

# judgement name → (value type, the report states in which it still changes the acceptance decision)
JUDGEMENTS = {
    "unclear_media": bool,
    "unclear_or_test": bool,
    "monitoring_only": bool,
    "identity": str,      # confirmed | false
    "category": str,
    "urgent": bool,
}


def judgement_decision(store, report: dict, actor: dict, body: dict, now: datetime, reporter_key=None) -> dict:
    if actor.get("role") not in ("operator", "admin"):
        return {"error": {"code": "FORBIDDEN"}}
    value = body.get("value") or {}
    name, setting = value.get("name"), value.get("value")
    if name not in JUDGEMENTS or not isinstance(setting, JUDGEMENTS[name]):
        return {"error": {"code": "VALIDATION_FAILED", "fields": {"value": "name one of "
                                                                  + ", ".join(JUDGEMENTS) + " with its value"}}}
    store.judge(report["id"], name, setting)
    patch = {}
    if name == "category":
        patch["category"] = setting
    elif name == "urgent":
        patch["urgent"] = setting
    elif name == "identity":
        if setting not in ("confirmed", "false"):
            return {"error": {"code": "VALIDATION_FAILED", "fields": {"value": "identity is confirmed or false"}}}
        patch["identity_status"] = setting
        store.mark_identity(reporter_key, setting)
    # a judgement made while the report waits re-runs verification: intake sends it (back) to `submitted`
    to_state = "submitted" if report["state"] in ("needs_supplement", "submitted") else None
    decision = Decision(report_id=report["id"], occurred_at=now, pack=report["pack"], kind="judged",
                        source="verification", to_state=to_state, actor=actor,
                        detail={"name": name, "value": setting, "note": body.get("note")}, patch=patch)
    return {"decision": decision.model_dump(mode="json")}
