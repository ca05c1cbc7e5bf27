"""A rule file with a defect is refused with its file and line, and never loads half-way."""
from __future__ import annotations

import threading
import time

from paht import rules as registry
from paht.rules import load_pack, rules_root
from tests.unit.pack_files import HUE, edit, line_of, refused


def test_yaml_error_names_file_and_line(pack_copy):
    path = pack_copy / "acceptance.yaml"
    edit(path, "    when: {has_gps: false}", "    when: {has_gps: false")
    error = refused(pack_copy)
    assert error.file.endswith("acceptance.yaml") and error.line is not None


def test_unknown_action(pack_copy):
    path = pack_copy / "acceptance.yaml"
    edit(path, "then: {action: request_supplement, reason: MISSING_LOCATION}\n    message: Vui lòng bật",
         "then: {action: shout, reason: MISSING_LOCATION}\n    message: Vui lòng bật")
    error = refused(pack_copy)
    assert "unknown action" in error.message and error.rule_id == "tth-acc-no-gps"
    assert error.line == line_of(path, "id: tth-acc-no-gps")


def test_unknown_fact(pack_copy):
    edit(pack_copy / "acceptance.yaml", "when: {has_gps: false}", "when: {has_gsp: false}")
    error = refused(pack_copy)
    assert "unknown fact 'has_gsp'" in error.message and error.rule_id == "tth-acc-no-gps"


def test_missing_article(pack_copy):
    path = pack_copy / "routing.yaml"
    edit(path, "  - id: tth-route-health\n    article: Điều 10 khoản 3\n", "  - id: tth-route-health\n")
    error = refused(pack_copy)
    assert "article" in error.message and error.file.endswith("routing.yaml")
    assert error.line == line_of(path, "id: tth-route-health")


def test_duplicate_rule_id(pack_copy):
    edit(pack_copy / "routing.yaml", "id: tth-route-education", "id: tth-route-health")
    error = refused(pack_copy)
    assert "duplicate rule id" in error.message


def test_unknown_agency_in_route(pack_copy):
    edit(pack_copy / "routing.yaml", "lead: so-y-te}", "lead: so-khong-ton-tai}")
    assert "unknown agency" in refused(pack_copy).message


def test_deadline_without_unit(pack_copy):
    edit(pack_copy / "sla.yaml", "then: {action: set_deadline, deadline: $receive_time}",
         "then: {action: set_deadline, amount: 30}")
    assert "unit" in refused(pack_copy).message


def test_unknown_parameter_and_reason(pack_copy):
    edit(pack_copy / "acceptance.yaml", "{gt: $photo_max_age}", "{gt: $photo_max_agee}")
    assert "unknown parameter" in refused(pack_copy).message


def test_unknown_reason_code(pack_copy):
    edit(pack_copy / "acceptance.yaml", "reason: DUPLICATE}", "reason: DUPLICATED}")
    assert "reason" in refused(pack_copy).message


def test_unknown_step_value_in_sla(pack_copy):
    """Review finding 5: `step: proces` used to load, and urgent processing silently lost its deadline."""
    path = pack_copy / "sla.yaml"
    edit(path, "when: {step: process}", "when: {step: proces}")
    error = refused(pack_copy)
    assert "unknown step 'proces'" in error.message and error.rule_id == "tth-sla-process"
    assert error.file.endswith("sla.yaml") and error.line == line_of(path, "{step: proces}")
    assert str(error).startswith(f"{path}:{error.line}: rule tth-sla-process: ")


def test_unknown_category_value_in_routing(pack_copy):
    """Review finding 5: `category: helth` used to load, and health reports lost their route."""
    path = pack_copy / "routing.yaml"
    edit(path, "when: {category: health}", "when: {category: helth}")
    error = refused(pack_copy)
    assert "unknown category 'helth'" in error.message and error.rule_id == "tth-route-health"
    assert error.file.endswith("routing.yaml") and error.line == line_of(path, "category: helth")


def test_wrong_type_deep_in_a_combination(pack_copy):
    path = pack_copy / "sla.yaml"
    edit(path, "when: {all: [{step: process}, {urgent: true}]}", 'when: {all: [{step: process}, {urgent: "true"}]}')
    error = refused(pack_copy)
    assert "urgent is true or false" in error.message and error.rule_id == "tth-sla-immediate-process"
    assert error.line == line_of(path, 'urgent: "true"')


def test_hot_reload_and_last_good_pack(pack_copy, monkeypatch):
    monkeypatch.setenv("PAHT_RULES_DIR", str(pack_copy.parent))
    monkeypatch.setattr(registry, "RELOAD_CHECK_SECONDS", 0.0)
    pack = registry.get_pack(HUE.name)
    assert pack.evaluate("acceptance", {"photo_age_h": 30})["decision"] == "needs_supplement"
    edit(pack_copy / "pack.yaml", "photo_max_age: {amount: 24, unit: h", "photo_max_age: {amount: 48, unit: h")
    time.sleep(0.01)
    reloaded = registry.get_pack(HUE.name)
    assert reloaded is not pack
    assert reloaded.evaluate("acceptance", {"photo_age_h": 30})["decision"] == "accepted"
    edit(pack_copy / "acceptance.yaml", "when: {has_gps: false}", "when: {no_such_fact: false}")
    kept = registry.get_pack(HUE.name)
    assert kept is reloaded    # the broken edit is logged and ignored


def test_evaluations_leave_no_session_behind():
    import resource
    pack = load_pack(HUE)
    for i in range(2000):
        pack.evaluate("acceptance", {"photo_age_h": i % 48, "has_gps": bool(i % 2)})
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    for i in range(40000):   # ~MemoryError at 40,000 sessions if states were kept
        pack.evaluate("acceptance", {"photo_age_h": i % 48, "has_gps": bool(i % 2)})
    grown_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert grown_kb < 20_000, grown_kb


def test_thread_safety():
    pack = load_pack(HUE)
    errors = []

    def work(seed):
        try:
            for i in range(300):
                decision = pack.evaluate("acceptance", {"photo_age_h": (seed + i) % 48})
                assert decision["decision"] == ("needs_supplement" if (seed + i) % 48 > 24 else "accepted")
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


def test_all_packs_check_and_their_cases_pass():
    from paht.rules.cases import run_cases
    for pack_id in registry.list_packs():
        results = run_cases(load_pack(rules_root() / pack_id))
        assert len(results) >= 12, pack_id
        assert all(r.ok for r in results), [r for r in results if not r.ok]
