"""Where bench/throughput.py's time goes: CPU of the services and of the broker, messages the bus moved (from the
RabbitMQ management API of the bench's own vhost), what that costs at the bare chain's price per message, and the
layers py-spy's samples fell in. Linux /proc for CPU; the broker's share only when it runs on this machine."""
from __future__ import annotations

import os
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import requests

# a sample belongs to the layer of its innermost frame that has one (json and the standard library take the layer
# of whoever called them); first match wins
LAYERS = (
    ("bus", ("/kombu/", "/amqp/", "nameko/amqp/", "nameko/messaging", "nameko/events", "paht/bus")),
    ("store", ("paht/embedded", "/sqlite3/", "/pymongo/", "paht/mediastore")),
    ("pixels", ("/PIL/", "/imagehash/", "/numpy/", "/scipy/", "pillow_heif", "services/verification/media")),
    ("HTTP", ("/werkzeug/", "nameko/web/", "eventlet/wsgi", "services/intake/uploads", "paht/web")),
    ("rules", ("/durable/", "paht/rules/")),
    ("validation", ("/pydantic/", "/pydantic_core/")),
    ("nameko's worker", ("nameko/containers", "nameko/extensions", "nameko/rpc")),
)
# innermost frames of a thread that waits (the event loop's poll, a pool thread's queue): not work, left out
WAITING = ("Hub.do_poll ", "Queue.get ", "Condition.wait ", "Event.wait ")


def layer_of(frames: list[str]) -> str:
    """Green-thread switching (eventlet) takes the layer of whoever switched; a stack of nothing else is the
    worker's event loop."""
    for frame in reversed(frames):
        where = "/" + frame.rsplit("(", 1)[-1]    # py-spy names site-packages files from the package: "PIL/…"
        for name, markers in LAYERS:
            if any(marker in where for marker in markers):
                return name
        if "(services/" in frame or "(paht/" in frame:
            return "the service's own code"
    return "nameko's worker" if any("eventlet/" in frame for frame in frames) else "the service's own code"


def layers(folded: Path) -> tuple[int, Counter]:
    """(samples, samples per layer) of a py-spy collapsed-stack file, waiting left out."""
    total, per_layer = 0, Counter()
    for line in folded.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = stack.split(";")
        if count.isdigit() and not frames[-1].startswith(WAITING):
            total += int(count)
            per_layer[layer_of(frames)] += int(count)
    return total, per_layer


def broker_pid() -> int | None:
    """RabbitMQ's Erlang VM on this machine, if there is one to read."""
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == "beam.smp":
                    return int(entry.name)
            except OSError:
                continue
    return None


def cpu_of(pids: dict[str, int]) -> dict[str, float]:
    """User + system CPU seconds each process (with its threads) has used so far."""
    ticks = os.sysconf("SC_CLK_TCK")
    used = {}
    for name, pid in pids.items():
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            used[name] = (int(fields[11]) + int(fields[12])) / ticks
        except (OSError, IndexError, ValueError):
            pass
    return used


class BusCounter:
    """Messages published into and delivered out of one vhost, from the management API's totals. The broker
    refreshes them every 5 s (collect_statistics_interval): a reading waits until two readings further apart
    agree."""

    def __init__(self, host: str, auth: tuple[str, str], vhost: str | None):
        self.url = f"http://{host}:15672/api/vhosts/{quote(vhost, safe='')}" if vhost else None
        self.auth = auth

    def _read(self) -> tuple[int, int] | None:
        try:
            stats = requests.get(self.url, auth=self.auth, timeout=5).json().get("message_stats") or {}
        except (requests.RequestException, ValueError):
            return None
        return int(stats.get("publish", 0)), int(stats.get("deliver_get", 0))

    def settled(self, patience: float = 40.0) -> tuple[int, int] | None:
        if self.url is None:
            return None
        deadline, last = time.monotonic() + patience, self._read()
        while last is not None and time.monotonic() < deadline:
            time.sleep(5.5)
            current = self._read()
            if current == last:
                return current
            last = current
        return last


@dataclass
class Cost:
    """One measured run: how many went through, the CPU the services and the broker spent, the messages moved."""
    count: int
    services: dict[str, float]        # CPU seconds per service
    broker: float | None
    published: int | None
    delivered: int | None

    def per_item_ms(self) -> float:
        return (sum(self.services.values()) + (self.broker or 0.0)) * 1000 / self.count

    def moved(self) -> float | None:
        """Messages moved (published + delivered) per item."""
        if self.published is None:
            return None
        return (self.published + self.delivered) / self.count


class Meter:
    """CPU and bus totals before a run; `stop` gives the run's Cost."""

    BROKER = "\0broker"    # its key among the pids: no service is named so

    def __init__(self, pids: dict[str, int], bus: BusCounter, broker: int | None):
        self.pids, self.bus = {**pids, self.BROKER: broker} if broker else dict(pids), bus
        self.cpu = cpu_of(self.pids)
        self.bus_before = bus.settled()

    def stop(self, count: int) -> Cost:
        cpu = cpu_of(self.pids)
        spent = {name: cpu[name] - self.cpu[name] for name in cpu if name in self.cpu}
        bus_after = self.bus.settled() if self.bus_before is not None else None
        published = delivered = None
        if bus_after is not None:
            published, delivered = (after - before for after, before in zip(bus_after, self.bus_before))
        return Cost(count, spent, spent.pop(self.BROKER, None), published, delivered)


def where_the_time_goes(paht: Cost, bare: Cost | None, cores: int, target: float) -> list[str]:
    """The cost model: what a report costs, what the bus alone would cost at the bare chain's price, and so the
    ceiling of this design on this machine, against the target rate."""
    lines = ["where the time goes (per report, this run):"]
    services_ms = sum(paht.services.values()) * 1000 / paht.count
    broker = f" + broker {paht.broker * 1000 / paht.count:.1f} ms" if paht.broker is not None else \
        " (the broker's CPU is not on this machine)"
    total = paht.per_item_ms()
    lines.append(f"  CPU: services {services_ms:.1f} ms{broker} = {total:.1f} ms → {cores} cores carry at most "
                 f"{cores * 1000 / total:,.0f} reports/s; {target:g}/s needs ≤ {cores * 1000 / target:.1f} ms")
    if paht.moved() is None:
        lines.append("  bus: not counted (no management API on the bench's own vhost)")
        return lines
    lines.append(f"  bus: {paht.published / paht.count:.1f} messages published + {paht.delivered / paht.count:.1f} "
                 f"delivered per report")
    if bare is not None and bare.moved():
        per_move = bare.per_item_ms() / bare.moved()
        bus_ms = per_move * paht.moved()
        lines.append(f"  the bare chain: {bare.published / bare.count:.1f} + {bare.delivered / bare.count:.1f} per "
                     f"message for {bare.per_item_ms():.1f} ms CPU (its services and the broker): {per_move:.2f} ms "
                     f"per message moved")
        work_ms, budget = max(0.0, total - bus_ms), cores * 1000 / target
        lines.append(f"  at that price PAHT's bus traffic alone takes {bus_ms:.1f} ms a report (ceiling "
                     f"{cores * 1000 / bus_ms:,.0f}/s with no work at all); the other {work_ms:.1f} ms is the work: "
                     "stores, photos, rules, validation, HTTP")
        if total > budget:
            lines.append(f"  what would change it: {target:g}/s leaves {budget:.1f} ms a report; with the bus as it is"
                         f" the work must fit in {max(0.0, budget - bus_ms):.1f} ms (now {work_ms:.1f}), or the bus "
                         "must move fewer or cheaper messages, or the services get more cores")
    return lines


def profile_layers(directory: Path, services) -> list[str]:
    """Per service, the share of its samples in each layer."""
    lines = ["  profile by layer (share of each service's samples):"]
    for service in services:
        folded = directory / f"{service}.folded"
        if not folded.exists():
            continue
        total, per_layer = layers(folded)
        if total:
            lines.append(f"    {service:<12} " + ", ".join(
                f"{name} {100 * n / total:.0f} %" for name, n in per_layer.most_common() if n / total >= 0.02))
    return lines
