"""`paht up`: check the broker, start every service as its own nameko process, seed demo users, wait for Ctrl-C."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests
from kombu import Connection

from . import settings

SERVICES = {  # name → (service class, local HTTP port for /healthz and /metrics; the gateway also serves the API)
    "gateway": ("GatewayService", 8000), "intake": ("IntakeService", 8007), "verification": ("VerificationService", 8001),
    "routing": ("RoutingService", 8002), "handling": ("HandlingService", 8003), "sla": ("SlaService", 8004),
    "publishing": ("PublishingService", 8005), "rating": ("RatingService", 8006),
}
INSTALL_HELP = """RabbitMQ is not reachable at {uri}.
Install and start it, then run `make up` again:
  Debian/Ubuntu:  sudo apt-get install -y rabbitmq-server && sudo rabbitmq-server -detached
  macOS:          brew install rabbitmq && brew services start rabbitmq
or point AMQP_URI at a running broker."""


def repo_root() -> Path:
    return Path(__file__).resolve().parent.parent


def broker_reachable(uri: str, timeout: float = 3.0) -> bool:
    try:
        with Connection(uri, connect_timeout=timeout) as connection:
            connection.ensure_connection(max_retries=1)
        return True
    except Exception:  # noqa: BLE001 — any failure means "not reachable"
        return False


def ensure_broker(uri: str, out=print) -> bool:
    if broker_reachable(uri):
        out(f"RabbitMQ: ok ({uri.rsplit('@', 1)[-1]})")
        return True
    server = shutil.which("rabbitmq-server")
    if server is None:
        out(INSTALL_HELP.format(uri=uri))
        return False
    out("RabbitMQ: not running, starting rabbitmq-server -detached …")
    subprocess.run([server, "-detached"], check=False)
    for _ in range(60):
        time.sleep(1)
        if broker_reachable(uri):
            out("RabbitMQ: started")
            return True
    out(INSTALL_HELP.format(uri=uri))
    return False


def service_env(var: Path) -> dict:
    env = dict(os.environ)
    env.setdefault("PAHT_VAR_DIR", str(var))
    env.setdefault("AMQP_URI", settings.DEFAULT_AMQP)
    env["PYTHONPATH"] = str(repo_root()) + os.pathsep + env.get("PYTHONPATH", "")
    if env.get("PAHT_ENV") != "production":      # production: the services as configured (real clock, no demo)
        env.setdefault("PAHT_ENV", "dev")
        env.setdefault("PAHT_CLOCK", "controlled")   # local runs: `paht demo` moves time to show deadlines
        env.setdefault("PAHT_DEMO_TOKENS", str(var / "demo-tokens.json"))
    return env


def service_command(name: str) -> list[str]:
    """`paht run` (paht.serve): nameko run in PAHT's container, HTTP workers in a pool of their own."""
    return [sys.executable, "-m", "paht.cli", "run", "--config", str(repo_root() / "services" / name / "config.yml"),
            f"services.{name}.service:{SERVICES[name][0]}"]


def start_service(name: str, env: dict, log_dir: Path) -> subprocess.Popen:
    with open(log_dir / f"{name}.log", "ab") as log:   # the child keeps its own copy; ours closes (restarts)
        return subprocess.Popen(service_command(name), cwd=repo_root(), env=env, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)


class Supervisor:
    """Keeps every service running: one that exits is started again after a delay that doubles with each
    death in a row (1 s, 2 s, 4 s … at most 30 s) and starts over at 1 s once the service has stayed up for
    `stable_after` seconds. The others are not touched. Only `stop()` ends them all.

    `start(name)` returns a process (`.poll()`, `.pid`); `stop_all({name: process})` ends processes;
    `clock` and `out` are injectable so the policy can be tested without real processes or time.
    """

    def __init__(self, names, start, stop_all, out=print, clock=time.monotonic, log_dir: Path | None = None,
                 initial_delay: float = 1.0, max_delay: float = 30.0, stable_after: float = 60.0):
        self.names = list(names)
        self.start, self.stop_all, self.out, self.clock, self.log_dir = start, stop_all, out, clock, log_dir
        self.initial_delay, self.max_delay, self.stable_after = initial_delay, max_delay, stable_after
        self.processes: dict = {}      # name → running process
        self.started_at: dict = {}     # name → clock() when its current process was started
        self.attempts: dict = {name: 0 for name in self.names}   # deaths in a row (without a stable period)
        self.restart_at: dict = {}     # name → clock() at which a dead service is started again
        self.stopped = False

    def log_file(self, name: str) -> str:
        return str(self.log_dir / f"{name}.log") if self.log_dir else "-"

    def start_all(self) -> dict:
        for name in self.names:
            self._start(name)
        return self.processes

    def _start(self, name: str) -> bool:
        try:
            self.processes[name] = self.start(name)
        except Exception as exc:  # noqa: BLE001 — a failed start is one more death: back off and retry
            self.out(f"{name}: could not start ({exc})")
            self._died(name, None)
            return False
        self.started_at[name] = self.clock()
        return True

    def delay(self, attempt: int) -> float:
        """The wait before restart number `attempt` (1, 2, …) of a series of deaths in a row."""
        return min(self.initial_delay * 2 ** (attempt - 1), self.max_delay)

    def _died(self, name: str, code) -> None:
        now = self.clock()
        self.processes.pop(name, None)
        started = self.started_at.pop(name, None)
        if started is not None and now - started >= self.stable_after:
            self.attempts[name] = 0      # it had been running fine: this is a new series of deaths
        self.attempts[name] += 1
        wait = self.delay(self.attempts[name])
        self.restart_at[name] = now + wait
        self.out(f"{name}: exited with code {code}; restart attempt {self.attempts[name]} in {wait:g} s "
                 f"(log {self.log_file(name)})")

    def poll(self) -> None:
        """Notice deaths and start the services whose delay has passed; call it every second or so."""
        if self.stopped:
            return
        for name, process in list(self.processes.items()):
            code = process.poll()
            if code is not None:
                self._died(name, code)
        now = self.clock()
        for name, when in sorted(self.restart_at.items()):
            if when <= now:
                del self.restart_at[name]
                if self._start(name):
                    self.out(f"{name}: restarted (attempt {self.attempts[name]}, pid {self.processes[name].pid}, "
                             f"log {self.log_file(name)})")

    def stop(self) -> None:
        self.stopped = True
        self.restart_at.clear()
        self.stop_all(dict(self.processes))


def wait_healthy(names, timeout: float = 60.0) -> list[str]:
    """The services not answering /healthz after `timeout` seconds."""
    pending = set(names)
    deadline = time.monotonic() + timeout
    while pending and time.monotonic() < deadline:
        for name in list(pending):
            try:
                if requests.get(f"http://127.0.0.1:{SERVICES[name][1]}/healthz", timeout=1).ok:
                    pending.discard(name)
            except requests.RequestException:
                pass
        time.sleep(0.3)
    return sorted(pending)


def stop(processes: dict) -> None:
    for process in processes.values():
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + 15
    for process in processes.values():
        try:
            process.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def retire_classic_queues(uri: str, out=print) -> None:
    """Handlers' queues are quorum queues now (delivery limits); a broker that still has the classic queues of an
    earlier PAHT would refuse to redeclare them. Empty ones are deleted (nothing runs yet); others are named."""
    from urllib.parse import quote, urlsplit

    parts = urlsplit(uri)
    vhost = quote(parts.path[1:] or "/", safe="")
    api = f"http://{parts.hostname}:15672/api/queues/{vhost}"
    auth = (parts.username or "guest", parts.password or "guest")
    try:
        queues = requests.get(api, auth=auth, timeout=5).json()
    except (requests.RequestException, ValueError):
        return   # no management API: nothing to check
    for queue in queues if isinstance(queues, list) else []:
        if not queue["name"].startswith("evt-") or queue.get("type") != "classic" or queue.get("auto_delete"):
            continue
        if queue.get("messages", 0) == 0:
            requests.delete(f"{api}/{quote(queue['name'], safe='')}", params={"if-empty": "true"}, auth=auth,
                            timeout=5)
        else:
            out(f"queue {queue['name']} is a classic queue with {queue['messages']} messages: drain or move it "
                "(e.g. with the shovel plugin) before the service can declare its quorum queue")


def up(args) -> int:
    from .demo_users import all_agencies, ensure_tokens
    from .rules import get_pack, list_packs
    from .settings import production_problems, production_refusal, setting_problems, settings_refusal

    var = Path(os.environ.get("PAHT_VAR_DIR", repo_root() / "var")).resolve()
    (var / "logs").mkdir(parents=True, exist_ok=True)
    env = service_env(var)
    production = env.get("PAHT_ENV") == "production"
    unparsed = setting_problems(env)
    if unparsed:   # the services would refuse the same way, one by one: say it once, start nothing
        print(settings_refusal(unparsed))
        return 1
    problems = production_problems(env)
    if problems:
        print(production_refusal(problems))
        return 1
    if not ensure_broker(env["AMQP_URI"]):
        return 1
    retire_classic_queues(env["AMQP_URI"])
    if production:
        print("production: staff accounts from `paht users` (and the identity provider, if configured); "
              "no demo accounts")
    else:
        agencies = all_agencies(list_packs, get_pack)
        ensure_tokens(Path(env["PAHT_DEMO_TOKENS"]), agencies)
        print(f"demo accounts: {sum(map(len, agencies.values()))} agencies of {len(agencies)} packs, "
              f"tokens in {env['PAHT_DEMO_TOKENS']} (with the Open311 api_key as \"open311_api_key\")")
    supervisor = Supervisor(SERVICES, lambda name: start_service(name, env, var / "logs"), stop,
                            out=lambda line: print(line, flush=True), log_dir=var / "logs")
    supervisor.start_all()
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    try:
        missing = wait_healthy(SERVICES)
        if missing:
            print(f"not healthy: {', '.join(missing)} (see {var / 'logs'})")
            return 1
        print("PAHT is running: API on http://127.0.0.1:8000 (Ctrl-C to stop; a service that exits is restarted)")
        for name, (_, port) in SERVICES.items():
            print(f"  {name:<13} http://127.0.0.1:{port}/healthz   log {var / 'logs' / (name + '.log')}")
        while not stopping:
            supervisor.poll()
            time.sleep(1)
        return 0
    except KeyboardInterrupt:
        return 0
    finally:
        print("stopping services …")
        supervisor.stop()
