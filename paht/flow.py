"""Who hears which of intake's announcements: the one table of the flow (docs/architecture.md, "Event table").

Intake announces every change it applies on its topic exchange `intake.events`, with the routing key
`transitioned.<to_state>.<cause>` when the report's state changed and `noted.<state>.<cause>` when it kept its
state. Each handler binds only the keys it acts on; the broker drops what nobody listens to. Decisions that only
keep books (a deadline opened, closed or moved; a notification sent) are applied and never announced.
"""
from __future__ import annotations

from .states import TERMINAL


# decisions that change nothing another service acts on: intake applies them (the report's `deadlines`, its
# timeline) and announces nothing, unless one of them also changes the state (a missed deadline that rejects)
BOOKKEEPING = frozenset({"deadline_opened", "deadline_closed", "deadline_extended", "notified"})

# the sla service's step changes that keep the state (services/sla: SIDE_CAUSES, STEP_OF_CAUSE, extensions)
_SLA_NOTED = (
    "interaction", "interaction_replied", "clarification_requested", "clarified", "info_requested", "forwarded",
    "co_result_approved", "co_returned", "called_back", "rework_requested", "identity_check_started", "agreed",
    "operator_check_started", "extended", "sanction_procedure_started",
)

SUBSCRIPTIONS: dict[str, tuple[str, ...]] = {
    # verify what is submitted (again after a supplement or an operator's judgement); close the reporter's open
    # matter when the report ends, reopen it when a result goes back to processing
    "verification.on_report": (
        "transitioned.submitted.*", "noted.submitted.judged", "transitioned.in_progress.*",
        *(f"transitioned.{state}.*" for state in sorted(TERMINAL)),
    ),
    # route what is accepted; keep a held report current (judged urgent meanwhile: route it at once); end an
    # intake-window hold when the held report is cancelled or no agency is found. Not `dispatched`: only routing's own
    # `routed` decision dispatches an accepted report, and routing ends the hold when it sends it (`release`).
    "routing.on_report": (
        "transitioned.accepted.*", "noted.accepted.*",
        "transitioned.routing_unresolved.*", "transitioned.cancelled.*",
    ),
    # a deadline for every step: every state change, and the side steps that keep the state
    "sla.on_report": ("transitioned.#", *(f"noted.*.{cause}" for cause in _SLA_NOTED)),
    # publish an approved result (unless the centre checks it first); record what was published
    "publishing.on_report": (
        "transitioned.approved.*", "transitioned.published.*", "transitioned.delivered_privately.*",
    ),
    # a "Không hài lòng" rating sets off what the pack says
    "rating.on_report": ("*.*.rated",),
    # tell the reporter and the agencies (services/publishing/notifications.py notifications_for), and the on-duty
    # system of an immediate case once it is routed (services/publishing/immediate.py)
    "publishing.notify": (
        "transitioned.submitted.submitted", "transitioned.submitted.supplemented", "transitioned.needs_supplement.*",
        "transitioned.rejected.*", "transitioned.dispatched.*", "transitioned.published.*",
        "transitioned.delivered_privately.*", "transitioned.in_progress.reprocess_requested",
        "transitioned.in_progress.rework_requested", "transitioned.accepted.returned",
        # the designated agency asked to agree (TTH Điều 16 khoản 4, VL Điều 17 khoản 4); the lead told that its
        # result goes back to it (disagreement, an update of a returned result)
        "transitioned.approved.approved", "transitioned.approved.reopened",
        "transitioned.in_progress.agreement_refused", "transitioned.in_progress.reopened",
        "noted.*.deadline_warning", "noted.*.deadline_missed",
        # the agency's notice and commitment of an extension, to the reporter (ST-22 Điều 10 khoản 2 điểm c, ST-23
        # Điều 14 khoản 3)
        "noted.in_progress.extension_noticed",
        # a status update of a report handled under the sanction procedure (TTH Điều 11 khoản 2, VL Điều 12 khoản 2
        # điểm b), to the reporter
        "noted.*.status_updated",
    ),
}


def routing_key(from_state: str | None, to_state: str, cause: str) -> str:
    return f"{'noted' if from_state == to_state else 'transitioned'}.{to_state}.{cause}"


def announced(from_state: str | None, to_state: str, kind: str) -> bool:
    """Whether intake announces an applied decision at all."""
    return from_state != to_state or kind not in BOOKKEEPING


def subscription(service: str, method: str) -> tuple[str, ...]:
    try:
        return SUBSCRIPTIONS[f"{service}.{method}"]
    except KeyError:
        raise LookupError(f"{service}.{method} handles intake's announcements but is not in paht.flow.SUBSCRIPTIONS") \
            from None
