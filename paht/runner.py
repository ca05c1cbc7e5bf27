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

SERVICES = {  # name → (service class, local HTTP port for /healthz and /metrics; intake also serves the API)
    "intake": ("IntakeService", 8000), "verification": ("VerificationService", 8001),
    "routing": ("RoutingService", 8002), "handling": ("HandlingService", 8003), "sla": ("SlaService", 8004),
    "publishing": ("PublishingService", 8005), "rating": ("RatingService", 8006),
}
DEFAULT_AMQP = "amqp://guest:guest@127.0.0.1:5672/"
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
    env.setdefault("PAHT_CLOCK", "controlled")   # local runs: `paht demo` moves time to show deadlines
    env.setdefault("PAHT_DEMO_TOKENS", str(var / "demo-tokens.json"))
    env.setdefault("AMQP_URI", DEFAULT_AMQP)
    env["PYTHONPATH"] = str(repo_root()) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def start_service(name: str, env: dict, log_dir: Path) -> subprocess.Popen:
    nameko = Path(sys.executable).with_name("nameko")
    log = open(log_dir / f"{name}.log", "ab")
    return subprocess.Popen(
        [str(nameko), "run", "--config", str(repo_root() / "services" / name / "config.yml"),
         f"services.{name}.service:{SERVICES[name][0]}"],
        cwd=repo_root(), env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


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


def up(args) -> int:
    from .demo_users import ensure_tokens
    from .rules import get_pack, list_packs

    var = Path(os.environ.get("PAHT_VAR_DIR", repo_root() / "var")).resolve()
    (var / "logs").mkdir(parents=True, exist_ok=True)
    env = service_env(var)
    if not ensure_broker(env["AMQP_URI"]):
        return 1
    agencies = sorted({agency for pack in list_packs() for agency in get_pack(pack).agencies})
    ensure_tokens(Path(env["PAHT_DEMO_TOKENS"]), agencies)
    print(f"demo accounts: {len(agencies)} agencies, tokens in {env['PAHT_DEMO_TOKENS']}")
    processes = {name: start_service(name, env, var / "logs") for name in SERVICES}
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    try:
        missing = wait_healthy(SERVICES)
        if missing:
            print(f"not healthy: {', '.join(missing)} (see {var / 'logs'})")
            return 1
        print("PAHT is running: API on http://127.0.0.1:8000 (Ctrl-C to stop)")
        for name, (_, port) in SERVICES.items():
            print(f"  {name:<13} http://127.0.0.1:{port}/healthz   log {var / 'logs' / (name + '.log')}")
        while not stopping:
            dead = [name for name, process in processes.items() if process.poll() is not None]
            if dead:
                print(f"stopped unexpectedly: {', '.join(dead)} (see {var / 'logs'})")
                return 1
            time.sleep(1)
        return 0
    except KeyboardInterrupt:
        return 0
    finally:
        print("stopping services …")
        stop(processes)
