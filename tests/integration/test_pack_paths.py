"""Every pack's own path through the services (issue 24 item 5, issue 23 item 12): for each pack of rules/, one
report per route kind the pack has — normal, immediate, multi-agency, designated, rework, dissatisfied — driven
through the real nameko services on the real RabbitMQ, each checked against what the pack's own rules decide for
it. The kinds and the reports that reach them are generated from the pack (its routing, sla and rating rules), so
a new pack gets its path with no test to write, and a rule only a worked case reaches (the review's F11: the
`*-route-designated` rules) fails here.

The reports of a pack run side by side in one set of services: each step is taken for all of them, then waited
for, so a pack costs about one report's time."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import pytest
import requests

from paht import accounts, clock
from paht.demo_media import camera_jpeg
from paht.geo import WardIndex
from paht.rules import get_pack, list_packs
from paht.rules.vocabulary import FACTS

pytestmark = [pytest.mark.integration, pytest.mark.calendar]

KINDS = ("normal", "immediate", "multi-agency", "designated", "rework", "dissatisfied")
NORMAL_FIRST = ("health", "education", "roads_traffic", "water_drainage", "waste_sanitation", "trees_parks",
                "urban_order", "construction_land", "admin_procedures", "other")
DESIGNATED_AGENCY = "so-xay-dung"


@dataclass
class Path:
    """One report of a pack: the route kind it takes, what it is submitted with, and what the pack decides."""
    kind: str
    category: str
    route: dict                         # the pack's routing decision for it (pack.evaluate)
    address_only: bool = False          # submitted without GPS (the designated kind, where the pack accepts it)
    report_id: str = ""
    token: str = ""
    fired: set = field(default_factory=set)


def routing_facts(category: str, ward_code: str | None, **extra) -> dict:
    return dict(FACTS["routing"], category=category, ward_code=ward_code or "", ward_found=bool(ward_code), **extra)


def place(pack) -> tuple[str, tuple[float, float]]:
    """A ward of the pack whose committee is in its directory, and a point inside it."""
    index = WardIndex.of(pack)
    ward = next(w for w in index.wards() if f"ubnd-{w.code}" in pack.agencies)
    return ward.code, index.representative_point(ward.code)


def pack_paths(pack_id: str) -> list[Path]:
    """The route kinds the pack has, each with a category that reaches it, from the pack's own rules."""
    pack = get_pack(pack_id)
    ward, _ = place(pack)
    categories = list(pack.categories)
    decided = {c: pack.evaluate("routing", routing_facts(c, ward)) for c in categories}
    routed = {c: d for c, d in decided.items() if d["decision"] == "route"}
    paths = []
    normal = next(c for c in NORMAL_FIRST if c in routed and not routed[c]["co"] and not routed[c]["immediate"])
    paths.append(Path("normal", normal, routed[normal]))
    immediate = next((c for c, d in routed.items() if d["immediate"]), None)
    if immediate:
        paths.append(Path("immediate", immediate, routed[immediate]))
    multi = next((c for c, d in routed.items() if d["co"] and not d["immediate"]), None)
    if multi:
        paths.append(Path("multi-agency", multi, routed[multi]))
    designated = pack.evaluate("routing", routing_facts("other", None, designated_agency=DESIGNATED_AGENCY))
    if designated["decision"] == "route":
        address_only = pack.evaluate("acceptance", dict(FACTS["acceptance"], has_gps=False))["decision"] == "accepted"
        unresolved = pack.evaluate("routing", routing_facts("other", None))["decision"] == "unresolved"
        paths.append(Path("designated", "other", designated, address_only=address_only and unresolved))
    publication = pack.meta.get("publication") or {}
    if publication.get("operator_review") and publication.get("rework"):
        paths.append(Path("rework", normal, routed[normal]))
    if any(level.get("counts_as") == "unsatisfied" for level in pack.rating_levels()):
        paths.append(Path("dissatisfied", normal, routed[normal]))
    return paths


def photo(seed: int, hours_ago: float = 1.0):
    return ("photo.jpg", camera_jpeg(clock.now() - timedelta(hours=hours_ago), seed=seed), "image/jpeg")


def submission(pack_id: str, path: Path, index: int, point) -> dict:
    account = f"{pack_id}-path-{path.kind}"
    report = {"pack": pack_id, "channel": "app", "category": path.category,
              "description": f"Phản ánh kiểm tra tuyến {path.kind} số {index}: sự việc tại hiện trường cần xử lý",
              "reporter": {"name": f"Người phản ánh {index}", "phone": f"09051234{index:02d}",
                           "email": f"path{index}@example.vn", "address": f"{index} Trần Hưng Đạo",
                           "citizen_id": f"0791234567{index:02d}", "account_id": account,
                           "account_proof": accounts.proof(account)}}
    if path.address_only:
        report["location"] = {"source": "manual", "address": f"Khu phố {index}, gần chợ cũ"}
    else:
        report["location"] = {"lat": point[0], "lon": point[1], "source": "gps"}
    return report


def lead(view: dict) -> str:
    return next(a["id"] for a in view["assigned_agencies"] if a["role"] == "lead")


def operator_view(system, path: Path) -> dict:
    return system.staff_get(f"reports/{path.report_id}", system.tokens["operator"]).json()


def deadline_rules(system, path: Path) -> set[str]:
    return {d["rule"] for d in system.get(path.report_id)["deadlines"] if d.get("rule")}


def act(system, path: Path, action: str, token: str, photos=(), **body) -> None:
    answer = system.staff(path.report_id, action, token, photos=photos, **body)
    assert answer.status_code == 200, f"{path.kind} {action}: {answer.text}"


@pytest.mark.parametrize("pack_id", list_packs())
def test_each_route_kind_of_the_pack_through_the_services(system, pack_id):
    pack = get_pack(pack_id)
    paths = pack_paths(pack_id)
    kinds = [p.kind for p in paths]
    assert {"normal", "designated"} <= set(kinds), kinds          # every pack routes and designates
    _, point = place(pack)
    system.start()
    for index, path in enumerate(paths, 1):
        answer = system.submit(submission(pack_id, path, index, point), [photo(index)])
        assert answer.status_code == 201, answer.text
        path.report_id, path.token = answer.json()["id"], answer.json()["tracking_token"]
    operator = system.tokens["operator"]

    # routing: each report where the pack's own rules send it
    by_kind = {p.kind: p for p in paths}
    for path in paths:
        unresolved = path.kind == "designated" and path.address_only
        system.wait_state(path.report_id, "routing_unresolved" if unresolved else "dispatched")
    if "designated" in by_kind:
        path = by_kind["designated"]
        if not path.address_only:
            # the pack routes every report of a ward (GPS required): the centre finds this one unresolved
            act(system, path, "unresolve", operator, note="Chưa xác định được cơ quan có thẩm quyền xử lý")
            view = system.wait_for(path.report_id, lambda v: v["state"] == "routing_unresolved" and not any(
                d["party"] != "centre" and not d.get("closed_at") for d in v["deadlines"]), what="unresolved")
            assert view["assigned_agencies"] == []
            unresolved = next(r for r in pack.stages["routing"] if r["then"]["action"] == "unresolved")
            assert operator_view(system, path)["route"]["rule"] == unresolved["id"]
        act(system, path, "designate", operator, agency=DESIGNATED_AGENCY)
    for path in paths:
        view = system.wait_state(path.report_id, "dispatched")
        route = operator_view(system, path)["route"]
        assert (route["rule"], route["article"]) == (path.route["rule"], path.route["article"]), path.kind
        assert lead(view) == path.route["lead"], path.kind
        co = sorted(a["id"] for a in view["assigned_agencies"] if a["role"] == "co")
        assert co == sorted(path.route["co"]), path.kind
        assert bool(route.get("immediate")) == bool(path.route.get("immediate")), path.kind
        path.fired.add(route["rule"])

    # the lead acknowledges; the step's deadline is the one the pack's sla rules give it
    for path in paths:
        act(system, path, "acknowledge", system.agency_tokens(pack_id, lead(system.get(path.report_id)))[0])
    for path in paths:
        system.wait_state(path.report_id, "in_progress")
        path.fired |= deadline_rules(system, path)
    multi = by_kind.get("multi-agency")
    if multi:   # the lead forwards to its co-agencies; the multi-agency procedure's steps are the pack's
        sla = {step: pack.evaluate("sla", dict(FACTS["sla"], step=step, multi_agency=True))
               for step in ("forward", "co_process", "process")}
        if sla["forward"]["decision"] == "set_deadline":   # opened on the acknowledgement
            system.wait_for(multi.report_id, lambda v: sla["forward"]["rule"] in {d.get("rule") for d in v["deadlines"]},
                            what=f"forward deadline {sla['forward']['rule']}")
        act(system, multi, "forward", system.agency_tokens(pack_id, multi.route["lead"])[0],
            agencies=multi.route["co"])

        def multi_deadlines(view):
            running = {(d["step"], d.get("agency")): d["rule"] for d in view["deadlines"] if not d.get("closed_at")}
            co_ok = sla["co_process"]["decision"] != "set_deadline" or all(
                running.get(("co_process", co)) == sla["co_process"]["rule"] for co in multi.route["co"])
            process = running.get(("process", multi.route["lead"]))
            process_ok = process == (sla["process"]["rule"] if sla["process"]["decision"] == "set_deadline" else None)
            return co_ok and process_ok and "forward" not in {step for step, _ in running}

        system.wait_for(multi.report_id, multi_deadlines, what="the multi-agency procedure's deadlines")
        multi.fired |= deadline_rules(system, multi)
    immediate = by_kind.get("immediate")
    if immediate:
        view = system.get(immediate.report_id)
        for deadline in view["deadlines"]:   # each step of an immediate report is timed by the pack's urgent rule
            expected = pack.evaluate("sla", dict(FACTS["sla"], step=deadline["step"], urgent=True))
            if deadline["party"] != "centre" and expected["decision"] == "set_deadline":
                assert deadline["rule"] == expected["rule"], (deadline, expected["rule"])

    # normal, rework, dissatisfied: result, approval, the centre's check, publication
    handled = [by_kind[k] for k in ("normal", "rework", "dissatisfied", "designated") if k in by_kind]
    needs_photos = ((pack.meta.get("publication") or {}).get("after_photos_required") or {}).get("categories", [])

    def result_and_approval(round_: int) -> None:
        for path in handled:
            staff, leader = system.agency_tokens(pack_id, lead(system.get(path.report_id)))
            photos = [photo(500 + 10 * round_ + KINDS.index(path.kind), 0)] if path.category in needs_photos else ()
            act(system, path, "submit_result", staff, photos=photos, result_text=f"Đã xử lý xong ({round_}).")
        for path in handled:
            system.wait_state(path.report_id, "result_submitted")
            act(system, path, "approve", system.agency_tokens(pack_id, lead(system.get(path.report_id)))[1])
        for path in handled:
            system.wait_state(path.report_id, "approved")

    result_and_approval(1)
    rework = by_kind.get("rework")
    if rework:
        act(system, rework, "rework", operator, kind="format", note="Chưa đúng Mẫu thông tin kết quả xử lý")
        system.wait_state(rework.report_id, "in_progress")
        expected = pack.evaluate("sla", dict(FACTS["sla"], step="rework", rework_kind="format"))
        if expected["decision"] == "set_deadline":
            system.wait_for(rework.report_id, lambda v: expected["rule"] in {d.get("rule") for d in v["deadlines"]},
                            what=f"rework deadline {expected['rule']}")
            rework.fired.add(expected["rule"])
        handled_before, handled[:] = list(handled), [rework]
        result_and_approval(2)
        handled[:] = handled_before
    designated = by_kind.get("designated")
    if (pack.meta.get("publication") or {}).get("operator_review"):
        for path in handled:
            answer = system.staff(path.report_id, "publish", operator)
            if answer.status_code == 409 and path is designated:   # the designated agency agrees first
                act(system, path, "agree", system.agency_tokens(pack_id, DESIGNATED_AGENCY)[0], note="Thống nhất")
                answer = system.staff(path.report_id, "publish", operator)
            assert answer.status_code == 200, f"{path.kind} publish: {answer.text}"
    for path in handled:
        system.wait_for(path.report_id, lambda v: v["state"] in ("published", "delivered_privately"),
                        what=f"{path.kind} published")
        path.fired |= deadline_rules(system, path)

    # dissatisfied: what the pack's rating_scale says an unsatisfied rating sets off
    dissatisfied = by_kind.get("dissatisfied")
    if dissatisfied:
        level = next(level for level in pack.rating_levels() if level.get("counts_as") == "unsatisfied")
        rated = requests.post(f"{system.api}/api/v1/reports/{dissatisfied.report_id}/rating", json={"level": level["id"]},
                              headers={"X-Tracking-Token": dissatisfied.token}, timeout=10)
        assert rated.status_code == 200, rated.text
        action = (pack.meta["rating_scale"].get("unsatisfied") or {}).get("action")
        if action == "reprocess":
            system.wait_state(dissatisfied.report_id, "in_progress")
        elif action == "clarify":
            system.wait_for(dissatisfied.report_id, lambda v: any(d["step"] == "clarify" for d in v["deadlines"]),
                            what="clarification deadline")
        else:   # new_report: the reporter files a new report that follows this one, routed as any other
            system.wait_for(dissatisfied.report_id, lambda v: (v.get("rating") or {}).get("level") == level["id"],
                            what="rating")
            follow_up = submission(pack_id, dissatisfied, len(paths) + 1, point) | {
                "follows": dissatisfied.report_id, "description": "Phản ánh lại: kết quả xử lý chưa đạt, sự việc vẫn còn"}
            follow_up["reporter"] = submission(pack_id, dissatisfied, paths.index(dissatisfied) + 1, point)["reporter"]
            answer = system.submit(follow_up, [photo(900)])
            assert answer.status_code == 201, answer.text
            view = system.wait_state(answer.json()["id"], "dispatched")
            assert lead(view) == dissatisfied.route["lead"]
        dissatisfied.fired |= deadline_rules(system, dissatisfied)

    # every rule that took effect is the pack's own
    own = {r["id"] for stage in pack.stages.values() for r in stage}
    fired = set().union(*(p.fired for p in paths))
    assert fired <= own, fired - own
    assert any(r.endswith("-route-designated") for r in fired)
