"""End-to-end time of one report through the running system (`make up` first): submission → dispatched, and the
whole walk to published with the agency's three actions. Run: .venv/bin/python bench/e2e.py [--n 20]"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._stats import summary  # noqa: E402
from paht import accounts  # noqa: E402
from paht.demo import Api  # noqa: E402
from paht.demo_media import camera_jpeg  # noqa: E402
from paht.schemas import lead_agency  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=20)
    parser.add_argument("--api", default="http://127.0.0.1:8000")
    args = parser.parse_args()
    tokens = json.loads(Path("var/demo-tokens.json").read_text())
    api = Api(args.api, tokens)
    to_dispatch, to_publish = [], []
    for i in range(args.n):
        account = f"bench-{i}-{time.time_ns()}"
        report = {"pack": "thua-thien-hue-2022", "channel": "app",
                  "reporter": {"name": "Bench", "phone": f"0988{i:06d}", "email": "b@example.vn",
                               "account_id": account, "account_proof": accounts.proof(account)},
                  "description": f"Ổ gà lớn trên đường số {i} ({time.time_ns()})", "category": "roads_traffic",
                  "location": {"lat": 16.4637, "lon": 107.5909, "source": "gps"}}
        start = time.perf_counter()
        report_id = api.submit(report, [camera_jpeg(api.now(), seed=i)])["id"]
        view = api.wait(report_id, lambda v: v["state"] == "dispatched", timeout=30)
        to_dispatch.append((time.perf_counter() - start) * 1000)
        agency = lead_agency(view)
        staff, leader = (tokens["thua-thien-hue-2022"][agency][role] for role in ("agency_staff", "agency_leader"))
        api.staff(report_id, "acknowledge", staff)
        api.staff(report_id, "submit_result", staff, [camera_jpeg(api.now(), seed=1000 + i)], result_text="Đã vá.")
        api.staff(report_id, "approve", leader)
        api.staff(report_id, "publish", tokens["operator"])
        api.wait(report_id, lambda v: v["state"] == "published", timeout=30)
        to_publish.append((time.perf_counter() - start) * 1000)
    print(summary("submission → dispatched", to_dispatch))
    print(summary("submission → published (4 staff actions)", to_publish))


if __name__ == "__main__":
    main()
