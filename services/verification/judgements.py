"""What only a person can judge: the operator's findings, kept as facts the acceptance rules then decide on."""
from __future__ import annotations

from datetime import datetime

from pydantic import ValidationError

from paht.roles import CENTRE_ROLES
from paht.rules import get_pack
from paht.schemas import Decision
from paht.web import validation_fields

from .schemas import Judgement

# a judgement that changes a report field as well as the facts
PATCHED_FIELD = {"category": "category", "urgent": "urgent", "identity": "identity_status"}


def rejectable(pack_id: str, check: str) -> bool:
    """Whether the operator may reject this check in this pack: a holding `warn` rule whose rejection the seed
    grounds says so with its `rejection_message`; one without (TN Điều 6 khoản 1: the language, which Điều 7 khoản 3
    Bước 1 does not make a ground to refuse) only holds the report until the operator confirms it."""
    rules = [rule for rule in get_pack(pack_id).stages.get("acceptance", [])
             if rule["then"]["action"] == "warn" and rule["then"].get("check") == check]
    return not rules or any(rule.get("rejection_message") for rule in rules)


def judgement_decision(store, report: dict, actor: dict, body: dict, now: datetime, reporter_key=None) -> dict:
    if actor.get("role") not in CENTRE_ROLES:
        return {"error": {"code": "FORBIDDEN"}}
    try:
        judgement = Judgement.model_validate(body.get("value") or {})
    except ValidationError as exc:
        return {"error": {"code": "VALIDATION_FAILED", "fields": validation_fields(exc)}}
    if judgement.value == "rejected" and not rejectable(report["pack"], judgement.name):
        return {"error": {"code": "VALIDATION_FAILED", "fields": {"value": (
            "Quy chế không quy định từ chối tiếp nhận vì lý do này: cán bộ chỉ xác nhận (confirmed). "
            "The regulation gives no ground to refuse a report for this check: it can only be confirmed.")}}}
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
