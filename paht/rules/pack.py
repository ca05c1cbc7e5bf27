"""A loaded pack: its compiled rules and what a decision of each stage looks like."""
from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, FileSystemLoader

from paht.metrics import RULE_EVALUATION_SECONDS, timed

from .engine import StageEngine, complete_facts
from .steps import DeclaredStep, declared_steps

DECISION_ORDER = ("reject", "request_supplement", "forward_for_monitoring")
ACCEPTANCE_OUTCOME = {"reject": "rejected", "request_supplement": "needs_supplement",
                      "forward_for_monitoring": "forwarded_for_monitoring"}
# a pack's emergency procedure (an SOS, a report its routing dispatches immediately): what would hold the report for
# evidence is asked beside the dispatch instead (status "beside"), never instead of it (issue 23 item 3, F3)
AT_ONCE = "dispatch_at_once"


class Pack:
    def __init__(self, path: Path, meta: dict, parameters: dict, agencies: dict, stages: dict[str, list[dict]]):
        self.path, self.meta, self.parameters, self.agencies, self.stages = path, meta, parameters, agencies, stages
        self.id = meta["id"]
        self._rules = {rule["id"]: rule for rules in stages.values() for rule in rules}
        self._engine = StageEngine(self.id, {stage: [(r["id"], r["condition"]) for r in rules]
                                             for stage, rules in stages.items()})
        self._used = {stage: set().union(*(r["facts_used"] for r in rules)) if rules else set()
                      for stage, rules in stages.items()}
        self._templates = Environment(loader=FileSystemLoader(str(path)), autoescape=False, keep_trailing_newline=True)
        self._steps = declared_steps(stages.get("sla") or [])

    @property
    def categories(self) -> dict:
        from paht.categories import load_categories
        return load_categories()

    def rule(self, rule_id: str) -> dict:
        return self._rules[rule_id]

    def step(self, name: str) -> DeclaredStep:
        """What the pack declares of a step as a whole (paht/rules/steps.py): whether it is timed, and the deadline
        every report at it gets. The sla service alone evaluates a report's deadline."""
        return self._steps.get(name) or DeclaredStep(name)

    def fired(self, stage: str, facts: dict) -> list[dict]:
        facts = complete_facts(stage, facts, self._used.get(stage, set()))
        return [self._rules[rule_id] for rule_id in self._engine.fired(stage, facts)]

    def evaluate(self, stage: str, facts: dict) -> dict:
        with timed(RULE_EVALUATION_SECONDS.labels(self.id, stage)):
            fired = self.fired(stage, facts)
            return getattr(self, f"_{stage}")(fired, facts)

    # stage decisions
    @staticmethod
    def _reason(rule: dict) -> dict:
        then = rule["then"]
        return {"code": then.get("reason"), "rule": rule["id"], "article": rule["article"],
                "message": rule.get("message") or "", "message_en": rule.get("message_en"), "action": then["action"]}

    @classmethod
    def _rejection(cls, rule: dict) -> dict:
        """The reason of a rule that rejects; a warn whose check the operator rejected reads its rejection_message."""
        if rule["then"]["action"] != "warn":
            return cls._reason(rule)
        return dict(cls._reason(rule), action="reject", message=rule.get("rejection_message") or "",
                    message_en=rule.get("rejection_message_en"), check=rule["then"].get("check"))

    def _acceptance(self, fired: list[dict], facts: dict) -> dict:
        """The decision of the rules, with the operator's checks: a `warn` rule with a `check` the operator
        rejected (facts["operator_checks"][check] == "rejected") rejects the report with the rule's reason; one
        not judged yet is a pending check (verification holds an otherwise accepted report until it is judged)."""
        judged = facts.get("operator_checks") or {}
        by_action: dict[str, list[dict]] = {}
        for rule in fired:
            action = rule["then"]["action"]
            if action == "warn" and judged.get(rule["then"].get("check")) == "rejected":
                action = "reject"
            by_action.setdefault(action, []).append(rule)
        at_once = by_action.pop(AT_ONCE, [])
        beside = by_action.pop("request_supplement", []) if at_once else []
        decision, reasons = "accepted", []
        for action in DECISION_ORDER:
            if by_action.get(action):
                decision = ACCEPTANCE_OUTCOME[action]
                reasons = [self._rejection(r) for r in by_action[action] if r["then"].get("reason")]
                if action == "forward_for_monitoring":
                    reasons = []
                break
        warnings = [dict(self._reason(r), check=r["then"].get("check"),
                         status=judged.get(r["then"].get("check"), "beside" if at_once else "pending")
                         if r["then"].get("check") else None)
                    for r in fired if r["then"]["action"] == "warn"]
        if decision == "accepted":
            warnings += [dict(self._reason(r), check=None, status="beside") for r in beside]
        pending = [{"name": w["check"], "rule": w["rule"], "article": w["article"], "message": w["message"]}
                   for w in warnings if w["status"] == "pending"]
        # `hide`: accepted and handled, but not public (issue 24 item 3), each with its rule, article and message
        hidden = [{"rule": r["id"], "article": r["article"], "message": r.get("message") or "",
                   "message_en": r.get("message_en")} for r in by_action.get("hide", [])]
        return {"decision": decision, "reasons": reasons, "warnings": warnings, "pending_checks": pending,
                "hidden": hidden if decision == "accepted" else [],
                "fired": [r["id"] for r in fired],
                "at_once": {"rule": at_once[0]["id"], "article": at_once[0]["article"]} if at_once else None,
                "monitoring_rule": next(({"rule": r["id"], "article": r["article"]}
                                         for r in by_action.get("forward_for_monitoring", [])), None)}

    def _resolve(self, target: str, facts: dict) -> str | None:
        if target == "ward_committee":
            agency = f"ubnd-{facts.get('ward_code')}" if facts.get("ward_code") else None
        elif target == "suggested":
            agency = facts.get("suggested_agency") or None
        elif target == "designated":
            agency = facts.get("designated_agency") or None
        else:
            agency = target
        if agency is None or (self.agencies and agency not in self.agencies):
            return None
        return agency

    def _routing(self, fired: list[dict], facts: dict) -> dict:
        for rule in fired:
            then = rule["then"]
            if then["action"] == "unresolved":
                return {"decision": "unresolved", "rule": rule["id"], "article": rule["article"]}
            lead = self._resolve(then["lead"], facts)
            if lead is None:
                continue   # e.g. the ward's committee when the ward is unknown: the next rule decides
            co = [agency for agency in (self._resolve(c, facts) for c in then.get("co") or []) if agency]
            return {"decision": "route", "lead": lead, "co": [c for c in dict.fromkeys(co) if c != lead],
                    "immediate": bool(then.get("immediate")), "rule": rule["id"], "article": rule["article"]}
        return {"decision": "unresolved", "rule": None, "article": None}

    def _sla(self, fired: list[dict], facts: dict) -> dict:
        if not fired:
            return {"decision": None, "step": facts.get("step")}
        rule = fired[0]
        then = rule["then"]
        if then["action"] == "no_deadline":
            return {"decision": "no_deadline", "step": facts.get("step"), "rule": rule["id"],
                    "article": rule["article"]}
        return {"decision": "set_deadline", "step": facts.get("step"), "amount": then["amount"],
                "unit": then["unit"], "warn_at": then.get("warn_at", 0.75), "on_miss": then["on_miss"],
                "rule": rule["id"], "article": rule["article"], "message": rule.get("message")}

    def _penalties(self, fired: list[dict], facts: dict) -> dict:
        return {"actions": [{"action": r["then"]["action"], "duration": r["then"].get("duration"), "rule": r["id"],
                             "article": r["article"], "title": r.get("title"), "message": r.get("message")}
                            for r in fired]}

    # the rest of the pack
    def render_letter(self, context: dict) -> str:
        template = ((self.meta.get("publication") or {}).get("templates") or {}).get(
            "result_letter", "templates/result_letter.md.j2")
        return self._templates.get_template(template).render(**context)

    def render_template(self, name: str, context: dict) -> str:
        """Another letter of the pack (`templates/…`, e.g. province_referral.template), Markdown."""
        return self._templates.get_template(name).render(**context)

    def rating_levels(self) -> list[dict]:
        return list(self.meta["rating_scale"]["levels"])
