"""deploy/monitoring agrees with itself and with what is scraped (issue 20 item 7): every alert has a promtool test
in which it fires, the guards watch exactly the jobs the monitors make, and the RabbitMQ series the alerts and
dashboards read are those the production overlay's PodMonitor asks for."""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from paht.runner import SERVICES

ROOT = Path(__file__).resolve().parents[2]
MONITORING = ROOT / "deploy" / "monitoring"
RABBITMQ_NAME = re.compile(r"\brabbitmq_[a-z_]+")
BROKER_JOB = "paht-rabbitmq"

# The metric families of rabbitmq_prometheus's /metrics/detailed that carry one series per queue, and the names each
# gives there (deps/rabbitmq_prometheus/src/collectors/prometheus_rabbitmq_core_metrics_collector.erl, 3.10 to 4.3);
# tests/integration/test_broker_metrics.py checks them against the real broker.
DETAILED_QUEUE_FAMILIES = {
    "queue_coarse_metrics": {"queue_messages_ready", "queue_messages_unacked", "queue_messages",
                             "queue_process_reductions_total"},
    "queue_consumer_count": {"queue_consumers"},
}


def rules() -> list[dict]:
    resource = yaml.safe_load((MONITORING / "prometheus-rules.yaml").read_text(encoding="utf-8"))
    return [rule for group in resource["spec"]["groups"] for rule in group["rules"]]


def alerts() -> dict[str, dict]:
    return {rule["alert"]: rule for rule in rules() if "alert" in rule}


def dashboard_exprs() -> list[str]:
    texts = [path.read_text(encoding="utf-8") for path in sorted((MONITORING / "dashboards").glob("*.json"))]
    return [expr for text in texts for expr in re.findall(r'"expr": "((?:[^"\\]|\\.)*)"', text)]


def rabbitmq_names() -> set[str]:
    return {name for expr in [rule["expr"] for rule in rules()] + dashboard_exprs()
            for name in RABBITMQ_NAME.findall(expr)}


def test_every_alert_has_a_promtool_test_in_which_it_fires():
    fired, named = set(), set()
    for path in sorted((MONITORING / "tests").glob("*.yaml")):
        for case in yaml.safe_load(path.read_text(encoding="utf-8"))["tests"]:
            for check in case.get("alert_rule_test", []):
                named.add(check["alertname"])
                if check.get("exp_alerts"):
                    fired.add(check["alertname"])
    assert named <= set(alerts()), f"tests of alerts that do not exist: {sorted(named - set(alerts()))}"
    assert set(alerts()) - fired == set(), "alerts no promtool test sees firing"
    assert "PahtNotificationsDead" in fired


def test_the_readme_lists_every_alert():
    readme = (MONITORING / "README.md").read_text(encoding="utf-8")
    listed = set(re.findall(r"^\| `(Paht[A-Za-z0-9]+)` \|", readme, re.M))
    assert listed == set(alerts())


def test_the_guards_watch_exactly_the_jobs_the_monitors_make():
    monitors = list(yaml.safe_load_all((MONITORING / "servicemonitors.yaml").read_text(encoding="utf-8")))
    jobs = {relabel["replacement"] for monitor in monitors for endpoint in monitor["spec"]["endpoints"]
            for relabel in endpoint["relabelings"] if relabel["targetLabel"] == "job"}
    assert jobs == {f"paht-{name}" for name in SERVICES}
    guarded = set(re.findall(r'absent\(up\{job="([^"]+)"\}\)', alerts()["PahtServiceNotScraped"]["expr"]))
    assert guarded == jobs
    assert re.findall(r'absent\(up\{job="([^"]+)"\}\)', alerts()["PahtBrokerNotScraped"]["expr"]) == [BROKER_JOB]
    assert f'job!="{BROKER_JOB}"' in alerts()["PahtServiceDown"]["expr"]     # a broker node is not a service


def test_the_queue_alerts_read_only_what_the_detailed_endpoint_gives():
    used = rabbitmq_names()
    assert {"rabbitmq_detailed_queue_consumers", "rabbitmq_detailed_queue_messages"} <= used
    given = {f"rabbitmq_detailed_{name}" for names in DETAILED_QUEUE_FAMILIES.values() for name in names}
    assert used - given == set(), "names the PodMonitor's endpoint does not give"
    for name in ("rabbitmq_detailed_queue_consumers", "rabbitmq_detailed_queue_messages"):  # the guard's series
        assert re.search(rf'absent\({name}\{{queue="paht\.dead-letters"\}}\)', alerts()["PahtQueueMetricsMissing"]["expr"])


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl renders the production overlay")
def test_the_production_overlay_scrapes_the_queue_families_as_the_broker_job():
    rendered = subprocess.run(["kubectl", "kustomize", str(ROOT / "deploy" / "k8s" / "overlays" / "production")],
                              check=True, capture_output=True, text=True).stdout
    docs = [doc for doc in yaml.safe_load_all(rendered) if doc]
    (monitor,) = [doc for doc in docs if doc["kind"] == "PodMonitor"]
    (cluster,) = [doc for doc in docs if doc["kind"] == "RabbitmqCluster"]
    assert monitor["spec"]["selector"]["matchLabels"]["app.kubernetes.io/name"] == cluster["metadata"]["name"]
    (endpoint,) = monitor["spec"]["podMetricsEndpoints"]
    assert (endpoint["port"], endpoint["path"]) == ("prometheus", "/metrics/detailed")
    assert set(endpoint["params"]["family"]) == set(DETAILED_QUEUE_FAMILIES)
    assert [r["replacement"] for r in endpoint["relabelings"] if r["targetLabel"] == "job"] == [BROKER_JOB]
    assert monitor["metadata"]["labels"]["release"] == "prometheus"      # as the ServiceMonitors and the rule
