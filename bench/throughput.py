"""Throughput of the whole system against a bare nameko event chain of as many hops, on the same broker.

1. Starts PAHT as `paht up` does (the seven services as processes, a fresh var directory under a temp dir,
   PAHT_ENV=dev, a controlled clock, no rate limit, free ports, a vhost of its own where the broker lets it make
   one), or uses a running system (`--api URL --amqp URI --var DIR`, DIR holding its demo tokens and account
   secret). The clock is moved into the pack's office hours; a few warm-up reports must reach `dispatched`.
2. Measures bench/bare_chain.py (HTTP → source → 5 event hops) with the same number of messages, the same event
   size (the mean size of PAHT's warm-up announcements) and the same threads (not in the open loop).
3. Submits N reports (`POST /api/v1/reports`, a fresh photo each: EXIF capture time = the system's clock, GPS at
   the report's place) from K threads, or with `--rate R --seconds S` at R a second whatever the answers (open
   loop, latency from when each was due). Intake's `transitioned.dispatched.*` announcements are read off the bus
   (only those, as only the bare chain's last hop is): submit → dispatched is stamped when one arrives.
Prints the rates, latencies and the issue's targets; exits 0 once measured (1 only when it could not measure).
Run: .venv/bin/python bench/throughput.py [--n 600] [--threads 8] [--photo small|phone] [--rate 50 --seconds 20]"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import warnings
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

import pika
import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")   # nameko's, through bare_chain

from bench import _costs, bare_chain  # noqa: E402
from bench._run import BenchError, measured  # noqa: E402
from bench._stats import summary  # noqa: E402
from paht import runner, settings  # noqa: E402
from paht.demo import Api, clock_tz, into_office_hours, make_report  # noqa: E402
from paht.demo_media import camera_jpeg, phone_scene, variant_jpeg  # noqa: E402
from paht.rules import get_pack  # noqa: E402
from paht.worktime import calendar_for  # noqa: E402

SMALL_TARGET, PHONE_TARGET, RATIO_TARGET = 100.0, 30.0, 0.3     # reports/s, reports/s, × the bare chain
OPEN_LOOP_RATE, OPEN_LOOP_P99_MS = 50.0, 1000.0
PHONE_SCENES = 4            # rendering a 12 MP scene takes a second or more; each photo is a scene + its own patch
STARTUP_SECONDS = 90.0
PROFILE_HZ = 25             # py-spy's sampling rate: low, so that profiling changes little of what it measures


# ---- the bus ----------------------------------------------------------------------------------------------------
class Arrivals(threading.Thread):
    """Reads a topic exchange through an exclusive queue of its own (bound before anything is sent) and stamps
    when each id first reached its goal. `parse(body)` → (id, state, reached)."""

    def __init__(self, amqp_uri: str, exchange: str, keys, parse):
        super().__init__(daemon=True, name=f"arrivals-{exchange}")
        self.amqp_uri, self.exchange, self.keys, self.parse = amqp_uri, exchange, tuple(keys), parse
        self.lock = threading.Lock()
        self.reached: dict[str, float] = {}
        self.last_state: dict[str, str] = {}
        self.sizes: list[int] = []
        self.last_event = time.perf_counter()
        self.ready, self.stopping = threading.Event(), threading.Event()
        self.error: Exception | None = None

    def run(self):
        try:
            connection = pika.BlockingConnection(pika.URLParameters(self.amqp_uri))
            channel = connection.channel()
            channel.exchange_declare(self.exchange, "topic", durable=True)   # as nameko declares it
            queue = channel.queue_declare("", exclusive=True, auto_delete=True).method.queue
            for key in self.keys:
                channel.queue_bind(queue, self.exchange, routing_key=key)
            channel.basic_consume(queue, self._on_message, auto_ack=True)
        except Exception as exc:  # noqa: BLE001 — reported by start_listening
            self.error = exc
            self.ready.set()
            return
        self.ready.set()
        try:
            while not self.stopping.is_set():
                connection.process_data_events(time_limit=0.2)
        except Exception as exc:  # noqa: BLE001 — a lost connection: the waits see no more events
            self.error = exc
        finally:
            with contextlib.suppress(Exception):
                connection.close()

    def _on_message(self, channel, method, properties, body):
        arrived = time.perf_counter()
        try:
            key, state, reached = self.parse(json.loads(body))
        except (ValueError, KeyError, TypeError):
            return    # not an event of the shape we read
        with self.lock:
            self.last_event = arrived
            self.sizes.append(len(body))
            self.last_state[key] = state
            if reached:
                self.reached.setdefault(key, arrived)

    def start_listening(self) -> Arrivals:
        self.start()
        if not self.ready.wait(30) or self.error is not None:
            raise BenchError(f"cannot read {self.exchange} on the broker: {self.error or 'no answer in 30 s'}")
        return self

    def wait(self, keys, timeout: float, idle: float) -> None:
        """Until every key reached its goal, `timeout` passed, or no event came for `idle` seconds."""
        keys = [key for key in keys if key]
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline and self.error is None:
            with self.lock:
                if all(key in self.reached for key in keys) or time.perf_counter() - self.last_event > idle:
                    return
            time.sleep(0.05)

    def stop(self) -> None:
        self.stopping.set()
        self.join(5)


def transitioned(body: dict):
    return body["report_id"], body["to_state"], body["to_state"] == "dispatched"


def bare_done(body: dict):
    return body["id"], bare_chain.DONE, True


class Vhost:
    """A vhost of its own for what the bench starts, so no other `paht up` or test on the broker shares its
    queues: made through the management API, else rabbitmqctl (a local broker), else none (the URI's own vhost)."""

    def __init__(self, amqp_uri: str):
        self.base, self.made, self.how = amqp_uri, None, None
        parts = urlsplit(amqp_uri)
        self.host, self.auth = parts.hostname or "127.0.0.1", (unquote(parts.username or "guest"),
                                                                unquote(parts.password or "guest"))

    def make(self) -> str:
        name = f"paht-bench-{os.getpid()}-{random.randrange(16**6):06x}"
        api = f"http://{self.host}:15672/api"
        try:
            if requests.put(f"{api}/vhosts/{name}", auth=self.auth, timeout=5).ok and requests.put(
                    f"{api}/permissions/{name}/{quote(self.auth[0], safe='')}", auth=self.auth, timeout=5,
                    json={"configure": ".*", "write": ".*", "read": ".*"}).ok:
                self.made, self.how = name, "api"
        except requests.RequestException:
            pass
        local = self.host in ("127.0.0.1", "localhost") and shutil.which("rabbitmqctl")
        if self.made is None and local and self._ctl("add_vhost", name) and self._ctl(
                "set_permissions", "-p", name, self.auth[0], ".*", ".*", ".*"):
            self.made, self.how = name, "ctl"
        if self.made is None:
            print(f"note: could not make a vhost of its own on the broker; using {self.base.rsplit('@', 1)[-1]} "
                  "(another system on it would share the queues)")
            return self.base
        parts = urlsplit(self.base)
        return parts._replace(path="/" + quote(name, safe="")).geturl()

    def delete(self) -> None:
        if self.how == "api":
            with contextlib.suppress(requests.RequestException):
                requests.delete(f"http://{self.host}:15672/api/vhosts/{self.made}", auth=self.auth, timeout=10)
        elif self.how == "ctl":
            self._ctl("delete_vhost", self.made)

    @staticmethod
    def _ctl(*args) -> bool:
        try:
            return subprocess.run(["rabbitmqctl", *args], capture_output=True, timeout=60, check=False).returncode == 0
        except (OSError, subprocess.TimeoutExpired):
            return False


# ---- processes ----------------------------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_answering(urls: dict, processes: dict, logs: Path, timeout: float = STARTUP_SECONDS) -> None:
    """Every url answers 200, or a BenchError naming what did not start (with its log's last lines)."""
    pending = dict(urls)
    deadline = time.monotonic() + timeout
    while pending and time.monotonic() < deadline:
        for name, url in list(pending.items()):
            with contextlib.suppress(requests.RequestException):
                if requests.get(url, timeout=1).ok:
                    del pending[name]
        dead = [name for name, process in processes.items() if process.poll() is not None]
        if dead:
            raise BenchError(f"exited while starting: {', '.join(dead)}\n{log_tails(dead, logs)}")
        time.sleep(0.3)
    if pending:
        raise BenchError(f"not answering after {timeout:g} s: {', '.join(pending)}\n{log_tails(pending, logs)}")


def log_tails(names, logs: Path, lines: int = 15) -> str:
    tails = []
    for name in names:
        path = logs / f"{name}.log"
        text = path.read_text(errors="replace").splitlines()[-lines:] if path.exists() else ["(no log)"]
        tails.append(f"--- {path}\n" + "\n".join(text))
    return "\n".join(tails)


def start_paht(workdir: Path, amqp_uri: str, stack: contextlib.ExitStack) -> tuple[str, dict]:
    """The services as `paht up` runs them, on free ports, with a fresh var directory; (API URL, processes)."""
    var = workdir / "var"
    logs = var / "logs"
    logs.mkdir(parents=True)
    # this shell's settings may point at another system (store, files, secrets, mail/SMS gateways, identity
    # provider): a fresh system has none of them, only the workers' and the logs' knobs are kept
    for setting in [name for name in os.environ if name == "MONGO_URI" or name.startswith("PAHT_")]:
        if setting not in ("PAHT_MAX_WORKERS", "PAHT_LOG_LEVEL", "PAHT_LOG_FORMAT"):
            del os.environ[setting]
    # the packs as they are now: an edit to rules/ during the run would have every service reload its packs (a
    # second or more of CPU each) inside the measurement
    rules = shutil.copytree(ROOT / "rules", workdir / "rules", symlinks=True)
    os.environ.update({"PAHT_VAR_DIR": str(var), "PAHT_ENV": "dev", "PAHT_CLOCK": "controlled",
                       "PAHT_RATE_LIMIT_PER_MINUTE": "0", "AMQP_URI": amqp_uri, "PAHT_RULES_DIR": str(rules)})
    from paht.demo_users import all_agencies, ensure_tokens
    from paht.rules import list_packs

    env = runner.service_env(var)
    ensure_tokens(Path(env["PAHT_DEMO_TOKENS"]), all_agencies(list_packs, get_pack))
    ports = {name: free_port() for name in runner.SERVICES}
    env.update({f"PAHT_{name.upper()}_HTTP": f"127.0.0.1:{port}" for name, port in ports.items()})
    processes: dict = {}
    stack.callback(runner.stop, processes)
    for name in runner.SERVICES:
        processes[name] = runner.start_service(name, env, logs)
    wait_answering({name: f"http://127.0.0.1:{port}/healthz" for name, port in ports.items()}, processes, logs)
    return f"http://127.0.0.1:{ports['gateway']}", processes


# ---- sending ------------------------------------------------------------------------------------------------------
@dataclass
class Sent:
    key: str | None       # the report id the system gave (the message id for the bare chain)
    start: float          # perf_counter: when it was sent (closed loop) or due (open loop)
    http_ms: float
    error: str | None = None


def _send(send, index: int, due: float | None, sessions: threading.local) -> Sent:
    session = getattr(sessions, "session", None) or requests.Session()
    sessions.session = session
    start = time.perf_counter()
    try:
        key, error = send(session, index), None
    except requests.RequestException as exc:
        key, error = None, f"{type(exc).__name__}: {str(exc)[:160]}"
    except BenchError as exc:
        key, error = None, str(exc)
    return Sent(key, start if due is None else due, (time.perf_counter() - start) * 1000, error)


def pooled(workers: int, submit_all) -> list:
    """The results of the futures `submit_all(pool)` returns; on an interrupt, what has not started is dropped."""
    pool = ThreadPoolExecutor(workers)
    try:
        return [future.result() for future in submit_all(pool)]
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


def closed_loop(send, count: int, threads: int) -> list[Sent]:
    """`count` calls of send(session, index), `threads` in flight at all times."""
    sessions = threading.local()
    return pooled(threads, lambda pool: [pool.submit(_send, send, index, None, sessions) for index in range(count)])


def open_loop(send, rate: float, count: int, threads: int) -> list[Sent]:
    """One call every 1/rate s whatever the answers; each one's start is when it was due, so a late start (every
    thread busy) counts in its latency."""
    sessions = threading.local()
    first = time.perf_counter() + 0.1

    def submit_all(pool):
        futures = []
        for index in range(count):
            due = first + index / rate
            time.sleep(max(0.0, due - time.perf_counter()))
            futures.append(pool.submit(_send, send, index, due, sessions))
        return futures
    return pooled(max(threads, min(256, int(rate) + 1)), submit_all)


# ---- measuring ----------------------------------------------------------------------------------------------------
@dataclass
class Run:
    what: str
    sent: list[Sent]
    arrivals: Arrivals
    state_of: object = None     # key → its state now, for what did not reach the end (else the last event seen)

    @property
    def keys(self) -> list[str]:
        return [s.key for s in self.sent if s.key]

    def latencies_ms(self) -> list[float]:
        with self.arrivals.lock:
            return [(self.arrivals.reached[s.key] - s.start) * 1000 for s in self.sent
                    if s.key in self.arrivals.reached]

    def rate(self) -> float:
        """Reached per second, from the first send to the last arrival."""
        with self.arrivals.lock:
            ends = [self.arrivals.reached[s.key] for s in self.sent if s.key in self.arrivals.reached]
        if not ends:
            return 0.0
        return len(ends) / max(1e-9, max(ends) - min(s.start for s in self.sent))

    def report(self, unit: str) -> list[str]:
        latencies = self.latencies_ms()
        reached = len(latencies)
        lines = [f"{self.what}: {self.rate():,.1f} {unit}/s  ({reached}/{len(self.sent)} reached the end)"]
        errors = Counter(s.error for s in self.sent if s.error)
        for error, times in errors.most_common(3):
            lines.append(f"  ! {times} × {error}")
        if reached < len(self.keys):
            with self.arrivals.lock:
                missing = [key for key in self.keys if key not in self.arrivals.reached]
                seen = dict(self.arrivals.last_state)
            stuck = Counter(self.state_of(key) if self.state_of else seen.get(key, "no event") for key in missing[:50])
            lines.append(f"  ! {len(missing)} not at the end when the wait ended; by state (of 50 at most): "
                         + ", ".join(f"{state} {n}" for state, n in stuck.most_common()))
        if latencies:
            lines.append("  " + summary("sent → end", latencies))
        lines.append("  " + summary("HTTP submit", [s.http_ms for s in self.sent if not s.error] or [0.0]))
        return lines


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("inf")


def wait_budget(count: int, rate_hint: float) -> float:
    return 60 + count / max(rate_hint, 1.0)


def measure_bare(amqp_uri: str, workdir: Path, args, payload_bytes: int, meter) -> tuple[Run, _costs.Cost]:
    port = free_port()
    logs = workdir / "bare"
    logs.mkdir()
    processes = bare_chain.start(amqp_uri, port, logs)
    with contextlib.ExitStack() as local:
        local.callback(runner.stop, processes)
        arrivals = Arrivals(amqp_uri, f"{bare_chain.LAST}.events", [bare_chain.DONE], bare_done).start_listening()
        local.callback(arrivals.stop)
        wait_answering({"BareSource": f"http://127.0.0.1:{port}/healthz"}, processes, logs)
        run_id = f"{os.getpid()}-{random.randrange(16**8):08x}"

        def send(session, index) -> str:
            key = f"bare-{run_id}-{index}"
            answer = session.post(f"http://127.0.0.1:{port}/start", timeout=30, data=json.dumps(
                {"id": key, "pad": "x" * max(0, payload_bytes - len(json.dumps({"id": key, "pad": ""})))}))
            if answer.status_code != 201:
                raise BenchError(f"bare source answered {answer.status_code}")
            return key

        # a hop whose queue is not bound yet loses what reaches it: send until one gets through the whole chain
        deadline, probe = time.monotonic() + STARTUP_SECONDS, 0
        while time.monotonic() < deadline:
            probe -= 1    # negative indexes: the probes' keys are not the measured ones
            sent = _send(send, probe, None, threading.local())
            if sent.key:
                arrivals.wait([sent.key], 1.0, 1.0)
            else:
                time.sleep(1)
            if sent.key in arrivals.reached:
                break
        else:
            raise BenchError(f"nothing got through the bare chain in {STARTUP_SECONDS:g} s ({sent.error or 'lost'})"
                             f"\n{log_tails(bare_chain.SERVICES, logs)}")
        metered = meter({name: process.pid for name, process in processes.items()})
        sent = closed_loop(send, args.n, args.threads)
        arrivals.wait([s.key for s in sent], wait_budget(args.n, 50), idle=20)
        cost = metered.stop(len(sent))
        return Run(f"bare nameko chain ({bare_chain.HOPS} hops, {args.n} messages of ~{payload_bytes:,} B, "
                   f"{args.threads} threads)", sent, arrivals), cost


def prepare_reports(count: int, pack_id: str, photo: str, api: Api, workdir: Path, first: int) -> list:
    """(report, photo file) pairs, made before timing: a normal report of the pack at a random place in its
    wards, and a photo of its own taken now by the system's clock, with the report's position in its EXIF."""
    rng = random.Random()
    taken = api.now().astimezone(clock_tz(get_pack(pack_id).meta))
    photos = workdir / "photos"
    photos.mkdir(exist_ok=True)
    scenes = [phone_scene(seed) for seed in range(PHONE_SCENES)] if photo == "phone" else []
    reports = [make_report(pack_id, "good", rng, taken, rng.randrange(10**8))[0] for _ in range(count)]

    def make(index: int) -> tuple[dict, Path]:
        report, seed = reports[index], first + index
        gps = (report["location"]["lat"], report["location"]["lon"])
        data = variant_jpeg(scenes[index % len(scenes)], taken, gps, seed=seed) if scenes else \
            camera_jpeg(taken, gps, seed=seed, size=(800, 600), quality=95)
        path = photos / f"{seed}.jpg"
        path.write_bytes(data)
        return report, path

    return pooled(2, lambda pool: [pool.submit(make, index) for index in range(count)])   # Pillow: no GIL


def paht_sender(api: Api, prepared: list, timeout: float):
    def send(session, index) -> str:
        report, photo = prepared[index]
        files = [("report", (None, json.dumps(report, ensure_ascii=False), "application/json")),
                 ("media", (photo.name, photo.read_bytes(), "image/jpeg"))]
        answer = session.post(f"{api.base}/api/v1/reports", files=files, timeout=timeout)
        if answer.status_code != 201:
            raise BenchError(f"HTTP {answer.status_code} {answer.text[:160]}")
        return answer.json()["id"]
    return send


def report_state(api: Api, report_id: str) -> str:
    try:
        return requests.get(f"{api.base}/api/v1/reports/{report_id}", timeout=10).json().get("state", "unknown")
    except (requests.RequestException, ValueError):
        return "unknown"


def warm_up(api: Api, arrivals: Arrivals, args, workdir: Path) -> None:
    """A few reports first (rule packs, ward index, connections): they must reach `dispatched`, or the settings
    are wrong and nothing after would mean anything."""
    count = max(2, args.threads)
    prepared = prepare_reports(count, args.pack, "small", api, workdir, first=10**6)
    sent = closed_loop(paht_sender(api, prepared, 30), count, args.threads)
    errors = [s.error for s in sent if s.error]
    if errors:
        raise BenchError(f"warm-up submissions refused: {errors[0]}"
                         + (" (start the system with PAHT_RATE_LIMIT_PER_MINUTE=0)" if "429" in errors[0] else ""))
    arrivals.wait([s.key for s in sent], STARTUP_SECONDS, idle=30)
    missing = [s.key for s in sent if s.key not in arrivals.reached]
    if len(missing) == len(sent):
        view = requests.get(f"{api.base}/api/v1/reports/{missing[0]}", timeout=10).json()
        raise BenchError(f"no warm-up report reached dispatched (bus: {arrivals.error or 'ok'}); {missing[0]} is "
                         f"{view.get('state')}: {json.dumps(view, ensure_ascii=False)[:600]}")
    if missing:
        print(f"note: {len(missing)} of {len(sent)} warm-up reports not dispatched")


# ---- printing -----------------------------------------------------------------------------------------------------
def verdict(met: bool) -> str:
    return "MET" if met else "NOT MET"


def targets(args, paht: Run, bare: Run | None) -> list[str]:
    lines = ["targets (issue 15):"]
    rate, complete = paht.rate(), len(paht.latencies_ms()) == len(paht.sent)
    closed = args.rate is None
    row = "  {:<48} {}"
    for kind, target in (("small", SMALL_TARGET), ("phone", PHONE_TARGET)):
        name = f"≥ {target:g} reports/s end to end, {kind} photos"
        if closed and args.photo == kind:
            lines.append(row.format(name, f"{rate:,.1f}/s  {verdict(rate >= target and complete)}"))
        else:
            how = "a closed-loop run" if not closed else f"--photo {kind}"
            lines.append(row.format(name, f"not measured (needs {how})"))
    name = f"≥ {RATIO_TARGET:g} × the bare chain, small photos"
    if closed and args.photo == "small" and bare is not None and bare.rate() > 0:
        ratio = rate / bare.rate()
        lines.append(row.format(name, f"{ratio:.2f}  {verdict(ratio >= RATIO_TARGET and complete)}"))
    else:
        lines.append(row.format(name, "not measured (needs a closed-loop run with small photos)"))
    name = f"open loop {OPEN_LOOP_RATE:g}/s: p99 submit → dispatched < {OPEN_LOOP_P99_MS / 1000:g} s"
    if not closed and args.rate >= OPEN_LOOP_RATE:
        p99 = percentile(paht.latencies_ms(), 0.99)
        lines.append(row.format(name, f"p99 {p99:,.0f} ms at {args.rate:g}/s ({args.photo} photos)  "
                                      f"{verdict(p99 < OPEN_LOOP_P99_MS and complete)}"))
    else:
        lines.append(row.format(name, f"not measured (needs --rate {OPEN_LOOP_RATE:g} --seconds 20)"))
    if not complete:
        lines.append("  (a run where some reports did not reach dispatched meets no target)")
    return lines


# ---- profiling ----------------------------------------------------------------------------------------------------
@contextlib.contextmanager
def profiled(directory: str | None, processes: dict):
    """py-spy profiles of the services while the timed run lasts, where py-spy is installed: collapsed stacks
    (`<service>.folded`, for any flame-graph tool) and, printed, where each service spent its samples."""
    spy = shutil.which("py-spy") if directory else None
    if directory and not spy:
        print("--profile: py-spy not installed, not profiling")
    if directory and spy and not processes:
        print("--profile: the services of a running system (--api) are not ours to attach to, not profiling")
    recorders = []
    if spy and processes:
        Path(directory).mkdir(parents=True, exist_ok=True)
        for name, process in processes.items():
            recorders.append(subprocess.Popen(
                [spy, "record", "--pid", str(process.pid), "--nonblocking", "--rate", str(PROFILE_HZ),
                 "--format", "raw", "--output",
                 str(Path(directory).resolve() / f"{name}.folded")], stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE))
    try:
        yield
    finally:
        for recorder in recorders:
            recorder.send_signal(signal.SIGINT)   # py-spy writes its flame graph when interrupted
        for recorder in recorders:
            try:
                recorder.wait(30)
            except subprocess.TimeoutExpired:
                recorder.kill()
        if recorders:
            print(f"profiles: {Path(directory).resolve()}/<service>.folded")
            for name in processes:
                print_profile(name, Path(directory) / f"{name}.folded")


def print_cpu(cost: _costs.Cost) -> None:
    """CPU each service spent on the timed run, per report (only for the services this bench started)."""
    if cost.services:
        print(f"  CPU per report: {sum(cost.services.values()) * 1000 / cost.count:.1f} ms in all — " + ", ".join(
            f"{name} {seconds * 1000 / cost.count:.1f}"
            for name, seconds in sorted(cost.services.items(), key=lambda x: -x[1])))


def print_profile(service: str, folded: Path, top: int = 12) -> None:
    """A service's samples (PROFILE_HZ a second while not idle) and the project's functions they were spent in
    (inclusive: a function counts with what it called)."""
    if not folded.exists():
        return
    total, inclusive = 0, Counter()
    for line in folded.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        total += int(count)
        frames = {frame.split(" (")[0] + " " + frame.split("(")[-1].split(":")[0].rsplit("/", 1)[-1]
                  for frame in stack.split(";") if "(services/" in frame or "(paht/" in frame}
        for frame in frames:
            inclusive[frame] += int(count)
    print(f"  {service}: {total} samples ≈ {total / PROFILE_HZ:.1f} s busy")
    for frame, count in inclusive.most_common(top):
        print(f"    {100 * count / max(total, 1):5.1f} %  {frame}")


# ---- the run ------------------------------------------------------------------------------------------------------
def run(args, workdir: Path, stack: contextlib.ExitStack) -> int:
    processes: dict = {}
    if args.api:
        var = Path(args.var).resolve()
        tokens_path = var / "demo-tokens.json"
        if not tokens_path.exists():
            raise BenchError(f"{tokens_path} not found: --var must be the running system's var directory (its demo "
                             "tokens and account secret sign the bench's reporters in)")
        os.environ.update({"PAHT_VAR_DIR": str(var), "PAHT_ENV": "dev"})   # accounts.proof: the system's secret
        system_amqp, api = args.amqp, Api(args.api, json.loads(tokens_path.read_text()))
        try:
            requests.get(f"{api.base}/healthz", timeout=5).raise_for_status()
        except requests.RequestException as exc:
            raise BenchError(f"the API at {api.base} does not answer ({exc})") from None
        vhost = Vhost(args.amqp)
        bare_amqp = vhost.make()
        stack.callback(vhost.delete)
    else:
        if not runner.broker_reachable(args.amqp):
            raise BenchError(f"RabbitMQ is not reachable at {args.amqp}: start it (scripts/ensure-rabbitmq) or "
                             "give --amqp")
        vhost = Vhost(args.amqp)
        system_amqp = bare_amqp = vhost.make()
        stack.callback(vhost.delete)
        print(f"starting PAHT ({len(runner.SERVICES)} services, var {workdir / 'var'}) …", flush=True)
        base, processes = start_paht(workdir, system_amqp, stack)
        api = Api(base, json.loads((workdir / "var" / "demo-tokens.json").read_text()))

    arrivals = Arrivals(system_amqp, "intake.events", ("transitioned.dispatched.*",), transitioned)
    arrivals.start_listening()
    stack.callback(arrivals.stop)
    try:
        now = into_office_hours(api, [args.pack])
    except KeyError:
        raise BenchError("the system's clock is outside office hours and --var holds no admin token to move it") \
            from None
    if calendar_for(get_pack(args.pack).meta).next_opening(now) > now + timedelta(seconds=1):
        print(f"note: the system's time {now:%d/%m %H:%M} is outside {args.pack}'s office hours and could not be "
              "moved: reports may wait for the intake window")
    print(f"system time {now.astimezone(clock_tz(get_pack(args.pack).meta)):%a %d/%m %H:%M}; warming up …",
          flush=True)
    warm_up(api, arrivals, args, workdir)
    with arrivals.lock:
        event_bytes = int(sum(arrivals.sizes) / len(arrivals.sizes))

    bus = _costs.BusCounter(vhost.host, vhost.auth, vhost.made if vhost.how == "api" else None)
    broker = _costs.broker_pid() if vhost.host in ("127.0.0.1", "localhost") else None

    def meter(pids):
        return _costs.Meter(pids, bus, broker)

    count = round(args.rate * args.seconds) if args.rate else args.n
    bare = bare_cost = None
    if args.rate is None:
        args.n = count
        bare, bare_cost = measure_bare(bare_amqp, workdir, args, args.payload_bytes or event_bytes, meter)
        print("\n".join(bare.report("msgs")), flush=True)

    print(f"preparing {count} reports with {args.photo} photos …", flush=True)
    prepared = prepare_reports(count, args.pack, args.photo, api, workdir, first=0)
    photo_kb = sum(path.stat().st_size for _, path in prepared) / len(prepared) / 1024
    send = paht_sender(api, prepared, 120 if args.photo == "phone" else 30)
    metered = meter({name: process.pid for name, process in processes.items()})
    with profiled(args.profile, processes):
        if args.rate is None:
            sent = closed_loop(send, count, args.threads)
            what = f"PAHT end to end ({count} reports, {args.photo} photos ~{photo_kb:,.0f} kB, {args.threads} threads)"
        else:
            sent = open_loop(send, args.rate, count, args.threads)
            what = (f"PAHT open loop ({args.rate:g}/s for {args.seconds:g} s = {count} reports, {args.photo} photos "
                    f"~{photo_kb:,.0f} kB)")
        arrivals.wait([s.key for s in sent], wait_budget(count, 10), idle=30)
    paht = Run(what, sent, arrivals, lambda key: report_state(api, key))
    cost = metered.stop(count)
    print("\n".join(paht.report("reports")))
    print_cpu(cost)
    print(f"  intake's announcements: ~{event_bytes:,} B each")
    if bare is not None and bare.rate() > 0:
        print(f"ratio to the bare chain: {paht.rate() / bare.rate():.3f}")
    print("\n".join(targets(args, paht, bare)))
    if processes:
        target = SMALL_TARGET if args.photo == "small" else PHONE_TARGET
        print("\n".join(_costs.where_the_time_goes(cost, bare_cost, os.cpu_count() or 1, args.rate or target)))
    if args.profile and processes:
        print("\n".join(_costs.profile_layers(Path(args.profile), processes)))
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=600, help="reports (and bare-chain messages) in a closed loop")
    parser.add_argument("--threads", type=int, default=8, help="submitting threads (closed loop: in flight)")
    parser.add_argument("--photo", choices=("small", "phone"), default="small",
                        help="small: 800×600 (~30 kB); phone: 4000×3000 12 MP (~5 MB)")
    parser.add_argument("--rate", type=float, default=None, help="open loop: reports a second, whatever the answers")
    parser.add_argument("--seconds", type=float, default=20.0, help="open loop: for how long")
    parser.add_argument("--pack", default="thua-thien-hue-2022")
    parser.add_argument("--api", default=None, help="use a running system (e.g. http://127.0.0.1:8000)")
    parser.add_argument("--amqp", default=settings.amqp_uri(), help="its broker (default AMQP_URI)")
    parser.add_argument("--var", default="var", help="with --api: the running system's var directory")
    parser.add_argument("--payload-bytes", type=int, default=None,
                        help="bare chain's event size (default: the mean size of intake's warm-up announcements)")
    parser.add_argument("--profile", metavar="DIR", default=None,
                        help="py-spy profiles of the services (if installed): where each one's CPU went")
    parser.add_argument("--keep", action="store_true", help="keep the temp directory (logs, var, photos)")
    args = parser.parse_args(argv)
    if args.n < 1 or args.threads < 1 or (args.rate is not None and (args.rate <= 0 or args.seconds <= 0)):
        parser.error("--n, --threads, --rate and --seconds must be positive")

    return measured("throughput", args.keep, lambda workdir, stack: run(args, workdir, stack))


if __name__ == "__main__":
    sys.exit(main())
