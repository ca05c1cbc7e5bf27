"""Real services on the real RabbitMQ: every service runs in a nameko container (own vhost per test)."""
from __future__ import annotations

import json
import socket
import time
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from paht import clock
from paht.clock import ControlledClock
from tests import start_instants
from services.gateway.service import GatewayService
from services.handling.service import HandlingService
from services.intake.service import IntakeService
from services.publishing.service import PublishingService
from services.rating.service import RatingService
from services.routing.service import RoutingService
from services.sla.service import SlaService
from services.verification.service import VerificationService

SERVICES = {
    "gateway": GatewayService, "intake": IntakeService, "verification": VerificationService, "routing": RoutingService,
    "handling": HandlingService, "sla": SlaService, "publishing": PublishingService, "rating": RatingService,
}

pytestmark = pytest.mark.integration
VN = ZoneInfo("Asia/Ho_Chi_Minh")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def eventually(check, what: str = "condition", timeout: float = 20.0):
    """`check()` every 0.1 s until it gives something truthy, which is returned; AssertionError after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not reached in {timeout} s")
        time.sleep(0.1)


class Samples(list):
    """A service's `GET /metrics` at one moment: (name, labels, value) for every sample."""

    def value(self, name: str, **labels) -> float:
        """The sum of `name`'s samples whose labels match (a tuple matches any of its values); 0 when none."""
        def matches(have: dict) -> bool:
            return all(have.get(key) in (want if isinstance(want, tuple) else (want,)) for key, want in labels.items())
        return sum(value for sample, have, value in self if sample == name and matches(have))

    def __repr__(self):
        return f"<{len(self)} samples>"


class System:
    """The running services of one test, and a small client for the HTTP API."""

    def __init__(self, container_factory, rabbit_config, tmp_path):
        self.factory = container_factory
        self.rabbit_config = rabbit_config
        self.tmp_path = tmp_path
        self.containers = {}
        self.urls = {}
        self.api = None
        self.tokens = json.loads((tmp_path / "demo-tokens.json").read_text())

    def start(self, *names):
        """The named services (all without names); the record (intake) comes with its front door (the gateway),
        whose URL is the API's."""
        if "intake" in names and "gateway" not in names:
            names = ("gateway", *names)
        for name in names or SERVICES:
            port = free_port()
            config = dict(self.rabbit_config, WEB_SERVER_ADDRESS=f"127.0.0.1:{port}", max_workers=10,
                          SERVICE_CONTAINER_CLS="paht.containers.PahtContainer")
            container = self.factory(SERVICES[name], config)
            container.start()
            self.containers[name] = container
            self.urls[name] = f"http://127.0.0.1:{port}"
            if name == "gateway":
                self.api = self.urls[name]
        return self

    # what the services count (paht/metrics.py), read from their own /metrics
    def metrics(self, of: str = "intake") -> Samples:
        text = requests.get(f"{self.urls[of]}/metrics", timeout=10).text
        return Samples((sample.name, sample.labels, sample.value)
                       for family in text_string_to_metric_families(text) for sample in family.samples)

    def metric(self, of: str, name: str, since: Samples | None = None, **labels) -> float:
        """`name` summed over the matching labels on service `of`'s /metrics, less what `since` (an earlier
        `metrics()`) had: counters are the process's, so a test counts from its own snapshot."""
        return self.metrics(of).value(name, **labels) - (since.value(name, **labels) if since else 0.0)

    def wait_metric(self, of: str, name: str, at_least: float, since: Samples | None = None, what: str = "",
                    timeout: float = 20.0, **labels) -> float:
        """Wait until `metric(...)` reaches `at_least`; its value then."""
        return eventually(lambda: [value for value in [self.metric(of, name, since, **labels)] if value >= at_least],
                          what or f"{name}{labels} on {of} up by {at_least}", timeout)[0]

    def agency_tokens(self, pack, agency):
        """(staff token, leader token) of an agency of a pack."""
        entry = self.tokens[pack][agency]
        return entry["agency_staff"], entry["agency_leader"]

    def kill(self, name):
        self.containers.pop(name).kill()

    def stop(self, name):
        self.containers.pop(name).stop()

    # HTTP client
    def submit(self, report: dict, files=()):
        parts = [("report", (None, json.dumps(report), "application/json"))]
        parts += [("media", (name, data, mime)) for name, data, mime in files]
        return requests.post(f"{self.api}/api/v1/reports", files=parts, timeout=10)

    def get(self, report_id):
        return requests.get(f"{self.api}/api/v1/reports/{report_id}", timeout=10).json()

    def staff(self, report_id, action, token, photos=(), **body):
        """A staff action; with `photos`, sent as multipart (the result's "after" photos)."""
        url, headers = f"{self.api}/api/v1/staff/reports/{report_id}/{action}", {"Authorization": f"Bearer {token}"}
        if photos:
            parts = [("action", (None, json.dumps(body), "application/json"))]
            parts += [("media", (name, data, mime)) for name, data, mime in photos]
            return requests.post(url, files=parts, headers=headers, timeout=10)
        return requests.post(url, json=body, headers=headers, timeout=10)

    def supplement(self, report_id, token, supplement: dict, files=()):
        """The reporter's supplement (multipart: the `supplement` JSON part and its media)."""
        parts = [("supplement", (None, json.dumps(supplement), "application/json"))]
        parts += [("media", (name, data, mime)) for name, data, mime in files]
        return requests.post(f"{self.api}/api/v1/reports/{report_id}/supplement", files=parts,
                             headers={"X-Tracking-Token": token}, timeout=10)

    def staff_get(self, path, token, **params):
        return requests.get(f"{self.api}/api/v1/staff/{path}", params=params,
                            headers={"Authorization": f"Bearer {token}"}, timeout=10)

    def wait_for(self, report_id, predicate, timeout=20.0, what="condition"):
        deadline = time.monotonic() + timeout
        view = None
        while time.monotonic() < deadline:
            view = self.get(report_id)
            if predicate(view):
                return view
            time.sleep(0.1)
        raise AssertionError(f"{what} not reached for {report_id}; last view: {json.dumps(view, ensure_ascii=False)[:3000]}")

    def wait_state(self, report_id, state, timeout=20.0):
        return self.wait_for(report_id, lambda v: v.get("state") == state, timeout, f"state {state}")

    def advance(self, seconds):
        answer = requests.post(f"{self.api}/api/v1/_clock/advance", json={"seconds": seconds}, timeout=10,
                               headers={"Authorization": f"Bearer {self.tokens['admin']}"})
        assert answer.status_code == 200, answer.text
        return answer.json()


def office_morning() -> datetime:
    """The first Tuesday–Thursday 09:00 after the suite's start (tests/start_instants.py) that is a working day
    in every pack."""
    from paht.rules import get_pack, list_packs
    from paht.worktime import calendar_for

    return start_instants.office_morning([calendar_for(get_pack(pack).meta) for pack in list_packs()])


@pytest.fixture
def system(container_factory, rabbit_config, tmp_path, monkeypatch):
    from paht.demo_users import all_agencies, ensure_tokens
    from paht.rules import get_pack, list_packs

    monkeypatch.setenv("PAHT_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("PAHT_MEDIA_DIR", str(tmp_path / "media"))
    monkeypatch.setenv("PAHT_OUTBOX_GRACE_SECONDS", "1")
    monkeypatch.setenv("PAHT_ENV", "test")
    monkeypatch.setenv("PAHT_RETRY_BACKOFF_SECONDS", "0.05")
    monkeypatch.delenv("MONGO_URI", raising=False)
    ensure_tokens(tmp_path / "demo-tokens.json", all_agencies(list_packs, get_pack))
    monkeypatch.setenv("PAHT_DEMO_TOKENS", str(tmp_path / "demo-tokens.json"))
    controlled = ControlledClock(tmp_path / "clock.json")
    controlled.start_at(office_morning())
    clock.set_clock(controlled)
    yield System(container_factory, rabbit_config, tmp_path)
    clock.set_clock(None)
