"""Every PAHT metric family, in one place (served by each service's `GET /metrics`).

Labels are bounded sets only: service, entrypoint and route names, packs, states, causes, steps and agency ids
(each pack's agency list). Never a report id, an event id, a path with ids in it, or anything a client chooses.
`deploy/monitoring/` holds the dashboards and alerts built on these names; tests/integration/
test_metrics_contract.py fails when one of them names a family that is not here.
"""
from __future__ import annotations

import logging
import time
from datetime import datetime

from nameko.events import EventHandler
from nameko.extensions import DependencyProvider
from nameko.messaging import Consumer
from nameko.rpc import Rpc
from nameko.timer import Timer
from nameko.web.handlers import HttpRequestHandler
from prometheus_client import Counter, Gauge, Histogram, disable_created_metrics

from . import logs

log = logging.getLogger(__name__)

disable_created_metrics()   # no `_created` series beside every counter and histogram: half the series to store

# latency buckets (seconds) for HTTP answers, entrypoints and RPC, and for rule evaluation
SECONDS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
RULE_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0)
# working hours (a working day is 7.5 h with the default office hours): 15 minutes … 8 weeks
WORKING_HOURS = (0.25, 0.5, 1, 2, 4, 8, 16, 24, 40, 80, 160, 320)

# ---- the bus ------------------------------------------------------------------------------------------------
MESSAGES_HANDLED = Counter("paht_messages_total", "Bus messages handled", ["service", "kind", "outcome"])
DECISIONS_SENT = Counter("paht_decisions_sent_total", "Decisions a service sent intake on the bus (paht.bus.send, "
                         "send_all), by the sending service and the decision's kind, counted once the broker took "
                         "them; beside intake's paht_messages_total{service=\"intake\"} it shows what is still on "
                         "the way", ["service", "kind"])
# paht_dead_letters_total{service,queue} is paht.deadletters.PARKED (counted where a message is parked)

# ---- every entrypoint (RPC, events, timers, HTTP): the Observable mixin's worker hook -------------------------
ENTRYPOINT_SECONDS = Histogram(
    "paht_entrypoint_duration_seconds", "Time a worker took, by service, entrypoint (method) and its type "
    "(rpc, event, http, timer, consumer); workers that raised are counted in paht_entrypoint_errors_total",
    ["service", "entrypoint", "type"], buckets=SECONDS)
ENTRYPOINT_ERRORS = Counter("paht_entrypoint_errors_total", "Workers that raised, by service, entrypoint and type",
                            ["service", "entrypoint", "type"])

# ---- HTTP ---------------------------------------------------------------------------------------------------
HTTP_SECONDS = Histogram(
    "paht_http_request_duration_seconds", "HTTP answers by route template (the werkzeug rule, never the path), "
    "method and status class (2xx … 5xx)", ["service", "method", "route", "status"], buckets=SECONDS)

# ---- reports (intake) ---------------------------------------------------------------------------------------
REPORTS = Gauge("paht_reports", "Open (non-terminal) reports by pack and state, counted from intake's store every "
                "15 s (several intake replicas each report it: aggregate with max)", ["pack", "state"])
TRANSITIONS = Counter("paht_transitions_total", "Decisions intake applied to a report, by pack, from state, to "
                      "state and cause (the decision kind; `submitted` from `none` is a new report)",
                      ["pack", "from", "to", "cause"])
OUTBOX_BACKLOG = Gauge("paht_outbox_backlog", "Announcements stored but not yet sent", ["service"])
OUTBOX_OLDEST = Gauge("paht_outbox_oldest_age_seconds", "Age of the oldest unsent announcement (0 when none)",
                      ["service"])
BACKGROUND_TASKS = Gauge("paht_background_tasks", "Work a service left running after answering (intake: a "
                         "submission's announcement, a Zalo draft being reported) by the task's name; one that stays "
                         "up is stuck", ["service", "task"])
DEAD_LETTERS_OPEN = Gauge("paht_dead_letters_open", "Dead letters kept by intake and not yet settled (replayed "
                          "or dropped)", ["service"])

# ---- deadlines (sla) ----------------------------------------------------------------------------------------
DEADLINES_OPENED = Counter("paht_deadlines_opened_total", "Deadlines opened", ["pack", "step", "agency"])
DEADLINES_WARNED = Counter("paht_deadlines_warned_total", "Deadlines that reached their warning point",
                           ["pack", "step", "agency"])
DEADLINES_MISSED = Counter("paht_deadlines_missed_total", "Deadlines missed (a late step, a late return)",
                           ["pack", "step", "agency"])
DEADLINES_CLOSED = Counter("paht_deadlines_closed_total", "Deadlines closed because their step ended, on time or "
                           "not", ["pack", "step", "agency", "on_time"])
STEP_WORKING_HOURS = Histogram(
    "paht_step_duration_working_hours", "Working hours (the pack's office hours and holidays) from a step's "
    "deadline opening to its closing", ["pack", "step"], buckets=WORKING_HOURS)

# ---- rules --------------------------------------------------------------------------------------------------
RULE_EVALUATION_SECONDS = Histogram("paht_rule_evaluation_seconds", "Pack.evaluate by pack and stage",
                                    ["pack", "stage"], buckets=RULE_BUCKETS)

# ---- outbound notifications (routing's webhook) ------------------------------------------------------------
NOTIFICATIONS = Counter("paht_notifications_total", "Outbound notifications by channel and outcome "
                        "(delivered, failed: every attempt failed)", ["channel", "outcome"])
NOTIFICATION_ATTEMPT_FAILURES = Counter("paht_notification_attempt_failures_total",
                                        "Failed attempts of outbound notifications (retried or not)", ["channel"])

_DEADLINE_COUNTERS = {"deadline_opened": DEADLINES_OPENED, "deadline_warning": DEADLINES_WARNED,
                      "deadline_missed": DEADLINES_MISSED}


def deadline_event(kind: str, deadline: dict, now: datetime) -> None:
    """Count a deadline decision the sla service sends (opened, warning, missed, closed); a closed one also
    observes the step's duration in the pack's working time. Never raises: metrics do not stop the service."""
    try:
        pack, step, agency = deadline["pack"], deadline["step"], deadline.get("agency") or "none"
        if kind in _DEADLINE_COUNTERS:
            _DEADLINE_COUNTERS[kind].labels(pack, step, agency).inc()
        elif kind == "deadline_closed":
            on_time = deadline.get("status") != "missed" and now <= deadline["due"]
            DEADLINES_CLOSED.labels(pack, step, agency, "true" if on_time else "false").inc()
            from paht.rules import get_pack
            from paht.worktime import calendar_for
            hours = calendar_for(get_pack(pack).meta).elapsed(deadline["opened_at"], now).total_seconds() / 3600
            STEP_WORKING_HOURS.labels(pack, step).observe(hours)
    except Exception:   # a metric that cannot be computed is skipped, never the deadline
        log.warning("deadline metric of %s skipped", kind, exc_info=True)


class timed:
    """`with timed(HISTOGRAM.labels(...)):` observes the block's wall time in seconds."""

    def __init__(self, child):
        self.child = child

    def __enter__(self):
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.child.observe(time.perf_counter() - self.start)
        return False


def status_class(status: int) -> str:
    return f"{status // 100}xx" if 100 <= status < 600 else "other"


def entrypoint_type(entrypoint) -> str:
    """rpc, event, http, timer or consumer (else the extension's class name, lower case)."""
    for kind, cls in (("http", HttpRequestHandler), ("rpc", Rpc), ("event", EventHandler), ("timer", Timer),
                      ("consumer", Consumer)):
        if isinstance(entrypoint, cls):
            return kind
    return type(entrypoint).__name__.lower()


class ObservedWorkers(DependencyProvider):
    """Every worker of a service (added to all of them by the Observable mixin): its time and errors by service,
    entrypoint and type, and the report/event it handles as the log context of its records."""

    def setup(self):
        self.started: dict = {}

    def worker_setup(self, worker_ctx):
        try:
            tokens = logs.bind(*logs.ids_of(worker_ctx.args or (), worker_ctx.kwargs or {}))
        except Exception:  # noqa: BLE001 — context is a nicety
            tokens = None
        self.started[id(worker_ctx)] = (time.perf_counter(), tokens)

    def worker_result(self, worker_ctx, result=None, exc_info=None):
        started = self.started.get(id(worker_ctx))
        if started is None:
            return
        labels = (worker_ctx.service_name, worker_ctx.entrypoint.method_name,
                  entrypoint_type(worker_ctx.entrypoint))
        if exc_info is not None:
            ENTRYPOINT_ERRORS.labels(*labels).inc()
        else:
            ENTRYPOINT_SECONDS.labels(*labels).observe(time.perf_counter() - started[0])

    def worker_teardown(self, worker_ctx):
        started = self.started.pop(id(worker_ctx), None)
        if started is not None and started[1] is not None:
            logs.unbind(started[1])
