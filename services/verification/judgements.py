"""What only a person can judge: the operator's findings, kept as facts the acceptance rules then decide on."""
from __future__ import annotations

from datetime import datetime

from pydantic import ValidationError

from paht.roles import CENTRE_ROLES
from paht.schemas import Decision
from paht.web import validation_fields

from .schemas import Judgement

# a judgement that changes a report field as well as the facts
PATCHED_FIELD = {"category": "category", "urgent": "urgent", "identity": "identity_status"}


def judgement_decision(store, report: dict, actor: dict, body: dict, now: datetime, reporter_key=None) -> dict:
    if actor.get("role") not in CENTRE_ROLES:
        return {"error": {"code": "FORBIDDEN"}}
    try:
        judgement = Judgement.model_validate(body.get("value") or {})
    except ValidationError as exc:
        return {"error": {"code": "VALIDATION_FAILED", "fields": validation_fields(exc)}}
    store.judge(report["id"], judgement.name, judgement.value)
    if judgement.name == "identity":
        store.mark_identity(reporter_key, judgement.value)
    patch = {PATCHED_FIELD[judgement.name]: judgement.value} if judgement.name in PATCHED_FIELD else {}
    # a judgement made while the report waits re-runs verification: intake sends it (back) to `submitted`
    to_state = "submitted" if report["state"] in ("needs_supplement", "submitted") else None
    decision = Decision(report_id=report["id"], occurred_at=now, pack=report["pack"], kind="judged",
                        source="verification", to_state=to_state, actor=actor,
                        detail={"name": judgement.name, "value": judgement.value, "note": body.get("note")},
                        patch=patch)
    return {"decision": decision.model_dump(mode="json")}
