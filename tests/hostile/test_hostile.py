"""The hostile-input corpus (tests/hostile/corpus.py) against the real services on the real broker, started once.

For every case: the expected status and code, a JSON error body with both messages; nothing stored for refused
submissions (the operator's report count and the media directory); a refused action leaves its report's timeline
alone; no ERROR or traceback logged. After the corpus, the weird-but-valid reports are dispatched and shown as sent,
and a normal report is dispatched within 10 s. Every mismatch is collected and listed at the end.
"""
from __future__ import annotations

import hashlib
import itertools
import json
import logging
import os
import re
import time
from collections import Counter, defaultdict
from datetime import timedelta

import pytest

from paht import clock
from paht.rules import get_pack, list_packs
from tests.hostile import media
from tests.hostile.client import (
    Part,
    Req,
    agency_token,
    other_agency,
    other_pack_agency,
    request,
    send,
)
from tests.hostile.conftest import SUMMARY
from tests.hostile.corpus import CASES, PACK, by_kind
from tests.integration.test_walking_route import fresh_photo, good_report

pytestmark = pytest.mark.integration

DISPATCH_TIMEOUT = 30.0       # for the corpus' valid reports together
SETTLE_SECONDS = 1.0          # a timeline unchanged this long is taken as settled


class ErrorRecords(logging.Handler):
    """Every record at ERROR or above, or carrying a traceback."""

    def __init__(self):
        super().__init__(logging.NOTSET)
        self.records: list[logging.LogRecord] = []
        self.checked = 0           # records up to here are accounted for

    def emit(self, record):
        if record.levelno >= logging.ERROR or record.exc_info:
            self.records.append(record)

    @staticmethod
    def key(record) -> str:
        """The record without the parts that differ between repeats (addresses, report ids)."""
        text = record.name + " " + record.getMessage()[:200]
        if record.exc_info and record.exc_info[1] is not None:
            text += " " + type(record.exc_info[1]).__name__
        return re.sub(r"0x[0-9a-f]+|PA-\d{6}-[0-9A-F]+", "…", text)

    @staticmethod
    def describe(record) -> str:
        text = f"{record.levelname} {record.name}: {record.getMessage()[:200]}"
        if record.exc_info and record.exc_info[1] is not None:
            text += f" [{type(record.exc_info[1]).__name__}: {str(record.exc_info[1])[:160]}]"
        return text


class Corpus:
    def __init__(self, system):
        self.system = system
        self.api = system.api
        self.ctx: dict = {}
        self.problems: list[str] = []
        self.failed: dict[str, list[str]] = {}
        self.valid: list[tuple] = []          # (case, report id)
        self.phones = itertools.count(1)
        self.seeds = itertools.count(1000)
        self.listing_error = None
        self.log_keys: Counter = Counter()     # records seen outside a case's own requests, by key
        self.log_first: dict = {}
        self.last_case = "setup"

    # ---- small client -----------------------------------------------------------------------------------------
    def get(self, path, token=None):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return request(self.api, "GET", path, headers=headers)

    def post(self, path, body, token=None, tracking=None):
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if tracking:
            headers["X-Tracking-Token"] = tracking
        return request(self.api, "POST", path, json.dumps(body).encode(), headers)

    def report(self, **changes) -> dict:
        """A good report from a reporter of its own (a fresh phone number: no duplicate or same-matter links)."""
        report = good_report(**changes)
        report["reporter"] = dict(report["reporter"], phone=f"0912{next(self.phones):06d}")
        return report

    def photo(self) -> bytes:
        return fresh_photo(seed=next(self.seeds))[1]

    def big_photo(self) -> bytes:
        return media.noisy_jpeg(clock.now() - timedelta(hours=1), seed=next(self.seeds))

    def operator_count(self) -> int | None:
        """The operator's report count; None when the listing itself fails (reported once, by the case that
        broke it)."""
        answer = self.get("/api/v1/staff/reports?limit=1000", self.ctx["operator"])
        if answer.status != 200:
            self.listing_error = f"{answer.status} {self.code_of(answer)} {answer.text(160)}"
            return None
        return answer.json()["count"]

    def media_files(self) -> set:
        root = self.system.tmp_path / "media"
        return {p for p in root.rglob("*") if p.is_file()} if root.exists() else set()

    def timeline_length(self, report_id) -> int | str:
        """The report's timeline entries, leaving out the deadlines sla opens and closes on its own time."""
        answer = self.get(f"/api/v1/staff/reports/{report_id}", self.ctx["operator"])
        if answer.status != 200:
            return f"<staff view {answer.status} {self.code_of(answer)}>"
        return sum(1 for step in answer.json()["timeline"] if not str(step.get("kind", "")).startswith("deadline"))

    def public(self, report_id):
        return self.get(f"/api/v1/reports/{report_id}")

    def wait(self, ids, accept, timeout, what) -> dict:
        """Poll the public views until each report's state is accepted; the views (or raise)."""
        deadline, views = time.monotonic() + timeout, {}
        pending = set(ids)
        while pending and time.monotonic() < deadline:
            for report_id in list(pending):
                answer = self.public(report_id)
                if answer.status == 200 and accept(answer.json()):
                    views[report_id] = answer.json()
                    pending.discard(report_id)
            time.sleep(0.1)
        if pending:
            states = {rid: self.public(rid).json().get("state") for rid in pending}
            raise AssertionError(f"{what} not reached: {states}")
        return views

    def settle(self, ids, timeout=10.0):
        """Wait until the reports' timelines stop growing (deadlines opened by sla arrive after a transition)."""
        deadline = time.monotonic() + timeout
        last, since = {}, time.monotonic()
        while time.monotonic() < deadline:
            now = {rid: self.timeline_length(rid) for rid in ids}
            if now != last:
                last, since = now, time.monotonic()
            elif time.monotonic() - since >= SETTLE_SECONDS:
                return
            time.sleep(0.2)

    # ---- the reports the staff and tracking cases act on ----------------------------------------------------------
    def prepare(self):
        tokens = self.system.tokens
        self.ctx.update(operator=tokens["operator"], admin=tokens["admin"], report=self.report, photo=self.photo,
                        big_photo=self.big_photo,
                        level=get_pack(PACK).rating_levels()[0]["id"])
        names = ["A", "P1", "P2", "P3", "P4", "P5", "P6", "PC", "C"]
        photos = {}
        for key in names:
            photos[key] = self.photo()
            answer = request(self.api, "POST", "/api/v1/reports", *self._multipart(
                self.report(description=f"Ổ gà lớn giữa đường Lê Lợi, xe máy dễ té ngã ({key})"), photos[key]))
            assert answer.status == 201, f"setup report {key}: {answer.status} {answer.text()}"
            self.ctx[key], self.ctx[f"{key}_token"] = answer.json()["id"], answer.json()["tracking_token"]
        views = self.wait([self.ctx[k] for k in names], lambda v: v.get("state") == "dispatched", 30,
                          "setup reports dispatched")
        for key in names:
            self.ctx[f"{key}_photo_sha"] = hashlib.sha256(photos[key]).hexdigest()
        for key in names:
            lead = next(a["id"] for a in views[self.ctx[key]]["assigned_agencies"] if a["role"] == "lead")
            self.ctx[f"{key}_lead"] = lead
            self.ctx[f"{key}_staff"] = agency_token(tokens, lead, "agency_staff", PACK)
            self.ctx[f"{key}_leader"] = agency_token(tokens, lead, "agency_leader", PACK)
        assigned = {a["id"] for a in views[self.ctx["A"]]["assigned_agencies"]}
        other = other_agency(tokens, PACK, assigned)
        self.ctx["other_staff"] = agency_token(tokens, other, "agency_staff", PACK)
        self.ctx["other_leader"] = agency_token(tokens, other, "agency_leader", PACK)
        agency_packs = defaultdict(set)
        for pack in list_packs():
            for agency in get_pack(pack).agencies:
                agency_packs[agency].add(pack)
        other_pack, other_pack_id = other_pack_agency(tokens, PACK, agency_packs, prefer=self.ctx["A_lead"])
        self.ctx["other_pack_staff"] = agency_token(tokens, other_pack_id, "agency_staff", other_pack)
        for key in ["P1", "P2", "P3", "P4", "P5", "P6", "PC"]:
            answer = self.post(f"/api/v1/staff/reports/{self.ctx[key]}/acknowledge", {}, self.ctx[f"{key}_staff"])
            assert answer.status == 200, f"acknowledge {key}: {answer.status} {answer.text()}"
        answer = self.post(f"/api/v1/reports/{self.ctx['C']}/cancel", {}, tracking=self.ctx["C_token"])
        assert answer.status == 200, f"cancel C: {answer.status} {answer.text()}"
        self.wait([self.ctx[k] for k in ["P1", "P2", "P3", "P4", "P5", "P6", "PC"]],
                  lambda v: v.get("state") == "in_progress", 15, "setup reports in progress")
        self.wait([self.ctx["C"]], lambda v: v.get("state") == "cancelled", 15, "setup report cancelled")
        self.settle([self.ctx[k] for k in names])

    @staticmethod
    def _multipart(report, photo):
        from tests.hostile.client import build
        body, headers = build(Req(parts=[Part("report", report, mime="application/json"),
                                         Part("media", photo, filename="photo.jpg", mime="image/jpeg")]), {})
        return body, headers

    # ---- one case -----------------------------------------------------------------------------------------------
    def run(self, case, errors: ErrorRecords):
        problems = []
        target = self.ctx[case.target] if case.target else None
        count_before = self.operator_count()
        timeline_before = self.timeline_length(target) if target else None
        early = []
        for req, status in case.before:
            answer = send(self.api, req, self.ctx)[-1]
            early.append(answer)
            if answer.status != status:
                problems.append(f"setup request answered {answer.status} (expected {status}): {answer.text(160)}")
        files_before = self.media_files()
        self.later_records(errors)
        mark = len(errors.records)
        try:
            answers = send(self.api, case.req, self.ctx)
        except Exception as exc:  # noqa: BLE001 — a case that cannot even be built is a finding too
            self.fail(case, [f"could not send: {type(exc).__name__}: {exc}"])
            return
        logged = errors.records[mark:]
        errors.checked = len(errors.records)
        self.last_case = case.name
        accepted = case.accepted()
        got = [(a.status, self.code_of(a)) for a in answers]
        matched = all(g in accepted or (g[0] == case.status and case.code is None and g[0] < 400) for g in got)
        if not matched:
            problems.append("got " + "; ".join(self.summary(a) for a in answers))
        for answer in answers:
            problems += self.error_body_problems(answer)
        created = {a.json().get("id") for a in early + answers if a.status == 201 and self.is_json(a)}
        expected_delta = case.creates if matched else len(created)
        count_after = self.operator_count()
        if count_before is not None and count_after is None:
            problems.append(f"the operator's report listing fails from now on: {self.listing_error}")
        elif count_before is not None and count_after - count_before != expected_delta:
            problems.append(f"operator count changed by {count_after - count_before:+d} (expected {expected_delta:+d})")
        if all(a.status >= 300 or a.status == 0 for a in answers):
            new_files = self.media_files() - files_before
            if new_files:
                problems.append(f"{len(new_files)} new file(s) in the media directory")
        if target:
            after = self.timeline_length(target)
            if after != timeline_before:
                problems.append(f"{case.target}'s timeline changed from {timeline_before} to {after} entries "
                                f"(state now {self.public(target).json().get('state')})")
        if matched and case.check:
            problems += case.check(answers, self.ctx)
        self.later_records(errors)
        if logged:
            problems.append("logged: " + " | ".join(ErrorRecords.describe(r) for r in logged[:3]))
        if matched and case.creates:
            for report_id in sorted(created):
                self.valid.append((case, report_id))
        if problems:
            self.fail(case, problems, expected=accepted)

    def later_records(self, errors) -> None:
        """Records logged outside any case's own requests (by this harness's bookkeeping, or by a service working
        in the background): not blamed on a case, but each distinct one listed once, with the case that ran
        just before it first appeared and how often it was seen."""
        for record in errors.records[errors.checked:]:
            key = ErrorRecords.key(record)
            if not self.log_keys[key]:
                self.log_first[key] = (self.last_case, ErrorRecords.describe(record))
            self.log_keys[key] += 1
        errors.checked = len(errors.records)

    def fail(self, case, problems, expected=None):
        expected = " or ".join(f"{s} {c or ''}".strip() for s, c in (expected or case.accepted()))
        self.failed[case.name] = problems
        self.problems.append(f"[{case.kind}] {case.name} (expected {expected}"
                             + (f"; {case.note}" if case.note else "") + "): " + "; ".join(problems))

    @classmethod
    def summary(cls, answer) -> str:
        """status, code and (for a surprise) what the error said about itself."""
        text = f"{answer.status} {cls.code_of(answer)}"
        error = answer.error
        if error and (error.get("detail") or error.get("fields")):
            text += f" (detail {error.get('detail')!r:.100}, fields {json.dumps(error.get('fields'))[:100]})"
        elif answer.status >= 500 or answer.status == 0 or (answer.status >= 400 and not error):
            text += f" ({answer.text(100)!r})"
        return text

    @staticmethod
    def is_json(answer) -> bool:
        try:
            answer.json()
            return True
        except ValueError:
            return False

    @staticmethod
    def code_of(answer) -> str | None:
        if answer.status == 0:
            return "<no answer>"
        if answer.status < 400:
            return None
        error = answer.error
        return error.get("code") if error else "<not a JSON error>"

    @staticmethod
    def error_body_problems(answer) -> list[str]:
        if answer.status < 400:
            return []
        error = answer.error
        if error is None:
            return []          # already reported as the code "<not a JSON error>"
        problems = []
        for key in ("message", "message_en"):
            if not isinstance(error.get(key), str) or not error[key].strip():
                problems.append(f"empty {key}")
        if not isinstance(error.get("fields"), dict):
            problems.append("no fields object")
        if not answer.headers.get("content-type", "").startswith("application/json"):
            problems.append(f"content type {answer.headers.get('content-type')}")
        return problems

    # ---- after the corpus -----------------------------------------------------------------------------------------
    def check_valid_reports(self):
        dispatch = [rid for case, rid in self.valid if case.dispatch]
        try:
            self.wait(dispatch, lambda v: v.get("state") == "dispatched", DISPATCH_TIMEOUT, "dispatched")
        except AssertionError:
            pass   # reported per case below
        listing = self.get("/api/v1/staff/reports?limit=1000", self.ctx["operator"])
        listed = {r["id"]: r for r in listing.json().get("reports", [])} if listing.status == 200 else {}
        if listing.status != 200:
            self.problems.append(f"[after] operator listing answered {listing.status}: {listing.text()}")
        for case, report_id in self.valid:
            problems = []
            public = self.public(report_id)
            if public.status != 200:
                problems.append(f"public view {public.status} {self.code_of(public)}")
                self.fail(case, problems)
                continue
            view = public.json()
            if case.dispatch and view.get("state") != "dispatched":
                problems.append(f"not dispatched: state {view.get('state')}, reasons "
                                f"{[r.get('code') for r in view.get('reasons', [])]}")
            if case.shows is not None:
                wanted = {case.shows, case.shows.strip()}
                staff = self.get(f"/api/v1/staff/reports/{report_id}", self.ctx["operator"])
                shown = {"public view": view.get("description"),
                         "staff view": staff.json().get("description") if staff.status == 200 else f"<{staff.status}>"}
                if listing.status == 200:
                    shown["staff list"] = (listed.get(report_id) or {}).get("description", "<not listed>")
                for where, text in shown.items():
                    if text not in wanted:
                        problems.append(f"{where} shows {text!r:.80}")
            if problems:
                self.fail(case, problems)

    def final_report(self):
        answer = self.system.submit(good_report(), [fresh_photo()])
        if answer.status_code != 201:
            self.problems.append(f"[after] a normal report answered {answer.status_code}: {answer.text[:300]}")
            return
        try:
            self.system.wait_state(answer.json()["id"], "dispatched", timeout=10)
        except AssertionError as exc:
            self.problems.append(f"[after] a normal report was not dispatched within 10 s: {str(exc)[:300]}")


def selected() -> list:
    """Every case, or (to debug) those whose kind or name contains PAHT_HOSTILE_SELECT and not PAHT_HOSTILE_SKIP."""
    want, skip = os.environ.get("PAHT_HOSTILE_SELECT", ""), os.environ.get("PAHT_HOSTILE_SKIP", "")
    return [c for c in CASES if (not want or want in c.kind or want in c.name)
            and not (skip and (skip in c.kind or skip in c.name))]


def summary_lines(corpus: Corpus, seconds: float) -> list[str]:
    cases = selected()
    kinds = by_kind(cases)
    failed = Counter(case.kind for case in cases if case.name in corpus.failed)
    lines = [f"{len(cases)} cases in {seconds:.1f} s; {len(corpus.failed)} failing"]
    lines += [f"  {kind:<18} {count:>4} cases, {failed.get(kind, 0):>3} failing" for kind, count in kinds.items()]
    return lines


def test_hostile_corpus(system, monkeypatch):
    monkeypatch.setenv("PAHT_ENV", "test")
    monkeypatch.setenv("PAHT_MAX_REQUEST_MB", "2")
    monkeypatch.setenv("PAHT_MAX_UPLOAD_MB", "1")
    monkeypatch.setenv("PAHT_RATE_LIMIT_PER_MINUTE", "0")
    media.prebuild()                      # CPU-heavy: before the services share this process's event loop
    started = time.monotonic()
    errors = ErrorRecords()
    logging.getLogger().addHandler(errors)
    try:
        system.start()
        corpus = Corpus(system)
        corpus.prepare()
        # refusals first: a valid input that breaks the store must not spoil the verdict on every later case
        for case in sorted(selected(), key=lambda c: c.creates > 0):
            corpus.run(case, errors)
        corpus.check_valid_reports()
        corpus.final_report()
        corpus.later_records(errors)
        corpus.problems += [f"[logs] outside any case's requests, first after «{corpus.log_first[key][0]}», "
                            f"{count}×: {corpus.log_first[key][1]}" for key, count in corpus.log_keys.items()]
    finally:
        logging.getLogger().removeHandler(errors)
    seconds = time.monotonic() - started
    SUMMARY[:] = summary_lines(corpus, seconds) + [f"  ✗ {p}" for p in corpus.problems]
    print("\n".join(SUMMARY))
    assert not corpus.problems, f"{len(corpus.failed)} of {len(selected())} hostile cases failed:\n" + \
        "\n".join(corpus.problems)


def test_rate_limit_answers_429_with_retry_after(system, monkeypatch):
    monkeypatch.setenv("PAHT_ENV", "test")
    monkeypatch.setenv("PAHT_RATE_LIMIT_PER_MINUTE", "5")
    system.start("intake")
    answers = []
    for n in range(6):
        report = good_report(description=f"Đèn đường hỏng đoạn {n + 1} đường Lê Lợi")
        report["reporter"] = dict(report["reporter"], phone=f"0913{n:06d}")   # one address, six reporters
        answers.append(request(system.api, "POST", "/api/v1/reports", json.dumps(report).encode(),
                               {"Content-Type": "application/json"}))
    assert [a.status for a in answers[:5]] == [201] * 5, [(a.status, a.text(200)) for a in answers[:5]]
    sixth = answers[5]
    assert sixth.status == 429, (sixth.status, sixth.text(300))
    error = sixth.error
    assert error and error["code"] == "RATE_LIMITED" and error["message"] and error["message_en"], sixth.text(300)
    assert int(sixth.headers.get("retry-after", "0")) > 0, sixth.headers
    operator = system.tokens["operator"]
    assert system.staff_get("reports", operator, limit=1000).json()["count"] == 5
