"""Which code reads each key of the pack format: by kind of file (the schema's name), schema path → the modules
that read it (rules/schema/*.json; paths as paht/rules/schemakeys.py names them).

A key is either listed here or marked `x-documentation-only` (with the reason) in its schema. `paht rules check`
names every key of a pack that is neither (audit.unread_keys); tests/unit/test_rules_keys.py keeps this list true:
every schema key is here or documentation only, and each module listed mentions every key of its path.
"""
from __future__ import annotations

PACK = "paht/rules/pack.py"
LOADER = "paht/rules/loader.py"
COMPILER = "paht/rules/compiler.py"
CASES = "paht/rules/cases.py"
WORKTIME = "paht/worktime.py"
LETTERS = "services/publishing/letters.py"
PUBLISHING = "services/publishing/service.py"
REFERRALS = "services/publishing/referrals.py"
ACTIONS = "services/handling/actions.py"
RATINGS = "services/rating/ratings.py"
RATING = "services/rating/service.py"
PERIODIC = "services/rating/periodic.py"
INTAKE = "services/intake/service.py"
INTAKE_VIEWS = "services/intake/views.py"
RECORD_RPC = "services/intake/record_rpc.py"
SLA_DEADLINES = "services/sla/deadlines.py"
CITATIONS = "paht/rules/citations.py"

READ_BY: dict[str, dict[str, tuple[str, ...]]] = {
    "pack": {
        "id": (LOADER,),
        "province": (LETTERS,),
        "boundary": ("paht/geo.py", LOADER),
        "boundary/file": ("paht/geo.py", LOADER),
        "boundary/licence": (LOADER,),
        "boundary/source": (LOADER,),
        "regulation": ("services/gateway/open311.py",),
        "regulation/number": ("services/gateway/open311.py",),
        "timezone": (WORKTIME,),
        "office_hours": (WORKTIME,),
        "intake": (WORKTIME,),
        "intake/normal_windows": (WORKTIME,),
        "intake/working_days_only": (WORKTIME,),
        "intake/receive_counts_from": (SLA_DEADLINES,),
        "intake/article": ("services/routing/route.py",),
        "parameters": (LOADER,),
        "parameters/*": (LOADER, COMPILER),
        "parameters/*/amount": (COMPILER,),
        "parameters/*/unit": (COMPILER,),
        "parameters/*/value": (COMPILER,),
        "rating_scale": (PACK,),
        "rating_scale/article": (RATING,),
        "rating_scale/unsatisfied": (RATINGS,),
        "rating_scale/unsatisfied/action": (RATINGS,),
        "rating_scale/unsatisfied/article": (RATINGS,),
        "rating_scale/levels": (PACK,),
        "rating_scale/levels/[]/id": (PACK, RATINGS),
        "rating_scale/levels/[]/label": (PACK, RATINGS),
        "rating_scale/levels/[]/counts_as": (PACK, RATINGS),
        "publication": (PUBLISHING,),
        "publication/operator_review": (PUBLISHING,),
        "publication/rework": (ACTIONS,),
        "publication/rework/format": (ACTIONS,),
        "publication/rework/format/article": (ACTIONS,),
        "publication/rework/content": (ACTIONS,),
        "publication/rework/content/article": (ACTIONS,),
        "publication/private_on_request": (LETTERS,),
        "publication/private_on_request/article": (LETTERS,),
        "publication/update": ("paht/agreement.py",),
        "publication/update/article": (ACTIONS,),
        "publication/state_secrets": (LETTERS,),
        "publication/state_secrets/article": (LETTERS,),
        "publication/non_public": (LETTERS,),
        "publication/non_public/article": (LETTERS,),
        "publication/hide_personal_data_on_request": (LETTERS,),
        "publication/reporter_contact": (INTAKE_VIEWS,),
        "publication/reporter_contact/agencies": (INTAKE_VIEWS,),
        "publication/retention_days": (INTAKE,),
        "publication/templates": (PACK,),
        "publication/templates/result_letter": (PACK,),
        "publication/after_photos_required": (ACTIONS,),
        "publication/after_photos_required/article": (ACTIONS,),
        "publication/after_photos_required/categories": (ACTIONS,),
        "cancellation": (RECORD_RPC,),
        "cancellation/allowed": (RECORD_RPC,),
        "cancellation/article": (RECORD_RPC,),
        "designation": ("paht/agreement.py",),
        "designation/role": ("paht/agreement.py",),
        **{f"extension{key}": (ACTIONS,) for key in ("", "/article", "/due_set_by", "/once")},
        "extension/notice_to_reporter": ("services/publishing/notifications.py",),
        "text_edit": (ACTIONS,),
        "text_edit/article": (ACTIONS,),
        "sanction_procedure": (ACTIONS,),
        **{f"sanction_procedure/{kind}{key}": (ACTIONS,) for kind in ("normal", "immediate")
           for key in ("", "/article", "/status_updates")},
        **{f"province_referral{key}": (REFERRALS,) for key in ("", "/by", "/to", "/template", "/reasons")},
        **{f"province_referral/reasons/{reason}{key}": (REFERRALS,)
           for reason in ("co_agencies_disagree", "not_thorough", "no_agency", "not_handled")
           for key in ("", "/article", "/to")},
        "day_swaps": (WORKTIME,),
        "day_swaps/extra_days_off": (WORKTIME,),
        "day_swaps/extra_working_days": (WORKTIME,),
        "reports": (PERIODIC,),
        "reports/cutoff_day": (PERIODIC,),
        "reports/schedule": (PERIODIC,),
        "reports/schedule/[]/kind": (PERIODIC,),
        "reports/schedule/[]/period": (PERIODIC,),
        "reports/schedule/[]/due": (PERIODIC,),
        "reports/schedule/[]/due/days_after_end": (PERIODIC,),
        "reports/schedule/[]/due/day_of_month": (PERIODIC,),
        "reports/schedule/[]/due/month_day": (PERIODIC,),
        "reports/schedule/[]/due/end_of_working_day": (PERIODIC,),
        "reports/schedule/[]/to": (PERIODIC, RATING),
        "reports/schedule/[]/article": (PERIODIC, RATING),
    },
    "agencies": {
        "agencies": (LOADER,),
        "agencies/[]/id": (LOADER,),
        "agencies/[]/name": ("services/rating/scorecards.py",),
        "agencies/[]/kind": (LOADER, "paht/rules/steps.py"),
        "agencies/[]/ward_code": (LOADER,),
        "agencies/[]/email": ("services/publishing/notifications.py",),
        "agencies/[]/office_hours": (SLA_DEADLINES, WORKTIME),
    },
    "stage": {
        "stage": (LOADER,),
        "rules": (LOADER,),
        **{f"rules/[]/{key}": (LOADER,) for key in (
            "id", "article", "title", "when", "then", "message", "message_en", "rejection_message",
            "rejection_message_en")},
        **{f"rules/[]/then/{key}": (LOADER, PACK) for key in (
            "action", "reason", "check", "lead", "co", "immediate", "amount", "unit", "deadline", "warn_at",
            "on_miss", "duration")},
        "rules/[]/then/on_miss/action": (LOADER,),
        "rules/[]/then/on_miss/reason": (LOADER,),
        "rules/[]/then/duration/amount": (LOADER,),
        "rules/[]/then/duration/unit": (LOADER,),
    },
    "cases": {
        **{f"[]/{key}": (CASES,) for key in ("name", "article", "stage", "facts", "expect", "start")},
        **{f"[]/expect/{key}": (CASES,) for key in (
            "decision", "reasons", "warnings", "checks", "rules", "not_rules", "lead", "co", "immediate", "rule",
            "amount", "unit", "on_miss", "due", "charged", "actions")},
        # compared whole with the on_miss the loader makes of the rule's
        "[]/expect/on_miss/action": (CASES, LOADER),
        "[]/expect/on_miss/reason": (CASES, LOADER),
    },
    "categories": {
        "categories": ("paht/categories.py",),
        "categories/[]/id": ("paht/categories.py",),
        "categories/[]/name": ("paht/categories.py", "services/publishing/letters.py"),
        "categories/[]/keywords": ("paht/categories.py",),
        "categories/[]/name_en": ("paht/categories.py", "services/gateway/open311_format.py"),
        "categories/[]/immediate": ("paht/categories.py", "services/gateway/open311_format.py"),
    },
    "wordlist": {
        "phrases": ("paht/wordlists.py",),
        "phrases/[]/phrase": ("paht/wordlists.py",),
        "phrases/[]/kind": ("paht/wordlists.py",),
    },
    "articles": {
        "seed": (CITATIONS,),
        "articles": (CITATIONS,),
        "articles/*": (CITATIONS,),
        "articles/*/*": (CITATIONS,),
        "appendices": (CITATIONS,),
    },
}
