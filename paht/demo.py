"""`paht demo`: generated reports through the running system (HTTP only), then a summary of what happened."""
from __future__ import annotations

import json
import random
import time
from collections import Counter
from datetime import datetime, timedelta

import requests

from . import accounts, settings
from .demo_media import camera_jpeg
from .geo import WardIndex
from .rules import get_pack, list_packs
from .schemas import lead_agency
from .worktime import calendar_for

SCENARIOS = ["good"] * 5 + ["identity_check", "no_media", "old_photo", "no_gps", "urgent_fire"]
DESCRIPTIONS = {
    "roads_traffic": "Ổ gà lớn giữa đường, xe máy dễ té ngã, đề nghị sửa chữa sớm.",
    "lighting_power": "Đèn đường không sáng nhiều đêm liền, khu vực rất tối.",
    "waste_sanitation": "Rác thải tập kết bừa bãi bên đường, bốc mùi hôi thối.",
    "water_drainage": "Cống thoát nước bị tắc, mưa xuống là ngập cả đoạn đường.",
    "fire_rescue": "Đang có cháy tại nhà dân, khói bốc lên rất nhiều, cần hỗ trợ khẩn cấp!",
}


class Api:
    def __init__(self, base: str, tokens: dict):
        self.base, self.tokens = base.rstrip("/"), tokens

    def submit(self, report: dict, photos: list[bytes]):
        files = [("report", (None, json.dumps(report, ensure_ascii=False), "application/json"))]
        files += [("media", (f"photo{i}.jpg", data, "image/jpeg")) for i, data in enumerate(photos)]
        answer = requests.post(f"{self.base}/api/v1/reports", files=files, timeout=30)
        answer.raise_for_status()
        return answer.json()

    def view(self, report_id: str) -> dict:
        return requests.get(f"{self.base}/api/v1/reports/{report_id}", timeout=10).json()

    def staff(self, report_id: str, action: str, token: str, photos=(), **body) -> requests.Response:
        """A staff action; with `photos` (JPEG bytes) sent as multipart: a result's "after" photos."""
        url, headers = f"{self.base}/api/v1/staff/reports/{report_id}/{action}", {"Authorization": f"Bearer {token}"}
        if photos:
            files = [("action", (None, json.dumps(body, ensure_ascii=False), "application/json"))]
            files += [("media", (f"after{i}.jpg", data, "image/jpeg")) for i, data in enumerate(photos)]
            return requests.post(url, files=files, headers=headers, timeout=30)
        return requests.post(url, json=body, headers=headers, timeout=30)

    def rate(self, report_id: str, tracking_token: str, level: str) -> requests.Response:
        return requests.post(f"{self.base}/api/v1/reports/{report_id}/rating", json={"level": level},
                             headers={"X-Tracking-Token": tracking_token}, timeout=30)

    def now(self) -> datetime:
        """The system's time (its clock may have been moved forward by an earlier demo)."""
        return datetime.fromisoformat(requests.get(f"{self.base}/api/v1/_clock", timeout=10).json()["now"])

    def advance(self, seconds: float) -> bool:
        return requests.post(f"{self.base}/api/v1/_clock/advance", json={"seconds": seconds}, timeout=10,
                             headers={"Authorization": f"Bearer {self.tokens['admin']}"}).ok

    def wait(self, report_id: str, predicate, timeout: float = 30.0) -> dict:
        deadline = time.monotonic() + timeout
        view = self.view(report_id)
        while not predicate(view) and time.monotonic() < deadline:
            time.sleep(0.05)
            view = self.view(report_id)
        return view


def make_report(pack_id: str, scenario: str, rng: random.Random, now, seed: int) -> tuple[dict, list[bytes]]:
    pack = get_pack(pack_id)
    lat, lon = WardIndex.of(pack).random_point(rng)
    tz = clock_tz(pack.meta)
    category = "fire_rescue" if scenario == "urgent_fire" else rng.choice(
        ["roads_traffic", "lighting_power", "waste_sanitation", "water_drainage"])
    taken = (now - timedelta(hours=30 if scenario == "old_photo" else rng.uniform(0.1, 3))).astimezone(tz)
    account = f"demo-{seed}" if scenario != "identity_check" else None
    report = {
        "pack": pack_id, "channel": "hotline" if scenario == "identity_check" else rng.choice(["app", "portal"]),
        "reporter": {"name": f"Người dân {seed}", "phone": f"09{seed:08d}", "email": f"nguoidan{seed}@example.vn",
                     "address": "Số 1 đường Demo", "citizen_id": f"0790{seed:08d}",
                     # a signed-in app account; hotline and e-mail reporters get the first-time identity check
                     "account_id": account, "account_proof": accounts.proof(account) if account else None},
        "description": DESCRIPTIONS[category] + f" (mã demo {seed})",
        "category": category, "urgent": scenario == "urgent_fire",
        "location": None if scenario == "no_gps" else {"lat": lat, "lon": lon, "source": "gps"},
    }
    photos = [] if scenario == "no_media" else [camera_jpeg(taken, None, seed=seed)]
    return report, photos


def clock_tz(meta: dict):
    from zoneinfo import ZoneInfo
    return ZoneInfo(meta.get("timezone", "Asia/Ho_Chi_Minh"))


def work_report(api: Api, view: dict, tokens: dict, log: list) -> None:
    """An agency acknowledges, submits a result, its leader approves, the centre publishes."""
    lead = lead_agency(view)
    accounts_of_lead = tokens.get(view["pack"], {}).get(lead)
    if accounts_of_lead is None:
        log.append(f"{view['id']}: no demo account for {lead} ({view['pack']})")
        return
    staff, leader = accounts_of_lead["agency_staff"], accounts_of_lead["agency_leader"]
    after = [camera_jpeg(api.now(), seed=hash(view["id"]) % 10**6)]
    steps = [("acknowledge", staff, {}, ()),
             ("submit_result", staff, {"result_text": "Đơn vị đã kiểm tra hiện trường và khắc phục xong."}, after),
             ("approve", leader, {}, ()),
             ("publish", tokens["operator"], {}, ())]          # the centre checks and publishes
    for action, token, body, photos in steps:
        answer = api.staff(view["id"], action, token, photos, **body)
        if not answer.ok:
            log.append(f"{view['id']}: {action} → {answer.status_code} {answer.text[:200]}")
            return


def into_office_hours(api: Api, packs: list[str]) -> datetime:
    """Reports sent outside the packs' hours wait for the morning (that is the rule); the demo moves the
    system's clock to the next time every pack is open instead of waiting."""
    now = api.now()
    opening = max(calendar_for(get_pack(pack).meta).next_opening(now) for pack in packs)
    if opening > now:
        print(f"outside office hours: moving the clock to {opening + timedelta(hours=1):%d/%m %H:%M}")
        api.advance((opening - now).total_seconds() + 3600)
        now = api.now()
    return now


def run_demo(args) -> int:
    settings.assume_local_system()
    var = settings.var_dir()
    tokens_path = var / "demo-tokens.json"
    if not tokens_path.exists():
        print(f"{tokens_path} not found: start the system with `make up` first")
        return 1
    tokens = json.loads(tokens_path.read_text())
    api = Api(args.api, tokens)
    try:
        requests.get(f"{api.base}/healthz", timeout=3).raise_for_status()
    except requests.RequestException as exc:
        print(f"the API at {api.base} does not answer ({exc}): start it with `make up`")
        return 1
    rng = random.Random(args.seed if args.seed is not None else time.time_ns())
    packs = [args.pack] if args.pack else list_packs()
    now = into_office_hours(api, packs)
    started = time.monotonic()
    submitted = []
    for i in range(args.reports):
        pack_id, scenario = packs[i % len(packs)], SCENARIOS[i % len(SCENARIOS)]
        seed = rng.randrange(10**8)
        report, photos = make_report(pack_id, scenario, rng, now, seed)
        answer = api.submit(report, photos)
        submitted.append((answer["id"], answer["tracking_token"], pack_id, scenario))
    print(f"submitted {len(submitted)} reports in {time.monotonic() - started:.1f} s")

    problems: list[str] = []
    for index, (report_id, tracking, pack_id, scenario) in enumerate(submitted):
        view = api.wait(report_id, lambda v: v["state"] not in ("submitted", "accepted") or any(
            d["step"] == "identity_check" for d in v["deadlines"]))
        if view["state"] == "dispatched" and index % 3 != 2:  # every third dispatched report is left to go late
            work_report(api, view, tokens, problems)
    for report_id, tracking, pack_id, scenario in submitted:
        view = api.wait(report_id, lambda v: v["state"] not in ("in_progress", "result_submitted", "approved"))
        if view["state"] == "published":
            level = get_pack(pack_id).rating_levels()[0]["id"]
            answer = api.rate(report_id, tracking, level)
            if not answer.ok:
                problems.append(f"{report_id}: rating → {answer.status_code} {answer.text[:200]}")
    if api.advance(3 * 86400):
        print("moved the controlled clock 3 days forward to show what falls late")
        time.sleep(3)
    print_summary(api, submitted, problems, time.monotonic() - started)
    return 0


def print_summary(api: Api, submitted, problems, elapsed: float) -> None:
    states, reasons, late_steps, per_pack = Counter(), Counter(), Counter(), Counter()
    print(f"\n{'report':<20} {'pack':<20} {'scenario':<12} {'state':<22} reasons / late steps")
    for report_id, _, pack_id, scenario in submitted:
        view = api.view(report_id)
        codes = [r["code"] for r in view.get("reasons", [])]
        late = [d["step"] for d in view.get("deadlines", []) if d.get("late")]
        states[view["state"]] += 1
        per_pack[(pack_id, view["state"])] += 1
        reasons.update(codes)
        late_steps.update(late)
        print(f"{report_id:<20} {pack_id:<20} {scenario:<12} {view['state']:<22} "
              f"{','.join(codes) or '-'} / {','.join(late) or '-'}")
    print("\nstates:", dict(states))
    print("reasons:", dict(reasons))
    print("late steps:", dict(late_steps))
    print(f"total time: {elapsed:.1f} s")
    for line in problems:
        print("problem:", line)
