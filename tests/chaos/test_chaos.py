"""Chaos: the whole system as real processes (`paht up`) takes 1,000 submissions while the routing process is
SIGKILLed and the broker is restarted. Nothing may answer 500, every report that got a 201 must be dispatched
(none lost) and show the deadline its dispatch opened, none dispatched twice, and an Idempotency-Key retried after
a failure never makes a second report.

Runs only with PAHT_CHAOS=1 (`make chaos`): it restarts the shared RabbitMQ and needs ports 8000–8006. Knobs:
PAHT_CHAOS_REPORTS (1000), PAHT_CHAOS_THREADS (8), PAHT_CHAOS_KILL_ROUTING (1), PAHT_CHAOS_BROKER_RESTART (1),
PAHT_CHAOS_SETTLE_SECONDS (300: how long to wait for the last dispatch), PAHT_CHAOS_SUBMIT_SECONDS (900: no
submission attempt starts later than this).
Everything is bounded: submissions time out, retries are counted, waits have deadlines, and `paht up` is always
stopped (SIGTERM, then SIGKILL, its services too) and the broker's app always started again.
"""
from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import requests

from paht import accounts
from paht.clock import ControlledClock
from paht.demo_media import camera_jpeg
from tests.integration.conftest import office_morning

pytestmark = [pytest.mark.slow, pytest.mark.integration]

REPO = Path(__file__).resolve().parents[2]
API = "http://127.0.0.1:8000"
PORTS = range(8000, 8007)
MANAGEMENT = "http://127.0.0.1:15672/api"
GUEST = ("guest", "guest")
VN = timezone(timedelta(hours=7))
PACK = "thua-thien-hue-2022"
HUE_POINT = (16.4637, 107.5909)

REPORTS = int(os.environ.get("PAHT_CHAOS_REPORTS", "1000"))
THREADS = int(os.environ.get("PAHT_CHAOS_THREADS", "8"))
KILL_ROUTING = os.environ.get("PAHT_CHAOS_KILL_ROUTING", "1") != "0"
BROKER_RESTART = os.environ.get("PAHT_CHAOS_BROKER_RESTART", "1") != "0"
SETTLE_SECONDS = float(os.environ.get("PAHT_CHAOS_SETTLE_SECONDS", "300"))
SUBMIT_SECONDS = float(os.environ.get("PAHT_CHAOS_SUBMIT_SECONDS", "900"))   # no new attempt after this
RETRIES = 3


def log(message: str) -> None:
    print(f"[chaos {time.strftime('%H:%M:%S')}] {message}", flush=True)


# ---- processes ------------------------------------------------------------------------------------------------------
def port_in_use(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def children(pid: int) -> list[int]:
    """Direct children of `pid` (from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if int(stat[stat.rindex(")") + 2:].split()[1]) == pid:
            found.append(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2] != "Z"


def routing_pids(up_pid: int) -> list[int]:
    """The routing service processes of *our* `paht up` (pgrep, narrowed to its children)."""
    found = subprocess.run(["pgrep", "-f", "services.routing.service"], check=False, capture_output=True, text=True,
                           timeout=10)
    ours = set(children(up_pid))
    return [int(pid) for pid in found.stdout.split() if int(pid) in ours]


def healthy(port: int) -> bool:
    try:
        return requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2).ok
    except requests.RequestException:
        return False


def tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return f"<no {path}>"


class System:
    """`paht up` in its own session, on its own vhost and var directory."""

    def __init__(self, var: Path):
        self.var = var
        self.vhost = f"paht-chaos-{secrets.token_hex(4)}"
        self.process: subprocess.Popen | None = None
        self.service_pids: set[int] = set()   # every service process seen, to be sure none outlives the test
        self.env = {k: v for k, v in os.environ.items()
                    if not k.startswith("PAHT_") and k not in ("AMQP_URI", "MONGO_URI")}
        self.env.update({
            "PAHT_VAR_DIR": str(var), "PAHT_ENV": "test", "PAHT_CLOCK": "controlled",
            "PAHT_DEMO_TOKENS": str(var / "demo-tokens.json"), "PAHT_RATE_LIMIT_PER_MINUTE": "0",
            "PAHT_ACCOUNT_SECRET": secrets.token_hex(32), "PAHT_INTERNAL_SECRET": secrets.token_hex(32),
            "AMQP_URI": f"amqp://guest:guest@127.0.0.1:5672/{self.vhost}",
        })
        self.up_log = var / "paht-up.log"

    def start(self, timeout: float = 120.0) -> None:
        busy = [port for port in PORTS if port_in_use(port)]
        if busy:
            pytest.fail(f"ports {busy} are in use: another PAHT (make up?) is running; stop it first")
        requests.put(f"{MANAGEMENT}/vhosts/{self.vhost}", auth=GUEST, timeout=10).raise_for_status()
        requests.put(f"{MANAGEMENT}/permissions/{self.vhost}/guest", auth=GUEST, timeout=10,
                     json={"configure": ".*", "write": ".*", "read": ".*"}).raise_for_status()
        self.var.mkdir(parents=True, exist_ok=True)
        ControlledClock(self.var / "clock.json").start_at(office_morning())   # in office hours: dispatched at once
        with open(self.up_log, "ab") as out:
            self.process = subprocess.Popen([str(Path(sys.executable).with_name("paht")), "up"], cwd=REPO,
                                            env=self.env, stdout=out, stderr=subprocess.STDOUT,
                                            start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.remember_services()
            if self.process.poll() is not None:
                pytest.fail(f"paht up exited with {self.process.returncode}:\n{tail(self.up_log)}")
            if all(healthy(port) for port in PORTS):
                log(f"paht up is running (pid {self.process.pid}, vhost {self.vhost}, var {self.var})")
                return
            time.sleep(1)
        pytest.fail(f"paht up not healthy within {timeout:.0f} s:\n{tail(self.up_log)}")

    def remember_services(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.service_pids.update(children(self.process.pid))

    def tokens(self) -> dict:
        return json.loads((self.var / "demo-tokens.json").read_text())

    def stop(self) -> None:
        """SIGTERM `paht up` (it stops its services), SIGKILL whatever is still there after 30 s."""
        if self.process is not None:
            self.remember_services()
            if self.process.poll() is None:
                os.kill(self.process.pid, signal.SIGTERM)
                try:
                    self.process.wait(30)
                except subprocess.TimeoutExpired:
                    self.remember_services()
                    log("paht up did not stop within 30 s: SIGKILL")
                    os.killpg(self.process.pid, signal.SIGKILL)
                    self.process.wait(10)
            deadline = time.monotonic() + 10
            while any(alive(pid) for pid in self.service_pids) and time.monotonic() < deadline:
                time.sleep(0.5)
            for pid in self.service_pids:
                if alive(pid):
                    log(f"service process {pid} outlived paht up: SIGKILL")
                    try:
                        os.killpg(pid, signal.SIGKILL)   # each service is its own session (its pid is its group)
                    except ProcessLookupError:
                        pass
        try:
            requests.delete(f"{MANAGEMENT}/vhosts/{self.vhost}", auth=GUEST, timeout=10)
        except requests.RequestException as exc:
            log(f"could not delete vhost {self.vhost}: {exc}")


# ---- chaos --------------------------------------------------------------------------------------------------------------
def kill_routing(system: System, events: list) -> None:
    pids = routing_pids(system.process.pid)
    if not pids:
        events.append(("routing", "no routing process found"))
        return
    for pid in pids:
        os.kill(pid, signal.SIGKILL)
    events.append(("routing", f"SIGKILL {pids}"))
    log(f"routing killed: {pids}")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        system.remember_services()
        new = [pid for pid in routing_pids(system.process.pid) if pid not in pids]
        if new and healthy(8002):
            events.append(("routing", f"restarted as {new}"))
            log(f"routing restarted: {new}")
            return
        time.sleep(0.5)
    events.append(("routing", "NOT restarted within 60 s"))


def broker_ready() -> bool:
    try:
        return requests.get(f"{MANAGEMENT}/overview", auth=GUEST, timeout=3).ok and port_in_use(5672)
    except requests.RequestException:
        return False


def start_broker_app() -> None:
    subprocess.run(["rabbitmqctl", "start_app"], check=False, capture_output=True, timeout=180)


def restart_broker(events: list) -> None:
    try:
        log("broker: rabbitmqctl stop_app")
        stopped = subprocess.run(["rabbitmqctl", "stop_app"], check=False, capture_output=True, text=True,
                                 timeout=120)
        events.append(("broker", f"stop_app → {stopped.returncode}"))
        time.sleep(5)
    finally:
        start_broker_app()
        log("broker: rabbitmqctl start_app")
    deadline = time.monotonic() + 120
    while not broker_ready() and time.monotonic() < deadline:
        time.sleep(1)
    events.append(("broker", "back" if broker_ready() else "NOT back within 120 s"))


# ---- submissions ------------------------------------------------------------------------------------------------------
@dataclass
class Outcome:
    index: int
    key: str
    attempts: list = field(default_factory=list)     # HTTP status, or "error:<exception>"
    ids: list = field(default_factory=list)          # the id of every 201 answer

    @property
    def final(self):
        return self.attempts[-1] if self.attempts else None


def report(index: int, secret: str) -> dict:
    account = f"chaos-{index}"
    return {
        "pack": PACK, "channel": "app", "category": "roads_traffic",
        "reporter": {"name": f"Người thử {index}", "phone": f"09{index:08d}", "email": f"chaos{index}@example.vn",
                     "account_id": account, "account_proof": accounts.proof(account, secret.encode())},
        "description": f"Ổ gà lớn giữa đường Lê Lợi, đoạn số {index}",
        "location": {"lat": HUE_POINT[0], "lon": HUE_POINT[1], "source": "gps"},
    }


_OFFSET: list[timedelta] = []


def system_now() -> datetime:
    """The system's time (its controlled clock starts on an office morning), for fresh photos: asked once."""
    if not _OFFSET:
        answer = requests.get(f"{API}/api/v1/_clock", timeout=10).json()["now"]
        _OFFSET.append(datetime.fromisoformat(answer) - datetime.now(VN))
    return datetime.now(VN) + _OFFSET[0]


def submit(index: int, run: str, secret: str, deadline: float) -> Outcome:
    """One report, retried (same Idempotency-Key) on 503 and transport errors; nothing is sent after `deadline`."""
    outcome = Outcome(index, f"{run}-{index}")
    photo = camera_jpeg(system_now() - timedelta(minutes=10), seed=index, size=(160, 120))
    body = json.dumps(report(index, secret))
    for attempt in range(1 + RETRIES):
        if time.monotonic() > deadline:
            outcome.attempts.append("not sent: submission deadline")
            return outcome
        wait = 1.0
        try:
            answer = requests.post(f"{API}/api/v1/reports", timeout=(5, 30), headers={"Idempotency-Key": outcome.key},
                                   files=[("report", (None, body, "application/json")),
                                          ("media", ("photo.jpg", photo, "image/jpeg"))])
            outcome.attempts.append(answer.status_code)
            if answer.status_code == 201:
                outcome.ids.append(answer.json()["id"])
                return outcome
            if answer.status_code != 503:
                return outcome
            try:
                wait = min(float(answer.headers.get("Retry-After", "1")), 5.0)
            except ValueError:
                pass
        except requests.RequestException as exc:
            outcome.attempts.append(f"error:{type(exc).__name__}")
        if attempt < RETRIES:
            time.sleep(wait)
    return outcome


def views(pool, ids, deadline: float) -> dict:
    """The public views of `ids` (None where unreadable); gives up on the rest at `deadline`."""
    def one(report_id):
        if time.monotonic() > deadline:
            return None
        try:
            answer = requests.get(f"{API}/api/v1/reports/{report_id}", timeout=5)
            return answer.json() if answer.status_code == 200 else None
        except (requests.RequestException, ValueError):
            return None
    return dict(zip(ids, pool.map(one, ids)))


def dispatch_steps(public: dict) -> int:
    return sum(1 for step in public.get("timeline", []) if step.get("to") == "dispatched")


def running_deadline(public: dict) -> bool:
    return any(not d.get("closed_at") for d in public.get("deadlines", []))


# ---- the test ---------------------------------------------------------------------------------------------------------
def test_a_thousand_reports_survive_a_killed_service_and_a_broker_restart(tmp_path):
    if BROKER_RESTART and not shutil.which("rabbitmqctl"):
        pytest.fail("rabbitmqctl is needed to restart the broker (or set PAHT_CHAOS_BROKER_RESTART=0)")
    if not broker_ready():
        pytest.fail("RabbitMQ (5672 and the management API on 15672) is not running: scripts/ensure-rabbitmq")
    system = System(tmp_path / "var")
    events: list = []
    outcomes: list[Outcome] = []
    started = time.monotonic()
    try:
        system.start()
        run, secret = secrets.token_hex(3), system.env["PAHT_ACCOUNT_SECRET"]
        done = Counter()
        lock = threading.Lock()

        submit_deadline = time.monotonic() + SUBMIT_SECONDS

        def one(index):
            outcome = submit(index, run, secret, submit_deadline)
            with lock:
                done["n"] += 1
            return outcome

        def chaos():
            """Kill routing after a third of the submissions, restart the broker after two thirds."""
            plan = [(REPORTS // 3, KILL_ROUTING, lambda: kill_routing(system, events)),
                    (2 * REPORTS // 3, BROKER_RESTART, lambda: restart_broker(events))]
            deadline = time.monotonic() + 1800
            for threshold, enabled, act in plan:
                while done["n"] < threshold and done["n"] < REPORTS and time.monotonic() < deadline:
                    time.sleep(0.2)
                if enabled:
                    try:
                        act()
                    except Exception as exc:  # noqa: BLE001 — recorded; the test goes on and reports it
                        events.append(("chaos", f"failed: {type(exc).__name__}: {exc}"))

        log(f"submitting {REPORTS} reports on {THREADS} threads "
            f"(kill routing: {KILL_ROUTING}, broker restart: {BROKER_RESTART})")
        controller = threading.Thread(target=chaos, daemon=True)
        controller.start()
        with ThreadPoolExecutor(THREADS) as pool:
            outcomes = list(pool.map(one, range(1, REPORTS + 1)))
        controller.join(timeout=300)
        submitted_in = time.monotonic() - started
        log(f"submissions done in {submitted_in:.0f} s: {Counter(str(o.final) for o in outcomes)}")
        if system.process.poll() is not None:
            pytest.fail(f"paht up died ({system.process.returncode}):\n{tail(system.up_log)}")

        # every 201 must reach "dispatched" (bounded)
        accepted = sorted({rid for o in outcomes for rid in o.ids})
        reached: dict[str, dict] = {}
        deadline = time.monotonic() + SETTLE_SECONDS
        pending = list(accepted)
        with ThreadPoolExecutor(THREADS) as pool:
            while pending and time.monotonic() < deadline:
                for rid, public in views(pool, pending, deadline).items():
                    if public is not None and dispatch_steps(public) > 0:
                        reached[rid] = public
                pending = [rid for rid in pending if rid not in reached]
                if pending:
                    time.sleep(2)
            # and the deadline the dispatch opened must reach the report (sla's queue for intake outlives both)
            undated = [rid for rid in reached if not running_deadline(reached[rid])]
            while undated and time.monotonic() < deadline:
                time.sleep(2)
                undated = [rid for rid, public in views(pool, undated, deadline).items()
                           if not (public and running_deadline(public))]
            time.sleep(3)    # a late second dispatch would show now
            final_views = views(pool, accepted, time.monotonic() + 180)
        system.remember_services()

        lost = [rid for rid in accepted if rid not in reached]
        twice = [rid for rid, public in final_views.items() if public and dispatch_steps(public) > 1]
        key_twice = [o.key for o in outcomes if len(set(o.ids)) > 1]
        five_hundreds = [o for o in outcomes if any(isinstance(a, int) and a >= 500 and a != 503 for a in o.attempts)]
        finals = Counter(o.final for o in outcomes)
        operator = system.tokens()["operator"]
        try:
            stored = requests.get(f"{API}/api/v1/staff/reports", params={"limit": 1000}, timeout=30,
                                  headers={"Authorization": f"Bearer {operator}"}).json().get("count")
        except (requests.RequestException, ValueError):
            stored = "?"
        numbers = {
            "submitted": len(outcomes),
            "201": finals.get(201, 0),
            "503 (after retries)": finals.get(503, 0),
            "other final answers": {str(k): v for k, v in finals.items() if k not in (201, 503)},
            "retried": sum(1 for o in outcomes if len(o.attempts) > 1),
            "attempts by answer": dict(Counter(str(a) for o in outcomes for a in o.attempts)),
            "5xx other than 503": len(five_hundreds),
            "dispatched": len(reached),
            "dispatched twice": len(twice),
            "one key, two ids": len(key_twice),
            "lost (201, never dispatched)": len(lost),
            "dispatched, no running deadline": len(undated),
            "stored (operator count, capped at 1000)": stored,
            "events": events,
            "seconds": round(time.monotonic() - started),
        }
        print("\nchaos results:\n" + json.dumps(numbers, indent=1, ensure_ascii=False))
        (system.var / "chaos-results.json").write_text(json.dumps(numbers, indent=1, ensure_ascii=False))
        lost_states = {rid: (final_views.get(rid) or {}).get("state") for rid in lost[:20]}
        assert not five_hundreds, [(o.key, o.attempts) for o in five_hundreds[:20]]
        assert not lost, f"{len(lost)} reports got a 201 but were never dispatched: {lost_states}"
        assert not twice, f"dispatched twice: {twice[:20]}"
        assert not undated, f"{len(undated)} dispatched reports never showed their running deadline: {undated[:20]}"
        assert not key_twice, f"one Idempotency-Key, two reports: {key_twice[:20]}"
    finally:
        if BROKER_RESTART:
            start_broker_app()        # whatever happened above, the broker's app runs again
        system.stop()
