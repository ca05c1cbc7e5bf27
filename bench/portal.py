"""The portal's pages with a province's worth of data (issue 22): server time of `/`, `/staff/`, `/staff/dashboard`
and `/centre/` with 100,000 reports in the store, the public map of 10,000 published results in headless Chromium,
and the gateway process's memory.

1. Seeds a fresh var directory before anything starts, through the services' own storage classes on the embedded
   store (what `paht up` runs): intake's ReportStore — a year of reports of the five packs, each built by
   services/intake/reports.new_report and taken through its life by the real deciders (verification's acceptance
   on the pack's rules, routing's rules, the sla service's deadlines on the pack's calendar with their warnings
   and misses, handling's staff actions, publishing's letter, rating), each decision applied by paht.states.plan
   as intake applies it; the system's (controlled) clock is fixed first and a life stops there, so recent reports
   are still open and the late ones marked late; `--pack` gets reports until exactly `--published` of them ended
   published, the other packs share the rest —, publishing's PublicationStore (every delivered result), the sla
   service's DeadlineStore (the deadlines of `--pack`, whose scorecards the dashboard and the console read) and the
   gateway's DoorStore (three staff accounts of `--pack`: agency_staff and agency_leader of its busiest lead agency,
   an operator). The lives are made by a worker process per core, the stores written with insert_many. Nothing
   goes through the outbox: nothing is announced when the services start.
2. Starts the services as `paht up` does (as bench/throughput.py: processes, free ports, a vhost of its own,
   PAHT_ENV=dev, the controlled clock; and `paht up`'s supervisor, which starts a service that exited again) and
   waits for their start-up work (the first runs of the timers that read the whole store).
3. Signs in through /staff/login as each account (the form's CSRF token). For each page: waits until it is
   answered 200 (`--patience`), warms up, then times `--requests` GETs one after another: the server's time of
   each answer from the gateway's access log (eventlet's line per request: from the request to the end of the
   answer) — p50/p95/max of the answers 200, the target is on its p95 and on every answer being 200 —, the client's
   time beside it, and the gateway's `paht_http_request_duration_seconds` for the route; where the time goes: the
   errors the gateway logged, the RPCs each page waited for (every service's `paht_entrypoint_duration_seconds`),
   the services' timers that ran meanwhile, the CPU each service spent per request.
4. Loads `/?pack=<pack>` in headless Chromium (as tests/browser/conftest.py starts it: Debian's chromium and
   chromedriver, no Selenium Manager; cache off) `--map-loads` times: from navigation start until `#map[data-loaded]`
   is set, the markers' clusters are drawn and the page has a free frame (performance.now()); the points' answer
   and the browser's work after it.
5. The gateway's resident memory (VmRSS, and its peak VmHWM) after start, after the page requests, after the map.
Prints the numbers against the issue's targets ("NOT MET" when missed); exits 0 once measured (1 when it could
not measure something it was asked to: the broker, the seeding, the browser).
Run: .venv/bin/python bench/portal.py [--reports 100000] [--published 10000] [--requests 50] [--pack …] [--no-map]"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import re
import secrets
import signal
import statistics
import sys
import time
import warnings
from collections import Counter, defaultdict
from datetime import datetime, timedelta, timezone
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")
warnings.filterwarnings("ignore", module=r"dns\.")   # dnspython's DSA deprecation warnings, through eventlet

from bench import _costs  # noqa: E402
from bench._run import BenchError, measured  # noqa: E402
from bench.throughput import Vhost, free_port, log_tails  # noqa: E402
from paht import runner, settings  # noqa: E402

PAGE_P95_TARGET_MS = 150.0
MAP_TARGET_MS = 2000.0
UTC = timezone.utc
PASSWORD = "bench-portal-mat-khau-dai"
CSRF = re.compile(r'name="csrf_token" value="([0-9a-f]{64})"')
SETTLE_MAX_SECONDS = 600.0  # for the first runs of the start-up timers
QUIET_CPU = 0.10            # the services together below a tenth of a core: settled
PAGE_TIMEOUT = 120.0


# ======================================================================================================================
# seeding: reports taken through their life by the real deciders
# ======================================================================================================================
SCENARIOS = {   # what verification measures of a submission (facts over the template), and how often
    "good": (0.72, {}),
    "missing_info": (0.03, {"reporter_has_email": False, "reporter_has_citizen_id": False}),
    "photo_too_old": (0.04, {"photo_age_h": 40.0}),
    "no_media": (0.03, {"has_media": False, "has_photo_or_video": False, "photo_age_known": False,
                        "photo_age_h": None, "ela_score": None}),
    "no_gps": (0.03, {"has_gps": False, "ward_found": False, "inside_province": False, "ward_code": "",
                      "ward_name": "", "lat": None, "lon": None}),
    "duplicate": (0.04, {"duplicate_same_reporter": True}),
    "already_in_progress": (0.02, {"open_same_matter": True}),
    "out_of_scope": (0.03, {"out_of_scope": True, "out_of_scope_kind": "dispute"}),
    "monitoring_only": (0.02, {"monitoring_only": True}),
    "photo_age_unknown": (0.04, {"photo_age_known": False, "photo_age_h": None}),
}
FACTS = {   # verification's facts of a good submission, as a demo run stored them (per report: place, category …)
    "channel": "app", "urgent": False, "category": "roads_traffic", "within_intake_hours": True,
    "reporter_has_name": True, "reporter_has_phone": True, "reporter_has_email": True,
    "reporter_has_address": True, "reporter_has_citizen_id": True, "first_time_reporter": False,
    "identity_status": "confirmed", "reporter_violations_month": 0, "reporter_violations_total": 0,
    "account_locked": False, "interaction_locked": False, "has_media": True, "has_photo_or_video": True,
    "photo_age_known": True, "photo_age_h": 1.5, "capture_time_future": False, "capture_time_conflict": False,
    "capture_time_client_asserted": False, "ela_score": 0.0071, "edited_software": False, "edited_datetime": False,
    "edited_thumbnail": False, "edited_requantized": False, "vendor_resave": False, "has_gps": True,
    "has_address": False, "inside_province": True, "ward_found": True, "ward_code": "", "ward_name": "",
    "lat": None, "lon": None, "gps_distance_m": None, "out_of_scope": False, "out_of_scope_kind": "",
    "prohibited_content": False, "matched_phrases": [], "operator_unclear_media": False,
    "operator_unclear_or_test": False, "monitoring_only": False, "operator_checks": {},
    "duplicate_same_reporter": False, "open_same_matter": False, "cluster_count": 0,
}
CATEGORY_WEIGHTS = {"roads_traffic": 18, "lighting_power": 12, "water_drainage": 12, "waste_sanitation": 16,
                    "trees_parks": 6, "urban_order": 10, "construction_land": 8, "security_order": 5,
                    "fire_rescue": 1, "natural_disaster": 1, "health": 3, "education": 2, "admin_procedures": 3,
                    "other": 3}
DESCRIPTIONS = {
    "roads_traffic": "Ổ gà lớn giữa đường, xe máy dễ té ngã, đề nghị sửa chữa sớm.",
    "lighting_power": "Đèn đường không sáng nhiều đêm liền, khu vực rất tối.",
    "water_drainage": "Cống thoát nước bị tắc, mưa xuống là ngập cả đoạn đường.",
    "waste_sanitation": "Rác thải tập kết bừa bãi bên đường, bốc mùi hôi thối.",
    "trees_parks": "Cây xanh nghiêng sắp đổ, nguy hiểm cho người đi đường.",
    "urban_order": "Lấn chiếm vỉa hè để buôn bán, người đi bộ phải xuống lòng đường.",
    "construction_land": "Công trình xây dựng không che chắn, vật liệu rơi ra đường.",
    "security_order": "Nhóm thanh niên tụ tập gây ồn ào vào ban đêm.",
    "fire_rescue": "Có khói bốc lên từ nhà kho, đề nghị kiểm tra ngay.",
    "natural_disaster": "Sạt lở bờ sông, nguy cơ ảnh hưởng nhà dân.",
    "health": "Cơ sở kinh doanh thực phẩm không đảm bảo vệ sinh.",
    "education": "Cổng trường xuống cấp, nguy hiểm cho học sinh.",
    "admin_procedures": "Hồ sơ nộp quá hạn nhưng chưa được trả kết quả.",
    "other": "Đề nghị cơ quan chức năng kiểm tra, xử lý.",
}
SURNAMES = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô")
GIVEN = ("Văn An", "Thị Bình", "Minh Châu", "Quốc Dũng", "Thị Hoa", "Văn Hùng", "Thu Lan", "Đức Long", "Thị Mai",
         "Văn Nam", "Hồng Nhung", "Thanh Phong", "Ngọc Quỳnh", "Văn Sơn", "Thị Thảo", "Anh Tuấn", "Hải Yến")
CHANNELS = (("app", 45), ("portal", 25), ("hotline", 15), ("zalo", 10), ("email", 5))
RESULT_TEXT = ("Đơn vị đã kiểm tra hiện trường, tổ chức khắc phục xong và sẽ tiếp tục theo dõi. "
               "Cảm ơn người dân đã phản ánh.")


def weighted(rng: random.Random, pairs):
    items, weights = zip(*pairs)
    return rng.choices(items, weights)[0]


class World:
    """What a report's life reads of the packs, prepared once: the packs (their routing and sla rules memoised —
    the same facts give the same answer), ward indexes, the acceptance rules' answer to each scenario."""

    def __init__(self, now: datetime, chosen: str):
        from paht.geo import WardIndex
        from paht.rules import get_pack, list_packs
        from paht.worktime import calendar_for
        self.now, self.chosen = now, chosen
        self.pack_ids = list_packs()
        if chosen not in self.pack_ids:
            raise BenchError(f"--pack {chosen}: not one of {', '.join(self.pack_ids)}")
        self.packs = {pack_id: get_pack(pack_id) for pack_id in self.pack_ids}
        for pack in self.packs.values():
            pack.evaluate = memoised(pack.evaluate)   # this process only: its answers never change in a run
        self.wards = {pack_id: WardIndex.of(pack) for pack_id, pack in self.packs.items()}
        self.tz = {pack_id: calendar_for(pack.meta).tz for pack_id, pack in self.packs.items()}
        self.acceptance = {}
        for pack_id, pack in self.packs.items():
            for name, (_, facts) in SCENARIOS.items():
                self.acceptance[pack_id, name] = _acceptance(pack, dict(FACTS, **facts))
        self.levels = {pack_id: pack.rating_levels() for pack_id, pack in self.packs.items()}
        self.categories = {pack_id: [c for c in pack.categories if c in CATEGORY_WEIGHTS]
                           for pack_id, pack in self.packs.items()}
        self.tracking = secrets.token_urlsafe(18)   # one token for all: hashing is all new_report does with it
        # the staff actors' signatures (paht.actors.signed) read the internal secret, made now in the var directory
        # the services will read: read once here, not at each of a million signatures (this process only)
        secret = settings.internal_secret()
        settings.internal_secret = lambda: secret


def memoised(evaluate):
    """pack.evaluate for scalar facts (routing, sla), memoised; acceptance's facts hold lists: not memoised."""
    cache: dict = {}

    def cached(stage: str, facts: dict) -> dict:
        try:
            key = (stage, tuple(sorted(facts.items())))
            hash(key)
        except TypeError:
            return evaluate(stage, facts)
        answer = cache.get(key)
        if answer is None:
            answer = cache[key] = evaluate(stage, facts)
        return answer
    return cached


def applied(doc: dict, update: dict) -> None:
    """paht.embedded.apply_update for what paht.states.plan makes ($set — dotted paths too —, $inc, $push), without
    its walk for naive datetimes (every datetime here is aware): the same document, a third of the time."""
    for path, value in update["$set"].items():
        parent = doc
        *parents, last = path.split(".")
        for part in parents:
            parent = parent.setdefault(part, {})
        parent[last] = value
    for path, value in update.get("$inc", {}).items():
        doc[path] = doc.get(path, 0) + value
    for path, value in update.get("$push", {}).items():
        doc.setdefault(path, []).append(value)
    if set(update) - {"$set", "$inc", "$push"}:
        raise BenchError(f"paht.states.plan made an update bench/portal.py does not apply: {sorted(update)}")


def _acceptance(pack, facts: dict) -> dict:
    return pack.evaluate("acceptance", facts)


class Life:
    """One report from its submission until the system's now: each decision made by the service that makes it
    (the real function), applied as intake applies it, the sla service's deadlines opened, warned, missed and
    closed as it would."""

    def __init__(self, world: World, rng: random.Random, pack_id: str, submitted_at: datetime, serial: int):
        self.world, self.rng, self.pack_id, self.pack = world, rng, pack_id, world.packs[pack_id]
        self.serial = serial    # unique among the bench's reports: their ids cannot collide
        self.now, self.tz = world.now, world.tz[pack_id]
        self.running: list[dict] = []      # the sla service's open deadlines of this report
        self.deadlines: list[dict] = []    # every deadline document (the sla store's)
        self.publication = None
        self.doc = self.submit(submitted_at)

    # ---- applying decisions ----------------------------------------------------------------------------------
    def event_id(self) -> str:
        return f"{self.rng.getrandbits(128):032x}"

    def view(self) -> dict:
        from services.intake.reports import snapshot
        return snapshot(self.doc)

    def apply(self, decision) -> bool:
        """As intake's ReportStore.apply_all: paht.states.plan, then its update; the sla service hears of the change."""
        from paht.flow import announced
        from paht.states import plan
        before = self.doc["state"]
        update = plan(self.doc, decision)
        if update is None:
            return False
        applied(self.doc, update)
        if decision.source != "sla" and announced(before, self.doc["state"], decision.kind):
            self.sla_hears(decision.kind, before, self.doc["state"], decision.event_id, decision.occurred_at)
        return True

    def later(self, at: datetime, seconds=(0.2, 1.5)) -> datetime:
        return (at + timedelta(seconds=self.rng.uniform(*seconds))).astimezone(UTC)

    # ---- the sla service --------------------------------------------------------------------------------------
    def sla_hears(self, cause: str, from_state, to_state: str, event_id: str, at: datetime) -> None:
        """What services/sla does with a change: the report's own step ends (its deadline closes) and the next one's
        opens; the `forward` side step runs while a multi-agency report is in progress."""
        from services.sla.deadlines import SIDE_STEPS, STEP_OF_CAUSE, STEP_OF_STATE
        when = self.later(at)
        changed = from_state != to_state or cause in STEP_OF_CAUSE
        for deadline in list(self.running):
            live = deadline.get("live_states")
            own = deadline.get("role", "state") == "state"
            if (own and changed) or (not own and live is not None and to_state not in live):
                self.close(deadline, when)
        if not changed:
            return
        step = STEP_OF_CAUSE.get(cause) or STEP_OF_STATE.get(to_state)
        if step:
            self.open_deadline(step, at, event_id, when)
        if cause == "acknowledged" and len(self.doc.get("assigned_agencies") or []) > 1:
            self.open_deadline("forward", at, event_id, when, role="side", live_states=SIDE_STEPS["forward"])

    def open_deadline(self, step: str, opened_at: datetime, cause: str, when: datetime, **how) -> None:
        from services.sla.deadlines import deadline_decision, new_deadline
        deadline = new_deadline(self.pack, self.view(), step, opened_at, cause, **how)
        if deadline is None:
            return
        self.running.append(deadline)
        self.deadlines.append(deadline)
        self.apply(deadline_decision("deadline_opened", deadline, when, f"sla:open:{deadline['_id']}", tz=self.tz))

    def close(self, deadline: dict, when: datetime) -> None:
        from services.sla.deadlines import deadline_decision
        self.running.remove(deadline)
        if deadline["status"] == "open":
            deadline["status"] = "closed"
        deadline.update(active=False, closed_at=when)
        self.apply(deadline_decision("deadline_closed", deadline, when, f"sla:close:{deadline['_id']}",
                                     late=deadline["status"] == "missed", closed=True, tz=self.tz))

    def sweep_until(self, until: datetime) -> bool:
        """The sla sweeper's warnings and misses of the running deadlines before `until` (and never after the
        system's now), in time order; False when a miss rejected the report (a supplement, an identity or an
        operator's check that ran out)."""
        from services.sla.deadlines import deadline_decision
        until = min(until, self.now)
        due = []
        for deadline in self.running:
            if not deadline["warned"] and deadline["warn_due"] < until:
                due.append((deadline["warn_due"], 0, deadline))
            if deadline["status"] == "open" and deadline["due"] < until:
                due.append((deadline["due"], 1, deadline))
        for at, missed, deadline in sorted(due, key=lambda item: (item[0], item[1])):
            if deadline not in self.running:
                continue
            when = self.later(at, (1.0, 5.0))
            if not missed:
                deadline["warned"] = True
                self.apply(deadline_decision("deadline_warning", deadline, when, f"sla:warn:{deadline['_id']}",
                                             tz=self.tz))
                continue
            deadline.update(status="missed", missed_at=when)
            before = self.doc["state"]
            self.apply(deadline_decision("deadline_missed", deadline, when, f"sla:missed:{deadline['_id']}",
                                         late=True, tz=self.tz))
            if self.doc["state"] != before:       # rejected for the timeout: the report leaves its step
                self.sla_hears("deadline_missed", before, self.doc["state"], f"sla:missed:{deadline['_id']}", when)
                return False
        return True

    def step(self, at: datetime) -> bool:
        """Whether the next action, at `at`, happens before the system's now (deadlines swept until then)."""
        alive = self.sweep_until(at)
        return alive and at <= self.now

    # ---- the life -----------------------------------------------------------------------------------------------
    def submit(self, at: datetime) -> dict:
        from paht.schemas import MediaRecord
        from services.gateway.channel_schemas import EnteredReport
        from services.intake.reports import new_report
        rng, world = self.rng, self.world
        self.scenario = weighted(rng, [(k, w) for k, (w, _) in SCENARIOS.items()])
        self.category = rng.choices(world.categories[self.pack_id],
                                    [CATEGORY_WEIGHTS[c] for c in world.categories[self.pack_id]])[0]
        lat, lon = world.wards[self.pack_id].random_point(rng)
        self.ward = world.wards[self.pack_id].locate(lat, lon)
        channel = weighted(rng, CHANNELS)
        account = f"acc-{rng.getrandbits(40):010x}" if channel in ("app", "portal") else None
        name = f"{rng.choice(SURNAMES)} {rng.choice(GIVEN)}"
        complete = self.scenario != "missing_info"   # else no e-mail and no citizen id
        self.keep_private = rng.random() < 0.04
        report_in = EnteredReport.model_validate({
            "pack": self.pack_id, "channel": channel,
            "reporter": {"name": name, "phone": f"09{rng.randrange(10**8):08d}", "address": "Tổ dân phố 3",
                         "email": f"nguoidan{rng.randrange(10**7)}@example.vn" if complete else None,
                         "citizen_id": f"0{rng.randrange(10**11):011d}" if complete else None,
                         "account_id": account, "share_contact": rng.random() < 0.3},
            "description": f"{DESCRIPTIONS[self.category]} Gần số {rng.randrange(1, 300)} đường "
                           f"{rng.choice(('Lê Lợi', 'Trần Hưng Đạo', 'Nguyễn Huệ', 'Hùng Vương', 'Lý Thường Kiệt'))}.",
            "category": self.category, "keep_private": self.keep_private,
            "urgent": self.category == "fire_rescue",
            "location": None if self.scenario == "no_gps" else {"lat": lat, "lon": lon, "source": "gps"}})
        media = [] if self.scenario == "no_media" else [MediaRecord(
            sha256=f"{rng.getrandbits(256):064x}", filename="photo0.jpg", content_type="image/jpeg", kind="photo",
            size=rng.randrange(800_000, 4_000_000))]
        # as paht.tokens.new_report_id, its 8 hex digits from the serial (21 bits) and 11 random bits
        report_id = f"PA-{at:%y%m%d}-{(self.serial << 11 | rng.getrandbits(11)) & 0xFFFFFFFF:08X}"
        doc = new_report(report_in, media, at, report_id, world.tracking, account_verified=account is not None)
        doc["timeline"][0]["event_id"] = event_id = self.event_id()   # as ReportStore.create
        self.doc = doc
        self.sla_hears("submitted", None, "submitted", event_id, at)
        return doc

    def live(self) -> None:
        rng = self.rng
        at = self.doc["submitted_at"]
        if not self.verify(self.later(at, (3, 90))):
            return
        at = self.doc["updated_at"]
        if not self.route(self.later(at, (1, 30))):
            return
        target = weighted(rng, (("publish", 92), ("cancel", 5), ("stall", 3)))
        cancellation = self.pack.meta.get("cancellation") or {}
        if target == "cancel" and cancellation.get("allowed", True):   # the reporter cancels before it is taken up
            self.cancel(self.later(self.doc["updated_at"], (300, 4 * 3600)), cancellation.get("article"))
            return
        if not self.agency_acts("acknowledge", self.later(self.doc["updated_at"], self.delay("acknowledge"))):
            return
        if target == "stall":      # an agency that never reports back: late, and later later
            self.sweep_until(self.now)
            return
        if not self.agency_acts("submit_result", self.later(self.doc["updated_at"], self.delay("process")),
                                result_text=RESULT_TEXT, after_photos=[f"{rng.getrandbits(256):064x}"]):
            return
        if not self.agency_acts("approve", self.later(self.doc["updated_at"], self.delay("approve")), leader=True):
            return
        if not self.publish(self.later(self.doc["updated_at"], self.delay("publish"))):
            return
        if rng.random() < 0.35:
            self.rate(self.later(self.doc["updated_at"], (1800, 5 * 86400)))
        self.sweep_until(self.now)

    def delay(self, step: str) -> tuple[float, float]:
        """Seconds an agency or the centre takes for a step: mostly in time, now and then late."""
        rng = self.rng
        late = rng.random() < {"acknowledge": 0.08, "process": 0.15, "approve": 0.05,
                                              "publish": 0.05}[step]
        spans = {"acknowledge": ((600, 6 * 3600), (30 * 3600, 80 * 3600)),
                 "process": ((86400, 8 * 86400), (10 * 86400, 20 * 86400)),
                 "approve": ((3600, 20 * 3600), (50 * 3600, 100 * 3600)),
                 "publish": ((1800, 6 * 3600), (30 * 3600, 70 * 3600))}[step]
        return spans[1] if late else spans[0]

    def facts(self, **extra) -> dict:
        ward = self.ward
        location = self.doc.get("location") or {}
        facts = dict(FACTS, channel=self.doc["channel"], urgent=self.doc["urgent"], category=self.category,
                     ward_code=ward.code if ward else "", ward_name=ward.name if ward else "",
                     lat=location.get("lat"), lon=location.get("lon"),
                     first_time_reporter=self.rng.random() < 0.5,
                     photo_age_h=round(self.rng.uniform(0.1, 20), 3))
        facts.update(SCENARIOS[self.scenario][1])
        facts.update(extra)
        return facts

    def verify(self, at: datetime) -> bool:
        from services.verification.verify import acceptance_decision, operator_check_decision
        if not self.step(at):
            return False
        result = self.world.acceptance[self.pack_id, self.scenario]
        facts = self.facts()
        if result["decision"] == "accepted" and result.get("pending_checks"):
            # held for the operator's check (a warn rule with a check): judged a few hours later, then verified again
            self.apply(operator_check_decision(self.view(), facts, result, f"verification:{self.event_id()}", at))
            judged_at = self.later(at, (1800, 30 * 3600))
            if not self.step(judged_at):
                return False
            self.judge(judged_at, [c["name"] for c in result["pending_checks"]])
            at = self.later(judged_at, (1, 20))
            checks = {c["name"]: "accepted" for c in result["pending_checks"]}
            facts = dict(facts, operator_checks=checks)
            result = _acceptance(self.pack, facts)
            if not self.step(at):
                return False
        self.apply(acceptance_decision(self.view(), facts, result, f"verification:{self.event_id()}", at))
        if self.doc["state"] != "accepted":      # rejected, forwarded, or waiting for a supplement until it runs out
            self.sweep_until(self.now)
            return False
        return True

    def judge(self, at: datetime, checks: list[str]) -> None:
        from paht.schemas import Decision
        for check in checks:
            self.apply(Decision(report_id=self.doc["_id"], occurred_at=at, pack=self.pack_id, kind="judged",
                                source="verification", to_state="submitted", actor=self.actor("operator", "judge"),
                                detail={"name": check, "value": "accepted", "note": None}, patch={},
                                event_id=self.event_id()))

    def route(self, at: datetime) -> bool:
        from services.routing.route import routing_decision, routing_facts
        if not self.step(at):
            return False
        view = self.view()
        result = self.pack.evaluate("routing", routing_facts(view))
        self.apply(routing_decision(view, self.pack, result, f"routing:{self.event_id()}", at))
        if self.doc["state"] == "routing_unresolved":    # the centre designates a lead agency
            designated_at = self.later(at, (2 * 3600, 30 * 3600))
            if not self.step(designated_at):
                return False
            ward = self.ward.code if self.ward else None
            lead = f"ubnd-{ward}" if ward and f"ubnd-{ward}" in self.pack.agencies else \
                self.rng.choice([a for a, v in self.pack.agencies.items() if v.get("kind") == "department"])
            self.handle("designate", designated_at, self.actor("operator", "designate"), agency=lead)
        return True

    def agency_acts(self, action: str, at: datetime, leader: bool = False, **body) -> bool:
        if not self.step(at):
            return False
        lead = next(a["id"] for a in self.doc["assigned_agencies"] if a["role"] == "lead")
        role = "agency_leader" if leader else "agency_staff"
        self.handle(action, at, self.actor(role, action, lead), **body)
        return True

    def handle(self, action: str, at: datetime, actor: dict, **body) -> None:
        from services.handling.actions import decide
        self.apply(decide(self.view(), action, actor, body, self.pack, at, self.event_id()))

    def actor(self, role: str, action: str, agency: str | None = None) -> dict:
        from paht.actors import signed
        user = f"user:{role.split('_')[-1][:2]}.{agency or self.pack_id}"
        name = {"agency_staff": "Cán bộ xử lý", "agency_leader": "Lãnh đạo đơn vị",
                "operator": "Tổng đài viên Trung tâm"}[role]
        return signed({"role": role, "pack": self.pack_id, "agency": agency, "name": f"{name} {agency or ''}".strip(),
                       "user": user}, self.doc["_id"], action)

    def cancel(self, at: datetime, article: str | None) -> None:
        from services.intake.reports import cancel_decision
        if self.step(at):
            self.apply(cancel_decision(self.doc, at, article).model_copy(update={"event_id": self.event_id()}))
        self.sweep_until(self.now)

    def publish(self, at: datetime) -> bool:
        from services.publishing.letters import publication_decision
        if not self.step(at):
            return False
        decision = publication_decision(self.view(), self.pack, at, self.event_id(), self.actor("operator", "publish"))
        self.apply(decision)
        self.publication = self.doc["publication"]
        return True

    def rate(self, at: datetime) -> None:
        from services.rating.ratings import rating_decision
        if not self.step(at):
            return
        levels = self.world.levels[self.pack_id]
        level = self.rng.choices(levels, [0.45, 0.3, 0.15, 0.1, 0.05, 0.05][:len(levels)])[0]["id"]
        article = (self.pack.meta.get("rating_scale") or {}).get("article")
        self.apply(rating_decision(self.view(), levels, level, None, at, self.event_id(), article))

    # ---- what the stores keep ----------------------------------------------------------------------------------
    def finished(self) -> dict:
        """The report as intake's store keeps it now: a pack with a retention period has forgotten the reporter of a
        report closed long enough ago (services/intake purge_personal_data, the purge announced)."""
        from paht.states import TERMINAL
        from services.intake.reports import forget_reporter
        doc = self.doc
        days = (self.pack.meta.get("publication") or {}).get("retention_days")
        if days and doc["state"] in TERMINAL and doc["updated_at"] <= self.now - timedelta(days=days):
            purged_at = min(doc["updated_at"] + timedelta(days=days, minutes=self.rng.uniform(1, 60)), self.now)
            doc.update(forget_reporter(doc))
            doc.update(purged_at=purged_at, purge_announced=True)
        return doc


CHUNK = 250    # lives a worker makes at a time
_WORLD: World | None = None   # the workers' (inherited when they fork)


def chunk_of_lives(pack_id: str, index: int, size: int, seed_base: int) -> list[tuple]:
    """`size` lives of `pack_id` (their random data from the seed, the pack and `index`, whoever makes them): for
    each, (the report, the sla service's deadlines, the publication or None)."""
    from services.intake.lists import next_due
    from services.intake.reports import snapshot
    world = _WORLD
    rng = random.Random(f"{seed_base}:{pack_id}:{index}")
    found = []
    for position in range(size):
        serial = (world.pack_ids.index(pack_id) * 1000 + index) * CHUNK + position   # < 2 ** 21
        life = Life(world, rng, pack_id, world.now - timedelta(days=365) * rng.random(), serial)
        life.live()
        doc = life.finished()
        doc["next_due"] = next_due(doc)   # as intake keeps it with every change (ReportStore.apply_all)
        found.append((doc, life.deadlines, None if life.publication is None else
                      (snapshot(doc), life.publication)))
    return found


def lives(pool, chunks, window: int):
    """The lives of the chunks, in order, made by the pool with at most `window` chunks under way (so a consumer
    that stops early wastes little)."""
    from collections import deque
    pending = deque()
    for chunk in chunks:
        pending.append(pool.apply_async(chunk_of_lives, chunk))
        if len(pending) >= window:
            yield from pending.popleft().get()
    while pending:
        yield from pending.popleft().get()


def seed(args, now: datetime) -> dict:
    """The stores of a system that has been running for a year (the var directory of PAHT_VAR_DIR): what the bench
    needs to know of them. The lives are made by a worker per core, the stores written here."""
    import multiprocessing
    from paht.states import TERMINAL
    from paht.storage import open_database
    from services.gateway.dependencies import DoorStore
    from services.intake.dependencies import ReportStore
    from services.publishing.dependencies import PublicationStore
    from services.sla.dependencies import DeadlineStore
    global _WORLD

    started = time.perf_counter()
    _WORLD = world = World(now, args.pack)
    intake = ReportStore(open_database("intake"))
    publishing = PublicationStore(open_database("publishing"))
    sla = DeadlineStore(open_database("sla"))
    states: dict[str, Counter] = defaultdict(Counter)
    leads, open_leads, counts = Counter(), Counter(), Counter()
    sizes: list[int] = []
    docs, publications, deadlines = [], [], []

    def flush():
        if docs:
            intake.reports.insert_many(docs)
        if deadlines:
            sla.deadlines.insert_many(deadlines)
        if publications:   # publishing's own record(), many in one transaction
            database = publishing.publications.database
            with database.lock:
                database.conn.execute("BEGIN")
                for view, publication in publications:
                    publishing.record(view, publication)
                database.conn.execute("COMMIT")
        counts["deadlines"] += len(deadlines)
        counts["publications"] += len(publications)
        docs.clear(), publications.clear(), deadlines.clear()

    def keep(pack_id: str, life: tuple) -> str:
        doc, report_deadlines, publication = life
        states[pack_id][doc["state"]] += 1
        if pack_id == args.pack:    # the sla service's deadlines of the pack the dashboard and console read
            deadlines.extend(report_deadlines)
            lead = next((a["id"] for a in doc.get("assigned_agencies") or [] if a.get("role") == "lead"), None)
            if lead:
                leads[lead] += 1
                open_leads[lead] += doc["state"] not in TERMINAL
        if publication is not None:
            publications.append(publication)
        docs.append(doc)
        counts["reports"] += 1
        if len(sizes) < 3000:
            sizes.append(len(json.dumps(doc, default=str, ensure_ascii=False).encode()))
        if len(docs) >= 1000:
            flush()
        if counts["reports"] % 10000 == 0:
            print(f"  {counts['reports']:,} reports ({time.perf_counter() - started:.0f} s)", flush=True)
        return doc["state"]

    if args.reports > 1000 * CHUNK or len(world.pack_ids) > 8:
        raise BenchError(f"--reports {args.reports:,}: at most {1000 * CHUNK:,} (the reports' ids are made unique "
                         "from 1,000 chunks of each of at most 8 packs)")
    workers = max(1, min(os.cpu_count() or 1, 4))
    # the workers die at once when the pool ends (terminate() sends SIGTERM): the bench's own SIGTERM handler,
    # inherited by fork, made one raise while holding the task queue's lock, and the others waited for it forever
    with multiprocessing.get_context("fork").Pool(workers, signal.signal, (signal.SIGTERM, signal.SIG_DFL)) as pool:
        # the pack of the map: reports as they come until exactly --published of them ended published (about six in
        # ten of a year's reports do); the other packs share the rest of --reports
        others = [p for p in world.pack_ids if p != args.pack]
        most = args.reports - len(others)
        chunks = ((args.pack, index, CHUNK, args.seed) for index in range(min(1000, most // CHUNK + 1)))
        for life in lives(pool, chunks, workers + 1):
            if states[args.pack]["published"] >= args.published:
                break
            if counts["reports"] >= most:
                raise BenchError(f"--reports {args.reports:,} is too few for {args.published:,} published reports "
                                 f"in {args.pack} (about 1.7 reports per published one)")
            keep(args.pack, life)
        rest = args.reports - counts["reports"]
        shares = {pack_id: rest // len(others) + (i < rest % len(others)) for i, pack_id in enumerate(others)}
        chunks = [(pack_id, index, min(CHUNK, share - index * CHUNK), args.seed)
                  for pack_id, share in shares.items() for index in range((share + CHUNK - 1) // CHUNK)]
        for pack_id, life in zip([c[0] for c in chunks for _ in range(c[2])], lives(pool, chunks, workers + 1)):
            keep(pack_id, life)
    flush()
    seconds = time.perf_counter() - started

    door = DoorStore(open_database("gateway"))
    agency = leads.most_common(1)[0][0]
    accounts = {"agency_staff": f"nv.{agency}", "agency_leader": f"ld.{agency}", "operator": f"gs.{args.pack}"}
    for role, username in accounts.items():
        door.accounts.add(username, PASSWORD, role, args.pack, None if role == "operator" else agency,
                          f"{role} {args.pack if role == 'operator' else agency}")
    return {"seconds": seconds, "states": states, "agency": agency, "agency_reports": leads[agency],
            "agency_open": open_leads[agency], "accounts": accounts, "sizes": sizes, "counts": counts,
            "workers": workers,
            "files": {name: (Path(settings.var_dir()) / "db" / f"{name}.sqlite3").stat().st_size
                      for name in ("intake", "publishing", "sla")}}


# ======================================================================================================================
# the system
# ======================================================================================================================
def system_time(wall: datetime) -> datetime:
    """The system's moment: an hour into the next time every pack is open (a working morning), so the pages show
    what staff see at work and the bench's reports are dispatched as they come."""
    from paht.rules import get_pack, list_packs
    from paht.worktime import calendar_for
    opening = max(calendar_for(get_pack(pack).meta).next_opening(wall) for pack in list_packs())
    return max(opening, wall) + timedelta(hours=1)


def fresh_environment(var: Path, amqp_uri: str) -> None:
    """This process's settings as start_paht (bench/throughput.py) gives the services: a fresh system with none of
    this shell's stores, secrets or gateways; the seeding writes where the services will read."""
    for setting in [name for name in os.environ if name == "MONGO_URI" or name.startswith("PAHT_")]:
        if setting not in ("PAHT_MAX_WORKERS", "PAHT_LOG_LEVEL", "PAHT_LOG_FORMAT"):
            del os.environ[setting]
    os.environ.update({"PAHT_VAR_DIR": str(var), "PAHT_ENV": "dev", "PAHT_CLOCK": "controlled",
                       "PAHT_RATE_LIMIT_PER_MINUTE": "0", "AMQP_URI": amqp_uri})


class Supervised:
    """The services as `paht up` runs them (paht.runner: each its own process; one that exits is started again by
    runner.Supervisor, polled every second here as `paht up` does), on free ports and the var directory seeded
    here. `pids()` are the processes running now; `events` what the supervisor said (deaths and restarts)."""

    def __init__(self, var: Path, stack: contextlib.ExitStack):
        import threading
        from paht.demo_users import all_agencies, ensure_tokens
        from paht.rules import get_pack, list_packs
        self.logs = var / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        env = runner.service_env(var)
        ensure_tokens(Path(env["PAHT_DEMO_TOKENS"]), all_agencies(list_packs, get_pack))
        self.ports = {name: free_port() for name in runner.SERVICES}
        env.update({f"PAHT_{name.upper()}_HTTP": f"127.0.0.1:{port}" for name, port in self.ports.items()})
        self.events: list[str] = []
        self.supervisor = runner.Supervisor(runner.SERVICES, lambda name: runner.start_service(name, env, self.logs),
                                            runner.stop, out=self.said, log_dir=self.logs)
        self.stopping = threading.Event()
        stack.callback(self.stop)
        self.supervisor.start_all()
        self.thread = threading.Thread(target=self.watch, name="supervisor", daemon=True)
        self.thread.start()

    def said(self, line: str) -> None:
        self.events.append(line)
        print(f"  [supervisor, as in `paht up`] {line}", flush=True)

    def watch(self) -> None:
        while not self.stopping.wait(1.0):
            self.supervisor.poll()

    def pids(self) -> dict:
        return {name: process.pid for name, process in dict(self.supervisor.processes).items()}

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join(5)
        self.supervisor.stop()


def wait_answering(system: Supervised, timeout: float = 900.0) -> dict:
    """Every service answers /healthz: {name: (seconds until it did, its slowest answer meanwhile)}. Unlike
    bench/throughput.py's, one question at a time with a long patience: a service whose timers hold its event loop
    answers late, and a pile of short questions would only add to its queue."""
    started = time.monotonic()
    found = {}
    for name, port in system.ports.items():
        slowest = 0.0
        while name not in found:
            if time.monotonic() - started > timeout:
                raise BenchError(f"{name} not answering /healthz after {timeout:g} s\n"
                                 f"{log_tails([name], system.logs)}")
            asked = time.monotonic()
            try:
                if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=120).ok:
                    found[name] = (time.monotonic() - started, max(slowest, time.monotonic() - asked))
                    continue
            except requests.RequestException:
                pass
            slowest = max(slowest, time.monotonic() - asked)
            time.sleep(0.5)
    return found


FIRST_RUNS = (("rating", "make_due_reports"), ("intake", "refresh_gauges"), ("intake", "purge_on_schedule"))


def timer_runs(ports: dict) -> Counter:
    """How often each service's timers have run, to an end or to an error (paht_entrypoint_duration_seconds_count
    and paht_entrypoint_errors_total, type timer)."""
    runs = Counter()
    for (service, name, labels), value in scrape(ports).items():
        labels = dict(labels)
        if name.endswith(("_count", "errors_total")) and labels.get("type") == "timer":
            runs[service, labels.get("entrypoint")] += value
    return runs


def settle(system: Supervised) -> tuple[float, dict, bool]:
    """Waits for the services' start-up work: the first run of the timers that read the whole store (rating's
    periodic-report check a minute after start, intake's gauges and retention purge), then until the services
    together use less than QUIET_CPU of a core over 5 s — for a minute at most, as a timer that reads the whole
    store every few seconds may never leave them quiet. (seconds waited, CPU seconds each spent, quiet or not)."""
    started, first = time.monotonic(), _costs.cpu_of(system.pids())
    previous, quiet_from = first, None
    while True:
        time.sleep(5)
        now = _costs.cpu_of(system.pids())
        busy = sum(now[name] - previous.get(name, 0.0) for name in now)
        previous = now
        waited = time.monotonic() - started
        spent = {name: now[name] - first.get(name, 0.0) for name in now}
        if quiet_from is None:
            runs = timer_runs(system.ports)
            if all(runs[timer] >= 1 for timer in FIRST_RUNS) or waited >= SETTLE_MAX_SECONDS:
                quiet_from = time.monotonic()
            continue
        if busy / 5 < QUIET_CPU:
            return waited, spent, True
        if time.monotonic() - quiet_from >= 60:
            return waited, spent, False


TIMER_INTERVALS = {("intake", "refresh_gauges"): 15, ("intake", "purge_on_schedule"): 3600,
                   ("rating", "make_due_reports"): 60, ("sla", "refresh_gauges"): 15}
BROKER_LOST = ("Error connecting to broker", "ECONNRESET", "Connection reset by peer")


def health(system: Supervised) -> list[str]:
    """Per service: its timers that take a second or more a run (from its metrics), and how often its log says it
    lost the broker (a service whose event loop is held too long misses the broker's heartbeats)."""
    lines = []
    timers: dict = defaultdict(dict)
    for (service, name, labels), value in scrape(system.ports).items():
        labels = dict(labels)
        if labels.get("type") == "timer" and name.endswith(("_sum", "_count")):
            timers[service, labels.get("entrypoint")][name.rsplit("_", 1)[-1]] = value
    for service in system.ports:
        slow = [f"{timer} {v['sum'] / v['count']:,.1f} s a run" + (
            f" (every {TIMER_INTERVALS[service, timer]} s)" if (service, timer) in TIMER_INTERVALS else "")
            for (name, timer), v in sorted(timers.items()) if name == service and v.get("count")
            and v["sum"] / v["count"] >= 1.0]
        log = system.logs / f"{service}.log"
        lost = 0
        with contextlib.suppress(OSError):
            lost = sum(1 for line in log.read_text(errors="replace").splitlines()
                       if any(mark in line for mark in BROKER_LOST))
        if slow or lost:
            lines.append(f"  {service}: " + "; ".join(
                ([f"timers {', '.join(slow)}"] if slow else [])
                + ([f"lost its broker connection {lost}× (its log, {log})"] if lost else [])))
    return lines


def memory(pid: int) -> dict:
    """VmRSS and VmHWM (peak) of a process, in MiB."""
    found = {}
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                found[key] = int(value.split()[0]) / 1024
    return found


# ======================================================================================================================
# the pages
# ======================================================================================================================
def sign_in(base: str, username: str) -> requests.Session:
    """A browser-like session signed in through the sign-in form (its CSRF token), as tests/integration do."""
    session = requests.Session()
    form = session.get(f"{base}/staff/login", timeout=30)
    token = CSRF.search(form.text)
    if form.status_code != 200 or token is None:
        raise BenchError(f"/staff/login: HTTP {form.status_code}, no form token")
    answer = session.post(f"{base}/staff/login", data={"csrf_token": token.group(1), "username": username,
                                                        "password": PASSWORD}, allow_redirects=False, timeout=60)
    if answer.status_code != 303 or "paht_staff" not in session.cookies:
        raise BenchError(f"signing in as {username}: HTTP {answer.status_code} {answer.text[:300]}")
    return session


def scrape(ports: dict) -> dict:
    """Every service's /metrics samples of the histograms the bench reads: {(service, sample name, labels): value}."""
    from prometheus_client.parser import text_string_to_metric_families
    found = {}
    for service, port in ports.items():
        try:
            answer = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=120)
            if answer.status_code != 200:
                continue
            for family in text_string_to_metric_families(answer.text):
                if family.name not in ("paht_entrypoint_duration_seconds", "paht_http_request_duration_seconds",
                                       "paht_entrypoint_errors"):
                    continue
                for sample in family.samples:
                    found[service, sample.name, tuple(sorted(sample.labels.items()))] = sample.value
        except (requests.RequestException, ValueError):   # not answering, or not its metrics (a dying service)
            continue
    return found


def changed(before: dict, after: dict) -> dict:
    return {key: value - before.get(key, 0.0) for key, value in after.items() if value - before.get(key, 0.0) > 0}


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    if not ordered:
        return float("nan")
    rank = q * (len(ordered) - 1)
    low = int(rank)
    return ordered[low] + (ordered[min(low + 1, len(ordered) - 1)] - ordered[low]) * (rank - low)


class PageRun:
    def __init__(self, path: str, who: str):
        self.path, self.who = path, who
        self.ms: list[float] = []          # the client's time of each answer 200
        self.server_ms: list[float] = []   # the gateway's access log's (the server's whole answer), answers 200
        self.requests = 0                  # timed GETs made
        self.errors: Counter = Counter()   # timed GETs not answered 200: by status or exception
        self.causes: Counter = Counter()   # the gateway's logged errors meanwhile, by their last line
        self.servable_after: float | None = 0.0   # seconds until the page was first answered 200 (None: never)
        self.waiting: Counter = Counter()  # what it answered until then
        self.first_ms: float | None = None  # the client's time of that first answer 200 (nothing counted before it)
        self.delta: dict = {}
        self.cpu: dict = {}
        self.bytes = 0
        self.stopped_early = False
        self.supervisor: list[str] = []     # deaths and restarts meanwhile

    def p(self, q: float) -> float:
        return percentile(self.ms, q)

    def server_p(self, q: float) -> float:
        return percentile(self.server_ms, q)

    def met(self) -> bool:
        return bool(self.server_ms) and not self.errors and self.server_p(0.95) < PAGE_P95_TARGET_MS

    def server(self) -> tuple[float | None, float | None, int]:
        """The gateway's own histogram for the route, answers 2xx: (mean ms, p95 bucket's upper bound, count)."""
        rows = {key: value for key, value in self.delta.items() if key[0] == "gateway"
                and key[1].startswith("paht_http_request_duration_seconds")
                and dict(key[2]).get("route") == self.path and dict(key[2]).get("method") == "GET"
                and dict(key[2]).get("status") == "2xx"}
        count = sum(v for k, v in rows.items() if k[1].endswith("_count"))
        total = sum(v for k, v in rows.items() if k[1].endswith("_sum"))
        if not count:
            return None, None, 0
        buckets = Counter()
        for key, value in rows.items():
            if key[1].endswith("_bucket"):
                buckets[float(dict(key[2])["le"])] += value
        bound = next((le for le in sorted(buckets) if buckets[le] >= 0.95 * count), float("inf"))
        return total / count * 1000, bound * 1000, int(count)

    def failures(self) -> list[tuple[str, str, float]]:
        """(service.entrypoint, type, workers that raised) meanwhile (paht_entrypoint_errors_total)."""
        rows = []
        for key, value in self.delta.items():
            if key[1] == "paht_entrypoint_errors_total":
                labels = dict(key[2])
                rows.append((f"{labels.get('service', key[0])}.{labels.get('entrypoint')}", labels.get("type", "?"),
                             value))
        return sorted(rows, key=lambda row: -row[2])

    def rpcs(self, requests_made: int) -> list[tuple[str, float, float, str]]:
        """(service.entrypoint, calls per request, mean ms, type) of the work the services did meanwhile."""
        sums, counts = Counter(), Counter()
        kinds = {}
        for key, value in self.delta.items():
            if not key[1].startswith("paht_entrypoint_duration_seconds") or key[1].endswith("_bucket"):
                continue
            labels = dict(key[2])
            if labels.get("entrypoint") in ("metrics", "healthz"):   # the bench's own scrapes
                continue
            name = f"{labels.get('service', key[0])}.{labels.get('entrypoint')}"
            kinds[name] = labels.get("type", "?")
            (sums if key[1].endswith("_sum") else counts)[name] += value
        rows = [(name, counts[name] / max(requests_made, 1), sums[name] / counts[name] * 1000, kinds[name])
                for name in counts if counts[name]]
        return sorted(rows, key=lambda row: -row[1] * row[2])


ACCESS = re.compile(r'"GET (\S+) HTTP/[0-9.]+" (\d{3}) \S+ ([0-9.]+)$')


def log_since(log: Path, offset: int) -> list[dict]:
    records = []
    with open(log, "rb") as file:
        file.seek(offset)
        for line in file.read().decode(errors="replace").splitlines():
            with contextlib.suppress(ValueError):
                records.append(json.loads(line))
    return records


def served(log: Path, offset: int, path: str, expected: int) -> list[tuple[int, float]]:
    """The gateway's access log after `offset` (eventlet.wsgi's line per answer, its last field the seconds from
    the request to the end of the answer): (status, milliseconds) of the GETs of `path`, once `expected` are
    there."""
    found: list[tuple[int, float]] = []
    for _ in range(50):
        found = []
        for record in log_since(log, offset):
            match = ACCESS.search(str(record.get("message", "")))
            if match and match.group(1) == path:
                found.append((int(match.group(2)), float(match.group(3)) * 1000))
        if len(found) >= expected:
            break
        time.sleep(0.1)
    return found


def logged_errors(log: Path, offset: int) -> Counter:
    """The gateway's errors logged after `offset` (and its warnings: an RPC not answered in time), by the last line
    of their exception or their message."""
    causes = Counter()
    for record in log_since(log, offset):
        if record.get("level") in ("WARNING", "ERROR", "CRITICAL"):
            lines = str(record.get("exception") or record.get("message") or "").strip().splitlines()
            causes[(lines[-1] if lines else "?")[:160]] += 1
    return causes


def time_page(base: str, session: requests.Session, run: PageRun, count: int, warmup: int, budget: float,
              patience: float, system: Supervised) -> PageRun:
    """Waits (up to `patience` s) until the page is answered 200, warms up, then times `count` GETs one after
    another (at most `budget` s of them)."""
    ports, log = system.ports, system.logs / "gateway.log"
    url = f"{base}{run.path}"

    def get() -> tuple[str, requests.Response | None]:
        try:
            answer = session.get(url, allow_redirects=False, timeout=PAGE_TIMEOUT)
        except requests.RequestException as exc:
            return type(exc).__name__, None
        return ("ok" if answer.status_code == 200 else f"HTTP {answer.status_code}"), answer

    offset = log.stat().st_size
    pids, events = system.pids(), len(system.events)
    before, cpu_before = scrape(ports), _costs.cpu_of(pids)
    began = time.monotonic()
    while True:
        asked = time.perf_counter()
        outcome, _ = get()
        if outcome == "ok":
            run.servable_after, run.first_ms = time.monotonic() - began, (time.perf_counter() - asked) * 1000
            break
        run.waiting[outcome] += 1
        if time.monotonic() - began > patience:   # what the services did while the page was not served
            run.servable_after = None
            run.requests = sum(run.waiting.values())
            run.cpu = {name: value - cpu_before.get(name, 0.0) for name, value in _costs.cpu_of(pids).items()
                       if system.pids().get(name) == pids[name]}
            run.supervisor = system.events[events:]
            run.causes = logged_errors(log, offset)
            run.delta = changed(before, scrape(ports))
            return run
        time.sleep(5)
    for _ in range(warmup):
        get()
    pids = system.pids()
    events = len(system.events)
    before, cpu_before = scrape(ports), _costs.cpu_of(pids)
    offset = log.stat().st_size
    started = time.monotonic()
    for index in range(count):
        began = time.perf_counter()
        outcome, answer = get()
        run.requests += 1
        if outcome == "ok":
            run.ms.append((time.perf_counter() - began) * 1000)
            run.bytes = len(answer.content)
        else:
            run.errors[outcome] += 1
        if time.monotonic() - started > budget and index + 1 < count:
            run.stopped_early = True
            break
    run.cpu = {name: value - cpu_before.get(name, 0.0) for name, value in _costs.cpu_of(pids).items()
               if system.pids().get(name) == pids[name]}    # a restarted service's CPU is not comparable
    run.supervisor = system.events[events:]
    answers = served(log, offset, run.path, run.requests)
    run.server_ms = [took for status, took in answers if status == 200]
    run.causes = logged_errors(log, offset)
    run.delta = changed(before, scrape(ports))
    return run


# ======================================================================================================================
# the map
# ======================================================================================================================
MAP_PROBE = r"""
(function () {
  var state = window.__pahtMap = {longTasks: []};
  try {
    new PerformanceObserver(function (list) {
      list.getEntries().forEach(function (e) { state.longTasks.push([e.startTime, e.duration]); });
    }).observe({type: "longtask", buffered: true});
  } catch (e) { state.noLongTasks = String(e); }
  function check() {
    var map = document.getElementById("map");
    if (!map) { return; }
    if (state.loaded === undefined && map.dataset.loaded !== undefined) {
      state.loaded = performance.now(); state.points = Number(map.dataset.loaded);
    }
    if (state.loaded !== undefined && state.drawn === undefined && map.querySelector(".leaflet-marker-icon")) {
      state.drawn = performance.now();
      state.icons = map.querySelectorAll(".leaflet-marker-icon").length;
      requestAnimationFrame(function () { setTimeout(function () { state.interactive = performance.now(); }, 0); });
    }
  }
  new MutationObserver(check).observe(document, {subtree: true, childList: true, attributes: true,
                                                 attributeFilter: ["data-loaded"]});
})();
"""
MAP_RESULT = r"""
var s = window.__pahtMap || {};
var nav = performance.getEntriesByType("navigation")[0] || {};
var points = performance.getEntriesByType("resource").filter(function (e) {
  return e.name.indexOf("/map/published.json") >= 0; })[0] || {};
var wards = performance.getEntriesByType("resource").filter(function (e) {
  return e.name.indexOf("/map/wards/") >= 0; })[0] || {};
return {loaded: s.loaded, drawn: s.drawn, interactive: s.interactive, points: s.points, icons: s.icons,
        longTasks: s.longTasks || [], noLongTasks: s.noLongTasks || null,
        html: nav.responseEnd, dcl: nav.domContentLoadedEventEnd, load: nav.loadEventEnd,
        pointsStart: points.requestStart, pointsEnd: points.responseEnd, pointsBytes: points.encodedBodySize,
        wardsEnd: wards.responseEnd, markers: document.querySelectorAll("#map .leaflet-marker-icon").length};
"""


def chromium():
    """Headless Chromium exactly as tests/browser/conftest.py starts it (Debian's chromium and chromedriver; Selenium
    Manager never runs)."""
    os.environ.setdefault("SE_OFFLINE", "1")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from tests.browser.conftest import CHROMEDRIVER, CHROMIUM, WINDOW
    for path in (CHROMIUM, CHROMEDRIVER):
        if not os.access(path, os.X_OK):
            raise BenchError(f"{path} not found: the map needs Debian's chromium and chromium-driver "
                             "(scripts/ensure-tools installs them), or --no-map")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                     "--no-default-browser-check", "--disable-background-networking", "--disable-component-update",
                     "--disable-sync", "--disable-extensions", "--disable-features=Translate,MediaRouter",
                     f"--window-size={WINDOW[0]},{WINDOW[1]}"):
        options.add_argument(argument)
    if os.geteuid() == 0:
        options.add_argument("--no-sandbox")
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    driver.set_script_timeout(60)
    return driver


def time_map(base: str, pack: str, loads: int) -> list[dict]:
    """`loads` cold loads of the public map (the browser's cache off): the page's own timings of each."""
    driver = chromium()
    try:
        driver.execute_cdp_cmd("Network.enable", {})
        driver.execute_cdp_cmd("Network.setCacheDisabled", {"cacheDisabled": True})
        driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": MAP_PROBE})
        found = []
        for _ in range(loads):
            driver.get("about:blank")
            driver.get(f"{base}/?pack={pack}")
            deadline = time.monotonic() + 60
            result = driver.execute_script(MAP_RESULT)
            while result.get("interactive") is None and time.monotonic() < deadline:
                time.sleep(0.05)
                result = driver.execute_script(MAP_RESULT)
            time.sleep(1.0)    # what ran after it (long tasks of clustering, the fit's redraw)
            result = driver.execute_script(MAP_RESULT)
            found.append(result)
        return found
    finally:
        driver.quit()


# ======================================================================================================================
# printing
# ======================================================================================================================
def verdict(met: bool) -> str:
    return "MET" if met else "NOT MET"


def ms(value) -> str:
    return "-" if value is None or value != value else f"{value:,.0f} ms"


def print_seed(info: dict, args, now: datetime) -> None:
    states = info["states"]
    total = Counter()
    for counter in states.values():
        total.update(counter)
    sizes = sorted(info["sizes"])
    print(f"seeded {sum(total.values()):,} reports in {info['seconds']:.0f} s with {info['workers']} workers "
          f"({sum(total.values()) / info['seconds']:,.0f}/s), system time {now:%Y-%m-%d %H:%M} UTC; "
          f"a report's document ~{statistics.mean(sizes) / 1024:.1f} kB (p95 {percentile(sizes, 0.95) / 1024:.1f} kB)")
    for pack_id, counter in sorted(states.items()):
        print(f"  {pack_id:<20} {sum(counter.values()):>7,}  " + ", ".join(
            f"{state} {n:,}" for state, n in counter.most_common()))
    files = ", ".join(f"{name} {size / 2**20:,.0f} MiB" for name, size in info["files"].items())
    print(f"  stores: {files}; {info['counts']['publications']:,} publications, "
          f"{info['counts']['deadlines']:,} deadlines of {args.pack} in the sla store")
    print(f"  accounts ({args.pack}): agency_staff {info['accounts']['agency_staff']} and agency_leader "
          f"{info['accounts']['agency_leader']} of {info['agency']} (the busiest lead agency: "
          f"{info['agency_reports']:,} reports, {info['agency_open']:,} open), operator {info['accounts']['operator']}")


def print_page(run: PageRun, count: int, patience: float) -> bool:
    met = run.met()
    if run.servable_after is None:
        print(f"{run.path:<17} as {run.who:<34} never answered 200 in {patience:g} s: "
              + ", ".join(f"{what} {n}×" for what, n in run.waiting.most_common()) + f"  {verdict(False)}")
        for cause, n in run.causes.most_common(3):
            print(f"    the gateway logged {n}×: {cause}")
        diagnose(run)
        return False
    print(f"{run.path:<17} as {run.who:<34} n={len(run.server_ms):<3} server p50 {ms(run.server_p(0.5)):>9}  "
          f"p95 {ms(run.server_p(0.95)):>9}  max {ms(max(run.server_ms) if run.server_ms else None):>9}  "
          f"{verdict(met)}")
    mean, bound, seen = run.server()
    print(f"    client (same host) p50 {ms(run.p(0.5))}, p95 {ms(run.p(0.95))}; the gateway's histogram for the route: "
          + (f"mean {ms(mean)}, p95 ≤ {ms(bound)} (n={seen})" if seen else "no samples")
          + f"; page {run.bytes / 1024:,.0f} kB; the first answer 200 (nothing of it counted before) {ms(run.first_ms)}"
          + (f"; first answered 200 after {run.servable_after:.0f} s (before: "
             + ", ".join(f"{what} {n}×" for what, n in run.waiting.most_common()) + ")" if run.waiting else "")
          + (f"; stopped after {run.requests} of {count} requests (--budget)" if run.stopped_early else ""))
    if run.errors:
        print(f"    NOT ANSWERED 200: {sum(run.errors.values())} of {run.requests} timed GETs ("
              + ", ".join(f"{what} {n}×" for what, n in run.errors.most_common()) + ")")
    for cause, n in run.causes.most_common(3):
        print(f"    the gateway logged {n}×: {cause}")
    diagnose(run)
    return met


def diagnose(run: PageRun) -> None:
    """Where the time went while the page was asked for: services that exited, workers that raised, the RPCs per
    request, the services' timers that ran meanwhile, the CPU each service spent per request."""
    if run.supervisor:
        print(f"    services that exited meanwhile (restarted as `paht up` does): {len(run.supervisor)} supervisor "
              "events, above")
    n = run.requests
    failed = run.failures()
    if failed:
        print("    workers that raised meanwhile: " + "; ".join(f"{name} ({kind}) {count:.0f}×"
                                                             for name, kind, count in failed[:8]))
    rows = [row for row in run.rpcs(n) if row[3] == "rpc"]
    if rows:
        print("    RPCs per request: " + "; ".join(
            f"{name} {per:.2g}× {mean_ms:,.0f} ms" for name, per, mean_ms, _ in rows[:8]))
    other = [row for row in run.rpcs(n) if row[3] not in ("rpc", "http") and row[2] >= 5]
    if other:
        print("    meanwhile, the services' own work: " + "; ".join(
            f"{name} ({kind}) {per * n:.0f}× {mean_ms:,.0f} ms" for name, per, mean_ms, kind in other[:6]))
    cpu = {name: seconds for name, seconds in run.cpu.items() if seconds > 0.005}
    if cpu and n:
        print("    CPU per request: " + ", ".join(f"{name} {seconds * 1000 / n:,.0f} ms" for name, seconds in
                                                   sorted(cpu.items(), key=lambda item: -item[1])))


def print_map(loads: list[dict], args) -> bool:
    interactive = [load["interactive"] for load in loads if load.get("interactive") is not None]
    for index, load in enumerate(loads, 1):
        long_tasks = load.get("longTasks") or []
        print(f"  load {index}: interactive {ms(load.get('interactive'))} (HTML {ms(load.get('html'))}, "
              f"DOMContentLoaded {ms(load.get('dcl'))}, points answered {ms(load.get('pointsEnd'))} "
              f"[{(load.get('pointsBytes') or 0) / 1024:,.0f} kB, request → response "
              f"{ms((load.get('pointsEnd') or 0) - (load.get('pointsStart') or 0))}], data-loaded "
              f"{ms(load.get('loaded'))}, clusters drawn {ms(load.get('drawn'))}); {load.get('points')} points, "
              f"{load.get('markers')} cluster icons; long tasks {len(long_tasks)}, "
              f"{sum(d for _, d in long_tasks):,.0f} ms in all, longest {ms(max((d for _, d in long_tasks), default=0))}")
    if len(interactive) < len(loads):
        print(f"  {len(loads) - len(interactive)} load(s) never became interactive within 60 s")
    median = statistics.median(interactive) if interactive else None
    met = median is not None and len(interactive) == len(loads) and median < MAP_TARGET_MS
    points = {load.get("points") for load in loads}
    print(f"  median {ms(median)}, worst {ms(max(interactive) if interactive else None)} over {len(loads)} cold "
          f"loads; points on the map: {', '.join(str(p) for p in sorted(points, key=str))} "
          f"(expected {args.published:,})")
    return met


# ======================================================================================================================
# the run
# ======================================================================================================================
PAGES = (("/", None), ("/staff/", "agency_staff"), ("/staff/dashboard", "agency_leader"), ("/centre/", "operator"))


def run(args, workdir: Path, stack: contextlib.ExitStack) -> int:
    if not runner.broker_reachable(args.amqp):
        raise BenchError(f"RabbitMQ is not reachable at {args.amqp}: start it (scripts/ensure-rabbitmq) or give --amqp")
    load = os.getloadavg()[0]
    if load > 0.5:
        print(f"note: this machine is busy before the bench starts (load average {load:.1f} on {os.cpu_count()} "
              "cores): the times below include its share")
    vhost = Vhost(args.amqp)
    amqp = vhost.make()
    stack.callback(vhost.delete)
    var = workdir / "var"
    var.mkdir(parents=True)
    fresh_environment(var, amqp)
    from paht.clock import ControlledClock
    now = ControlledClock(var / "clock.json").start_at(system_time(datetime.now(UTC)))
    print(f"seeding {args.reports:,} reports ({args.published:,} published in {args.pack}) into {var} (the embedded "
          "store, as `paht up` runs: SQLite files under var/db) …", flush=True)
    info = seed(args, now)
    print_seed(info, args, now)

    print(f"starting PAHT ({len(runner.SERVICES)} services) …", flush=True)
    system = Supervised(var, stack)
    ports = system.ports
    answered = wait_answering(system)
    slow = {name: took for name, (_, took) in answered.items() if took > 2}
    print(f"  all answering /healthz after {max(at for at, _ in answered.values()):.0f} s"
          + (" (slow answers: " + ", ".join(f"{name} {took:.0f} s" for name, took in slow.items()) + ")" if slow
             else "") + "; waiting for the start-up work to end …", flush=True)
    waited, spent, quiet = settle(system)
    print(f"  {'settled' if quiet else 'never quiet'} after {waited:.0f} s more (the first runs of "
          + ", ".join(f"{service}.{timer}" for service, timer in FIRST_RUNS) + "; CPU meanwhile: " + ", ".join(
              f"{name} {seconds:.1f} s" for name, seconds in sorted(spent.items(), key=lambda item: -item[1])
              if seconds >= 0.1) + ")")
    pids = system.pids()
    idle_before = _costs.cpu_of(pids)
    time.sleep(15)
    idle = {name: value - idle_before.get(name, 0.0) for name, value in _costs.cpu_of(pids).items()
            if system.pids().get(name) == pids[name]}
    print("  idle load over 15 s (the services' timers): " + (", ".join(
        f"{name} {seconds / 15 * 100:.0f} % of a core" for name, seconds in
        sorted(idle.items(), key=lambda item: -item[1]) if seconds > 0.05) or "none"))
    print("\n".join(health(system)))
    memory_start = memory(system.pids()["gateway"])
    base = f"http://127.0.0.1:{ports['gateway']}"

    sessions = {None: requests.Session()}
    for role, username in info["accounts"].items():
        sessions[role] = sign_in(base, username)
    print(f"\npages: {args.requests} GETs each, one at a time, after the page first answers 200 and {args.warmup} "
          "warm-up GETs; server time = the gateway's access log (request to the end of its answer), of the answers "
          f"200; p95 target < {PAGE_P95_TARGET_MS:g} ms.\n"
          "RPC times are the called service's own histogram (until its reply is confirmed, so longer when its own "
          "timers hold it); they nest: rating.scorecards includes the intake.agency_counters and sla.agency_lateness "
          "it waits for")
    runs = []
    for path, role in PAGES:
        who = "anonymous" if role is None else f"{role} {info['accounts'][role]}"
        page_run = time_page(base, sessions[role], PageRun(path, who), args.requests, args.warmup, args.budget,
                             args.patience, system)
        runs.append(page_run)
        print_page(page_run, args.requests, args.patience)
    memory_pages = memory(system.pids()["gateway"])

    map_met, loads, map_error = None, [], None
    if not args.no_map:
        print(f"\nthe public map /?pack={args.pack} in headless Chromium, {args.map_loads} cold loads (target: "
              f"interactive < {MAP_TARGET_MS / 1000:g} s from navigation start, median)")
        log = system.logs / "gateway.log"
        offset, before = log.stat().st_size, scrape(ports)
        try:
            loads = time_map(base, args.pack, args.map_loads)
            points = [took for status, took in served(log, offset, f"/map/published.json?pack={args.pack}",
                                                      args.map_loads) if status == 200]
            spent = PageRun("/map/published.json", "the map")
            spent.delta = changed(before, scrape(ports))
        except BenchError as exc:
            map_error = str(exc)
        except Exception as exc:  # noqa: BLE001 — the browser or its driver failed: the rest is still worth printing
            map_error = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
        if map_error:
            print(f"  could not measure the map: {map_error}")
        else:
            map_met = print_map(loads, args)
            rpc = [row for row in spent.rpcs(args.map_loads) if row[3] == "rpc"]
            drawn = [load["drawn"] - load["pointsEnd"] for load in loads
                     if load.get("drawn") is not None and load.get("pointsEnd") is not None]
            print(f"  where the time goes: the points' answer /map/published.json, server p50 "
                  f"{ms(percentile(points, 0.5))} (the gateway's access log; "
                  + ("; ".join(f"{name} {mean_ms:,.0f} ms" for name, _, mean_ms, _ in rpc[:3]) or "no RPC seen")
                  + f"), then the browser's clustering and drawing p50 {ms(percentile(drawn, 0.5))}")
    memory_end = memory(system.pids()["gateway"])

    print("\ngateway memory (VmRSS / peak VmHWM): " + "; ".join(
        f"{when} {m.get('VmRSS', 0):,.0f} / {m.get('VmHWM', 0):,.0f} MiB" for when, m in
        (("settled", memory_start), ("after the pages", memory_pages), ("after the map", memory_end)) if m))

    print("\nthe services at the end (timers of a second or more a run, lost broker connections):")
    print("\n".join(health(system)) or "  nothing to say")

    print(f"\ntargets (issue 22), {args.reports:,} reports in the store:")
    for page_run in runs:
        if page_run.servable_after is None:
            print(f"  server p95 {page_run.path:<17} < {PAGE_P95_TARGET_MS:g} ms {'-':>10}  {verdict(False)} "
                  f"(never answered 200 in {args.patience:g} s)")
            continue
        print(f"  server p95 {page_run.path:<17} < {PAGE_P95_TARGET_MS:g} ms {ms(page_run.server_p(0.95)):>10}  "
              f"{verdict(page_run.met())}"
              + (f"  ({sum(page_run.errors.values())} of {page_run.requests} not answered 200)" if page_run.errors
                 else ""))
    if map_met is None:
        print(f"  map interactive < 2 s               not measured ({map_error or '--no-map'})")
    else:
        interactive = [load["interactive"] for load in loads if load.get("interactive") is not None]
        median = statistics.median(interactive) if interactive else None
        print(f"  map of {args.published:,} interactive < {MAP_TARGET_MS / 1000:g} s     {ms(median):>10}  "
              f"{verdict(map_met)} (median of {len(loads)} cold loads)")
    print(f"  gateway memory                      {memory_end.get('VmRSS', 0):,.0f} MiB resident "
          f"(peak {memory_end.get('VmHWM', 0):,.0f} MiB); no target")
    exits = Counter(line.split(":")[0] for line in system.events if "exited with code" in line)
    print("  services that exited during the run (restarted as `paht up` does): "
          + (", ".join(f"{name} {count}×" for name, count in exits.most_common()) if exits else "none"))
    load = os.getloadavg()[0]
    if load > 1.5:
        print(f"note: load average {load:.1f} on {os.cpu_count()} cores at the end: other work on this machine "
              "shared the CPU with the services")
    return 1 if map_error else 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reports", type=int, default=100_000, help="reports in the store, all packs")
    parser.add_argument("--published", type=int, default=10_000, help="published results of --pack (the map)")
    parser.add_argument("--requests", type=int, default=50, help="timed GETs of each page")
    parser.add_argument("--warmup", type=int, default=3, help="GETs of each page before timing")
    parser.add_argument("--budget", type=float, default=600.0, help="seconds at most per page's timed GETs")
    parser.add_argument("--patience", type=float, default=300.0,
                        help="seconds to wait for a page's first answer 200 before timing it")
    parser.add_argument("--pack", default="thua-thien-hue-2022", help="the province of the map and the accounts")
    parser.add_argument("--map-loads", type=int, default=5, help="cold loads of the map")
    parser.add_argument("--no-map", action="store_true", help="skip the browser")
    parser.add_argument("--seed", type=int, default=22, help="the random data's seed")
    parser.add_argument("--amqp", default=settings.amqp_uri(), help="the broker (default AMQP_URI)")
    parser.add_argument("--keep", action="store_true", help="keep the temp directory (the stores, logs)")
    args = parser.parse_args(argv)
    if args.reports < 10 or args.published < 1 or args.requests < 1 or args.map_loads < 1:
        parser.error("--reports, --published, --requests and --map-loads must be positive (--reports ≥ 10)")

    return measured("portal", args.keep, lambda workdir, stack: run(args, workdir, stack))


if __name__ == "__main__":
    sys.exit(main())
