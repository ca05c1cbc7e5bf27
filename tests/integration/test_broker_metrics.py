"""The RabbitMQ series the alerts and dashboards read are what the broker's rabbitmq_prometheus plugin gives on the
endpoint the production overlay's PodMonitor scrapes (issue 20 item 7): asked the same way of the real broker, for
a queue with a consumer, with the labels the queries use."""
from __future__ import annotations

import os
import time
import uuid
from pathlib import Path

import pytest
import requests
import yaml
from kombu import Connection, Queue

from tests.unit.test_monitoring import rabbitmq_names

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
PROMETHEUS_URL = os.environ.get("RABBIT_PROMETHEUS_URI", "http://127.0.0.1:15692")
AMQP_URI = os.environ.get("PAHT_TEST_AMQP_URI", "amqp://guest:guest@127.0.0.1:5672//")


def pod_monitor_endpoint() -> dict:
    monitor = yaml.safe_load((ROOT / "deploy/k8s/overlays/production/rabbitmq-monitor.yaml").read_text())
    (endpoint,) = monitor["spec"]["podMetricsEndpoints"]
    return endpoint


def scrape(endpoint: dict) -> dict[str, list[dict]]:
    """name → the label sets of its samples, as Prometheus would get them from one node."""
    answer = requests.get(PROMETHEUS_URL + endpoint["path"], params=endpoint["params"], timeout=10)
    answer.raise_for_status()
    series: dict[str, list[dict]] = {}
    for line in answer.text.splitlines():
        if not line or line.startswith("#"):
            continue
        name, _, rest = line.partition("{")
        labels = dict(pair.split("=", 1) for pair in rest.rsplit("}", 1)[0].split(",") if "=" in pair) if rest else {}
        series.setdefault(name.split(" ")[0], []).append({k: v.strip('"') for k, v in labels.items()})
    return series


def test_the_pod_monitors_endpoint_gives_every_queue_series_the_alerts_read():
    try:
        requests.get(PROMETHEUS_URL + "/metrics", timeout=2)
    except requests.ConnectionError:
        pytest.skip(f"rabbitmq_prometheus does not answer on {PROMETHEUS_URL}: rabbitmq-plugins enable "
                    "rabbitmq_prometheus (scripts/ensure-rabbitmq does it)")
    endpoint = pod_monitor_endpoint()
    used = rabbitmq_names()
    queue_name = f"paht-metrics-check-{uuid.uuid4().hex[:8]}"
    with Connection(AMQP_URI) as connection:
        channel = connection.channel()
        queue = Queue(queue_name, exclusive=True, channel=channel)
        queue.declare()
        channel.basic_consume(queue_name, callback=lambda message: None)
        deadline, found = time.monotonic() + 30, {}
        while time.monotonic() < deadline:          # the broker emits queue statistics every few seconds
            series = scrape(endpoint)
            found = {name for name in used
                     if any(labels.get("queue") == queue_name and labels.get("vhost") for labels in series.get(name, []))}
            if found == used:
                break
            time.sleep(1)
    assert used - found == set(), f"not given per queue by {endpoint['path']} {endpoint['params']}"
    assert "rabbitmq_detailed_queue_consumers" in used
