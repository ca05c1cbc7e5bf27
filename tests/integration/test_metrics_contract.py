"""Issue 13: the dashboards and alerts only name metrics the services export, and a report can be followed across
services in the JSON logs. Every service runs on the real broker; one report goes to `dispatched`."""
from __future__ import annotations

import json
import logging
import re
from datetime import timedelta
from pathlib import Path

import pytest
import requests
import yaml

from paht import accounts, clock, logs
from paht.demo_media import camera_jpeg

pytestmark = pytest.mark.integration

MONITORING = Path(__file__).resolve().parents[2] / "deploy" / "monitoring"
PACK = "thua-thien-hue-2022"
HUE_POINT = (16.4637, 107.5909)
PAHT_NAME = re.compile(r"\bpaht_[a-zA-Z0-9_]*")
SUFFIXES = {"counter": ("_total", "_created"), "histogram": ("_bucket", "_sum", "_count", "_created"),
            "gauge": ("",), "summary": ("_sum", "_count", "_created"), "info": ("_info",), "untyped": ("",)}


def good_report():
    return {
        "pack": PACK, "channel": "app",
        "reporter": {"name": "Nguyễn Văn An", "phone": "0905123456", "email": "an@example.vn",
                     "account_id": "hue-s-1001", "account_proof": accounts.proof("hue-s-1001")},
        "description": "Ổ gà lớn giữa đường Lê Lợi, xe máy dễ té ngã", "category": "roads_traffic",
        "location": {"lat": HUE_POINT[0], "lon": HUE_POINT[1], "source": "gps"},
        "urgent": True,   # routed at once, whatever the time of day (a normal report waits for the intake hours)
    }


def exported(text: str) -> tuple[set[str], dict[str, list[tuple[dict, float]]]]:
    """(every name a query may use, samples by name) from a /metrics answer: a family declared by `# TYPE` counts
    even before its first sample (a labelled counter nobody incremented yet)."""
    names, samples = set(), {}
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, family, kind = line.split(" ", 3)
            names.add(family)
            names.update(family + suffix for suffix in SUFFIXES.get(kind, ("",)))
        elif line and not line.startswith("#"):
            match = re.match(r"([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)", line)
            name, labels = match.group(1), dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', match.group(3) or ""))
            names.add(name)
            samples.setdefault(name, []).append((labels, float(match.group(4))))
    return names, samples


def dashboard_queries() -> dict[str, str]:
    """'file: panel title' → expr, for every query of every dashboard (variables' queries too)."""
    queries = {}

    def walk(node, where):
        if isinstance(node, dict):
            where = f"{where}: {node['title']}" if isinstance(node.get("title"), str) else where
            for key in ("expr", "query", "definition"):
                if isinstance(node.get(key), str) and "paht_" in node[key]:
                    queries[f"{where} [{key}]"] = node[key]
            for value in node.values():
                walk(value, where)
        elif isinstance(node, list):
            for value in node:
                walk(value, where)

    for path in sorted((MONITORING / "dashboards").glob("*.json")):
        walk(json.loads(path.read_text(encoding="utf-8")), path.name)
    return queries


def alert_queries() -> dict[str, str]:
    rule = yaml.safe_load((MONITORING / "prometheus-rules.yaml").read_text(encoding="utf-8"))
    return {f"prometheus-rules.yaml: {r.get('alert') or r.get('record')}": r["expr"]
            for group in rule["spec"]["groups"] for r in group["rules"]}


class Lines(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.setFormatter(logs.JsonFormatter(service="test"))
        self.lines = []

    def emit(self, record):
        self.lines.append(json.loads(self.format(record)))


@pytest.fixture
def worker_logs():
    """nameko's own worker lines ('ran handler for <WorkerContext [service.method]>'), as JSON."""
    handler, logger = Lines(), logging.getLogger("nameko.containers")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    yield handler.lines
    logger.removeHandler(handler)
    logger.setLevel(level)


def test_dashboards_and_alerts_name_only_exported_metrics(system, worker_logs):
    system.start()
    photo = ("photo.jpg", camera_jpeg(clock.now() - timedelta(hours=1), seed=1), "image/jpeg")
    answer = system.submit(good_report(), [photo])
    assert answer.status_code == 201, answer.text
    report_id = answer.json()["id"]
    system.wait_state(report_id, "dispatched")
    system.wait_for(report_id, lambda v: any(d["step"] == "acknowledge" for d in v["deadlines"]),
                    what="acknowledge deadline")

    names, samples = set(), {}
    for name, container in system.containers.items():
        scraped = requests.get(f"http://{container.config['WEB_SERVER_ADDRESS']}/metrics", timeout=10)
        assert scraped.status_code == 200, name
        found, by_name = exported(scraped.text)
        names |= found
        for key, values in by_name.items():
            samples.setdefault(key, []).extend(values)

    queries = dashboard_queries() | alert_queries()
    assert len(queries) > 30
    unknown = {where: sorted(set(PAHT_NAME.findall(expr)) - names) for where, expr in queries.items()}
    unknown = {where: missing for where, missing in unknown.items() if missing}
    assert not unknown, f"dashboards/alerts name metrics no service exports: {json.dumps(unknown, indent=1)}"
    used = {name for expr in queries.values() for name in PAHT_NAME.findall(expr)}
    assert {"paht_reports", "paht_transitions_total", "paht_deadlines_missed_total", "paht_outbox_oldest_age_seconds",
            "paht_dead_letters_open", "paht_http_request_duration_seconds_bucket",
            "paht_entrypoint_duration_seconds_bucket", "paht_rule_evaluation_seconds_bucket"} <= used

    def observed(name, **labels):
        return sum(v for have, v in samples.get(name, []) if labels.items() <= have.items())

    # what the walk to `dispatched` must have shown
    assert observed("paht_transitions_total", pack=PACK, to="dispatched") >= 1
    assert observed("paht_transitions_total", pack=PACK, cause="submitted") >= 1
    assert observed("paht_http_request_duration_seconds_count", service="gateway", route="/api/v1/reports",
                    method="POST", status="2xx") >= 1
    assert observed("paht_http_request_duration_seconds_count", service="gateway",
                    route="/api/v1/reports/<string:report_id>", status="2xx") >= 1     # the template, not the id
    assert not any(report_id in json.dumps(labels) for values in samples.values() for labels, _ in values)
    assert observed("paht_entrypoint_duration_seconds_count", service="verification", type="event") >= 1
    assert observed("paht_entrypoint_duration_seconds_count", service="intake", type="timer") >= 1
    assert observed("paht_deadlines_opened_total", pack=PACK, step="acknowledge") >= 1
    assert observed("paht_rule_evaluation_seconds_count", pack=PACK, stage="routing") >= 1
    assert "paht_reports" in samples and "paht_outbox_backlog" in samples

    # the report followed across services by its id in the JSON lines
    followed = {match.group(1) for line in worker_logs if line.get("report_id") == report_id
                for match in [re.search(r"\[(\w+)\.", line["message"])] if match}
    assert {"gateway", "intake", "verification", "routing", "sla"} <= followed, followed
