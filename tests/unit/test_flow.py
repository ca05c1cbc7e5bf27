"""The event table (paht.flow): every handler of intake's announcements is in it, and it binds what they act on."""

from paht import flow
from paht.bus import TransitionHandler
from services.handling.service import HandlingService
from services.publishing.service import PublishingService
from services.rating.service import RatingService
from services.routing.service import RoutingService
from services.sla.deadlines import STEP_OF_CAUSE
from services.sla.service import SIDE_CAUSES, SlaService
from services.verification.service import VerificationService

SERVICES = (VerificationService, RoutingService, HandlingService, SlaService, PublishingService, RatingService)


def hears(key: str, patterns) -> bool:
    """AMQP topic matching: `*` one word, `#` zero or more."""
    def match(pattern: list, words: list) -> bool:
        if not pattern:
            return not words
        head, rest = pattern[0], pattern[1:]
        if head == "#":
            return any(match(rest, words[i:]) for i in range(len(words) + 1))
        return bool(words) and head in ("*", words[0]) and match(rest, words[1:])
    return any(match(pattern.split("."), key.split(".")) for pattern in patterns)


def transition_handlers():
    for service in SERVICES:
        for name in dir(service):
            extensions = getattr(getattr(service, name), "nameko_entrypoints", set())
            if any(isinstance(ext, TransitionHandler) for ext in extensions):
                yield f"{service.name}.{name}"


def test_the_table_names_exactly_the_handlers_of_intakes_announcements():
    assert sorted(transition_handlers()) == sorted(flow.SUBSCRIPTIONS)


def test_routing_keys_say_whether_the_state_changed():
    assert flow.routing_key(None, "submitted", "submitted") == "transitioned.submitted.submitted"
    assert flow.routing_key("in_progress", "in_progress", "interaction") == "noted.in_progress.interaction"
    assert not flow.announced("dispatched", "dispatched", "deadline_opened")
    assert flow.announced("submitted", "rejected", "deadline_missed")
    assert flow.announced("dispatched", "dispatched", "deadline_missed")     # the notifier tells the agency


def test_each_service_hears_what_it_acts_on_and_not_the_rest():
    table = flow.SUBSCRIPTIONS
    verification, routing, sla = table["verification.on_report"], table["routing.on_report"], table["sla.on_report"]
    assert hears("transitioned.submitted.submitted", verification)
    assert hears("transitioned.submitted.supplemented", verification)
    assert hears("noted.submitted.judged", verification) and hears("transitioned.published.published", verification)
    assert not hears("transitioned.dispatched.routed", verification)
    assert not hears("noted.in_progress.interaction", verification)
    assert hears("transitioned.accepted.verified", routing) and hears("transitioned.cancelled.cancelled", routing)
    assert not hears("transitioned.dispatched.routed", routing)   # its own decision: the hold ended as it was sent
    assert not hears("transitioned.in_progress.acknowledged", routing)
    assert hears("noted.accepted.judged", routing)          # a held report judged urgent meanwhile goes at once
    assert hears("transitioned.in_progress.acknowledged", sla)
    for cause in (*SIDE_CAUSES, *STEP_OF_CAUSE, "extended"):    # every step the sla service opens or ends
        assert hears(f"noted.in_progress.{cause}" if cause != "submitted" else "transitioned.submitted.submitted",
                     sla), cause
    assert not hears("noted.in_progress.rated", sla) and hears("noted.published.rated", table["rating.on_report"])
    assert not hears("noted.published.rated", table["publishing.on_report"])
    assert hears("transitioned.dispatched.routed", table["publishing.notify"])   # the immediate case's webhook


def test_topic_matching_of_the_test_is_amqps():
    assert hears("a.b.c", ["a.#"]) and hears("a", ["a.#"]) and hears("a.b.c", ["#.c"])
    assert not hears("a.b.c", ["a.*"]) and hears("a.b", ["a.*"])
