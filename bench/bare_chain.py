"""The yardstick of bench/throughput.py: a bare nameko event chain of as many hops as PAHT's path from submission to
dispatch. `bare_source` takes an HTTP POST and dispatches its JSON body; `bare_hop1` … `bare_hop5` each handle the
event and dispatch it on; the benchmark reads `bare_hop5`'s `done` off the bus, as it reads intake's `dispatched`.
Plain nameko: default event handlers (durable classic queues), no store, no validation, one service per process as
`paht up` runs PAHT's. Started and stopped by bench/throughput.py (`start`), not run on its own."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from nameko.events import EventDispatcher, event_handler
from nameko.web.handlers import http

HOP, DONE = "hop", "done"
HOPS = 5
LAST = f"bare_hop{HOPS}"


class BareSource:
    name = "bare_source"
    dispatch = EventDispatcher()

    @http("POST", "/start")
    def start(self, request):
        self.dispatch(HOP, json.loads(request.get_data()))
        return 201, ""

    @http("GET", "/healthz")
    def healthz(self, request):
        return 200, "ok"


def _hop(number: int) -> type:
    source = "bare_source" if number == 1 else f"bare_hop{number - 1}"
    next_event = DONE if number == HOPS else HOP

    def forward(self, payload):
        self.dispatch(next_event, payload)

    return type(f"BareHop{number}", (), {"name": f"bare_hop{number}", "dispatch": EventDispatcher(),
                                         "forward": event_handler(source, HOP)(forward)})


BareHop1, BareHop2, BareHop3, BareHop4, BareHop5 = (_hop(number) for number in range(1, HOPS + 1))
SERVICES = ("BareSource", "BareHop1", "BareHop2", "BareHop3", "BareHop4", "BareHop5")


def start(amqp_uri: str, http_port: int, workdir: Path) -> dict[str, subprocess.Popen]:
    """Every bare service in a process of its own (`nameko run`, PAHT's worker count and serializer); logs and
    config under `workdir`. Stop them with paht.runner.stop."""
    root = Path(__file__).resolve().parent.parent
    config = workdir / "bare_chain.yml"
    config.write_text(json.dumps({"AMQP_URI": amqp_uri, "WEB_SERVER_ADDRESS": f"127.0.0.1:{http_port}",
                                  "max_workers": 10, "serializer": "json"}))   # JSON is YAML
    nameko = Path(sys.executable).with_name("nameko")
    processes = {}
    for service in SERVICES:
        with open(workdir / f"{service}.log", "ab") as log:
            processes[service] = subprocess.Popen(
                [str(nameko), "run", "--config", str(config), f"bench.bare_chain:{service}"], cwd=root,
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    return processes
