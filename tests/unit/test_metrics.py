"""The ops metrics (paht/metrics.py) and JSON logs (paht/logs.py): what is counted where, with bounded labels."""
from __future__ import annotations

import json
import logging
import logging.config
import re
import sys
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from types import SimpleNamespace

import pytest
from nameko.events import EventHandler
from nameko.rpc import Rpc
from nameko.timer import Timer
from prometheus_client import REGISTRY
from prometheus_client.metrics import MetricWrapperBase

from paht import deadletters, logs, metrics
from paht.rules import get_pack
from paht.schemas import Decision, ReportIn
from paht.storage import open_database
from services.intake.dependencies import OPEN_STATES, ReportStore
from services.intake.reports import new_report
from services.publishing import senders
from services.publishing.notify import deliver
from services.publishing.notify_store import NotificationStore

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("intake", "verification", "routing", "handling", "sla", "publishing", "rating")
HUE = "thua-thien-hue-2022"
ICT = timezone(timedelta(hours=7))
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)   # a Monday


def value(name: str, **labels) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


# ---- the families ----------------------------------------------------------------------------------------------
def families():
    found = [obj for obj in vars(metrics).values() if isinstance(obj, MetricWrapperBase)]
    return found + [deadletters.PARKED]


def test_every_family_is_paht_prefixed_with_bounded_labels():
    unbounded = {"report_id", "event_id", "id", "path", "url", "user", "token", "ward", "reporter", "phone"}
    assert len(families()) >= 18
    for family in families():
        assert family._name.startswith("paht_"), family._name
        assert not unbounded & set(family._labelnames), (family._name, family._labelnames)


def test_the_state_gauge_counts_open_states_only():
    assert set(OPEN_STATES) == {"submitted", "needs_supplement", "accepted", "routing_unresolved", "dispatched",
                                "in_progress", "result_submitted", "approved"}


# ---- intake ----------------------------------------------------------------------------------------------------
def stored(report_id):
    store = ReportStore(open_database("intake", "memory://"))
    report_in = ReportIn(pack="tay-ninh-2024", description="Cây đổ", reporter={"name": "An", "phone": "0905123456"})
    report = new_report(report_in, [], NOW, report_id, "token")
    store.create(report, f"{report_id}:e0", NOW)
    return store


def test_transitions_are_counted_once_per_applied_decision():
    created = value("paht_transitions_total", pack="tay-ninh-2024", **{"from": "none"}, to="submitted",
                    cause="submitted")
    accepted = value("paht_transitions_total", pack="tay-ninh-2024", **{"from": "submitted"}, to="accepted",
                     cause="verified")
    store = stored("R-T1")
    decision = Decision(report_id="R-T1", occurred_at=NOW, pack="tay-ninh-2024", kind="verified",
                        source="verification", to_state="accepted", from_states=["submitted"])
    assert store.apply(decision) is not None
    assert store.apply(decision) is None      # a redelivery changes nothing, counts nothing
    assert value("paht_transitions_total", pack="tay-ninh-2024", **{"from": "none"}, to="submitted",
                 cause="submitted") == created + 1
    assert value("paht_transitions_total", pack="tay-ninh-2024", **{"from": "submitted"}, to="accepted",
                 cause="verified") == accepted + 1


def test_gauges_from_the_store():
    store = ReportStore(open_database("intake", "memory://"))
    for i, (pack, state) in enumerate([("tay-ninh-2024", "dispatched"), ("tay-ninh-2024", "dispatched"),
                                       ("tay-ninh-2024", "in_progress"), ("tay-ninh-2024", "published"),
                                       (HUE, "submitted")]):
        store.reports.insert_one({"_id": f"G{i}", "pack": pack, "state": state})
    store.outbox.insert_one({"_id": "o1", "created_at": NOW - timedelta(minutes=10), "sent": False, "report_id": "G0"})
    store.outbox.insert_one({"_id": "o2", "created_at": NOW - timedelta(minutes=1), "sent": False, "report_id": "G1"})
    store.dead.insert_one({"_id": "dl-1", "status": "open"})
    store.dead.insert_one({"_id": "dl-2", "status": "dropped"})
    store.observe_gauges(["tay-ninh-2024", HUE], NOW)
    assert value("paht_reports", pack="tay-ninh-2024", state="dispatched") == 2
    assert value("paht_reports", pack="tay-ninh-2024", state="in_progress") == 1
    assert value("paht_reports", pack="tay-ninh-2024", state="submitted") == 0   # present, at zero
    assert REGISTRY.get_sample_value("paht_reports", {"pack": "tay-ninh-2024", "state": "published"}) is None
    assert value("paht_reports", pack=HUE, state="submitted") == 1
    assert value("paht_outbox_backlog", service="intake") == 2
    assert value("paht_outbox_oldest_age_seconds", service="intake") == 600
    assert value("paht_dead_letters_open", service="intake") == 1
    store.outbox.delete_many({})
    store.observe_gauges(["tay-ninh-2024"], NOW)
    assert value("paht_outbox_backlog", service="intake") == 0
    assert value("paht_outbox_oldest_age_seconds", service="intake") == 0


# ---- sla -------------------------------------------------------------------------------------------------------
def deadline(**extra):
    opened = datetime(2026, 11, 23, 8, 0, tzinfo=ICT)   # Monday 08:00 in Huế
    return {"_id": "R:process:e", "report_id": "R", "pack": HUE, "step": "process", "agency": "ubnd-19804",
            "opened_at": opened, "due": opened + timedelta(days=3), "status": "open"} | extra


def test_deadline_events_are_counted_by_pack_step_and_agency():
    labels = {"pack": HUE, "step": "process", "agency": "ubnd-19804"}
    before = {kind: value(f"paht_deadlines_{kind}_total", **labels) for kind in ("opened", "warned", "missed")}
    for kind in ("deadline_opened", "deadline_warning", "deadline_missed", "deadline_missed"):
        metrics.deadline_event(kind, deadline(), NOW)
    metrics.deadline_event("deadline_extended", deadline(), NOW)   # not counted
    assert value("paht_deadlines_opened_total", **labels) == before["opened"] + 1
    assert value("paht_deadlines_warned_total", **labels) == before["warned"] + 1
    assert value("paht_deadlines_missed_total", **labels) == before["missed"] + 2
    metrics.deadline_event("deadline_opened", deadline(agency=None), NOW)
    assert value("paht_deadlines_opened_total", pack=HUE, step="process", agency="none") >= 1


def test_a_closed_step_is_observed_in_working_hours():
    labels = {"pack": HUE, "step": "process"}
    count, total = (value("paht_step_duration_working_hours_count", **labels),
                    value("paht_step_duration_working_hours_sum", **labels))
    on_time = value("paht_deadlines_closed_total", pack=HUE, step="process", agency="ubnd-19804", on_time="true")
    late = value("paht_deadlines_closed_total", pack=HUE, step="process", agency="ubnd-19804", on_time="false")
    # Monday 08:00 → Wednesday 09:00: 3.5 + 3.5 (Monday after 08:00), Tuesday 24/11 is a holiday (Ngày Văn hóa
    # Việt Nam), 1.5 (Wednesday from 07:30) = 8.5 working hours
    metrics.deadline_event("deadline_closed", deadline(), datetime(2026, 11, 25, 9, 0, tzinfo=ICT))
    assert value("paht_step_duration_working_hours_count", **labels) == count + 1
    assert value("paht_step_duration_working_hours_sum", **labels) == pytest.approx(total + 8.5)
    assert value("paht_deadlines_closed_total", pack=HUE, step="process", agency="ubnd-19804",
                 on_time="true") == on_time + 1
    metrics.deadline_event("deadline_closed", deadline(status="missed"), datetime(2026, 11, 30, 9, 0, tzinfo=ICT))
    assert value("paht_deadlines_closed_total", pack=HUE, step="process", agency="ubnd-19804",
                 on_time="false") == late + 1


def test_a_deadline_metric_never_raises():
    metrics.deadline_event("deadline_closed", {"pack": "no-such-pack", "step": "x"}, NOW)


# ---- rules, webhook ----------------------------------------------------------------------------------------------
def test_rule_evaluation_is_timed_by_pack_and_stage():
    before = value("paht_rule_evaluation_seconds_count", pack=HUE, stage="sla")
    get_pack(HUE).evaluate("sla", {"step": "process", "urgent": False, "multi_agency": False, "designated": False})
    assert value("paht_rule_evaluation_seconds_count", pack=HUE, stage="sla") == before + 1


def test_immediate_webhook_failures_are_counted_by_its_channel(monkeypatch):
    """The immediate case's webhook is one channel of publishing's outbox: every failed attempt counts, and a
    notification counts once, delivered or failed (dead)."""
    channel = "immediate_webhook"
    failed, attempts, delivered = (value("paht_notifications_total", channel=channel, outcome="failed"),
                                   value("paht_notification_attempt_failures_total", channel=channel),
                                   value("paht_notifications_total", channel=channel, outcome="delivered"))
    answers = [senders.SendFailed("HTTP 500", permanent=False)] * 4 + [None]

    def send(channel, message):
        answer = answers.pop(0)
        if answer:
            raise answer
    monkeypatch.setattr(senders, "send", send)
    store = NotificationStore(open_database("publishing", "memory://"))
    for entry_id in ("dead", "sent"):
        store.enqueue({"_id": entry_id, "report_id": "R", "channel": channel, "message": {}, "status": "pending",
                       "attempts": 0, "next_at": NOW})
    for _ in range(3):
        deliver(store, store.get("dead"), 3)
    deliver(store, store.get("sent"), 3)
    deliver(store, store.get("sent"), 3)
    assert (store.get("dead")["status"], store.get("sent")["status"]) == ("dead", "sent")
    assert value("paht_notifications_total", channel=channel, outcome="failed") == failed + 1
    assert value("paht_notification_attempt_failures_total", channel=channel) == attempts + 4
    assert value("paht_notifications_total", channel=channel, outcome="delivered") == delivered + 1


# ---- decisions sent, work left running ----------------------------------------------------------------------------
def test_decisions_sent_are_counted_by_service_and_kind_once_dispatched():
    from paht.bus import send, send_all

    sent = []
    routed, missed = (value("paht_decisions_sent_total", service="routing", kind="routed"),
                      value("paht_decisions_sent_total", service="sla", kind="deadline_missed"))
    send(lambda kind, payload: sent.append(payload), Decision(report_id="R", occurred_at=NOW, pack=HUE,
                                                              kind="routed", source="routing"))
    batch = [{"source": "sla", "kind": "deadline_missed", "report_id": f"R{i}"} for i in range(3)]
    send_all(lambda kind, payload: sent.append(payload), batch)
    send_all(lambda kind, payload: sent.append(payload), [])
    assert len(sent) == 2 and sent[1] == {"batch": batch}
    assert value("paht_decisions_sent_total", service="routing", kind="routed") == routed + 1
    assert value("paht_decisions_sent_total", service="sla", kind="deadline_missed") == missed + 3

    def refused(kind, payload):
        raise ConnectionError("broker away")
    with pytest.raises(ConnectionError):
        send_all(refused, batch[:1])
    assert value("paht_decisions_sent_total", service="sla", kind="deadline_missed") == missed + 3


def test_background_work_is_counted_from_the_spawn_until_it_ends_or_is_killed():
    import eventlet

    from paht.background import Background

    background = Background()
    background.container = SimpleNamespace(service_name="intake", spawn_managed_thread=lambda fn, identifier: (
        threads.append(eventlet.spawn(fn)) or threads[-1]))
    threads, release = [], eventlet.event.Event()

    def running():
        return value("paht_background_tasks", service="intake", task="report_zalo_draft")

    def report_zalo_draft():
        release.wait()
    before = running()
    background.spawn(report_zalo_draft)
    background.spawn(report_zalo_draft)
    assert running() == before + 2          # counted before the caller answers, not when the thread first runs
    threads[1].kill()                         # stopped before it ran
    assert running() == before + 1
    release.send()
    threads[0].wait()
    assert running() == before


# ---- the worker hook ---------------------------------------------------------------------------------------------
def worker(entrypoint, *args, **kwargs):
    entrypoint.method_name = "on_report"
    return SimpleNamespace(service_name="sla", entrypoint=entrypoint, args=args, kwargs=kwargs)


def test_every_worker_is_timed_and_logged_with_its_report():
    hook = metrics.ObservedWorkers()
    hook.setup()
    ctx = worker(EventHandler("intake", "transitioned"), {"report_id": "PA-1", "event_id": "ev-1", "report": {}})
    before = value("paht_entrypoint_duration_seconds_count", service="sla", entrypoint="on_report", type="event")
    hook.worker_setup(ctx)
    assert (logs.REPORT_ID.get(), logs.EVENT_ID.get()) == ("PA-1", "ev-1")
    hook.worker_result(ctx, None, None)
    hook.worker_teardown(ctx)
    assert (logs.REPORT_ID.get(), logs.EVENT_ID.get()) == (None, None)
    assert value("paht_entrypoint_duration_seconds_count", service="sla", entrypoint="on_report",
                 type="event") == before + 1

    errors = value("paht_entrypoint_errors_total", service="sla", entrypoint="on_report", type="rpc")
    ctx = worker(Rpc(), {"id": "PA-2", "pack": HUE, "state": "dispatched"}, "acknowledge")
    hook.worker_setup(ctx)
    assert logs.REPORT_ID.get() == "PA-2"
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        hook.worker_result(ctx, None, sys.exc_info())
    hook.worker_teardown(ctx)
    assert value("paht_entrypoint_errors_total", service="sla", entrypoint="on_report", type="rpc") == errors + 1
    assert hook.started == {}


def test_entrypoint_types_and_status_classes():
    assert metrics.entrypoint_type(Rpc()) == "rpc"
    assert metrics.entrypoint_type(EventHandler("intake", "decision")) == "event"
    assert metrics.entrypoint_type(Timer(interval=1)) == "timer"
    assert [metrics.status_class(s) for s in (201, 404, 503, 0)] == ["2xx", "4xx", "5xx", "other"]


# ---- JSON logs ---------------------------------------------------------------------------------------------------
def test_ids_of_what_a_worker_handles():
    assert logs.ids_of(({"report_id": "PA-1", "event_id": "e1"},), {}) == ("PA-1", "e1")
    assert logs.ids_of(({"id": "PA-2", "pack": HUE, "state": "dispatched"}, "act"), {}) == ("PA-2", None)
    assert logs.ids_of((object(),), {"report_id": "PA-3", "action": "approve"}) == ("PA-3", None)
    assert logs.ids_of(({"queue": "q", "body": {"report_id": "PA-4", "event_id": "e4"}}, {}), {}) == ("PA-4", "e4")
    assert logs.ids_of(("text", 3), {}) == (None, None)


def record(message="applied %s", *args, exc_info=None):
    return logging.LogRecord("services.intake.service", logging.WARNING, __file__, 1, message, args, exc_info)


def test_a_record_is_one_json_line_with_its_report():
    formatter = logs.JsonFormatter(service="intake")
    tokens = logs.bind("PA-9", "ev-9")
    try:
        line = formatter.format(record("applied %s", "verified"))
    finally:
        logs.unbind(tokens)
    entry = json.loads(line)
    assert "\n" not in line
    assert entry["service"] == "intake" and entry["level"] == "WARNING" and entry["message"] == "applied verified"
    assert entry["logger"] == "services.intake.service" and (entry["report_id"], entry["event_id"]) == ("PA-9", "ev-9")
    assert datetime.fromisoformat(entry["time"]).tzinfo is not None
    try:
        raise ValueError("Lỗi")
    except ValueError:
        entry = json.loads(formatter.format(record("failed", exc_info=sys.exc_info())))
    assert "report_id" not in entry and "ValueError: Lỗi" in entry["exception"]


@pytest.mark.parametrize("service", SERVICES)
def test_the_services_log_json(service):
    text = (ROOT / "services" / service / "config.yml").read_text(encoding="utf-8")
    text = re.sub(r"\$\{[A-Z_]+:([^}]*)\}", r"\1", text)     # nameko's ${VAR:default}, defaults
    import yaml
    config = yaml.safe_load(text)["LOGGING"]
    formatter_name = config["handlers"]["console"]["formatter"]
    assert formatter_name == "json"
    formatter = logging.config.DictConfigurator(config).configure_formatter(dict(config["formatters"]["json"]))
    entry = json.loads(formatter.format(record("hello")))
    assert entry["service"] == service and entry["message"] == "hello"
    assert "plain" in config["formatters"]      # PAHT_LOG_FORMAT=plain
