"""The citizen's `penalties` stage, evaluated once, by verification, over the reporter's whole record.

What counts (the articles: ST-2022 Điều 15 khoản 1, ST-2023 Điều 17 khoản 1, TTH Điều 14 khoản 1, VL Điều 15
khoản 1 điểm a, b; readings in each pack's notes):
- `abusive_submissions_total`: the reporter's reports with prohibited wording ("gửi nội dung phản ánh với câu từ
  không chuẩn mực … trên 03 lần"), all of them, once each — the account lock's count. Interactions do not count;
- `violations_month`: the reporter's refused interactions with prohibited wording ("tương tác vi phạm trên 03 lần
  trong vòng 1 tháng") within the pack's `interaction_violation_window` before now (a sliding window: 30 days in
  every pack) — the interaction lock's count. Submissions do not count.

A lock is set when the rules decide it and no lock of its kind is running (a re-evaluation never extends one); its
end is computed in the pack's working calendar. An account lock refuses interactions too (the whole account is
locked), an interaction lock does not refuse submissions."""
from __future__ import annotations

from datetime import datetime

from paht.events import jsonable
from paht.worktime import calendar_for

from .facts import locked

# "trong vòng 1 tháng" where a pack sets no window of its own (every pack with a lock rule sets it)
DEFAULT_WINDOW = {"amount": 30, "unit": "d"}
LOCK_FIELDS = {"lock_account": "account_locked", "lock_interaction": "interaction_locked"}
KINDS = {"account_locked": "account", "interaction_locked": "interaction"}


def lock_until(action: dict, now: datetime, pack_meta: dict | None = None) -> datetime | None:
    """When a lock with a duration ends by itself, in the pack's calendar (None: until the centre lifts it)."""
    duration = action.get("duration")
    if not duration:
        return None
    return calendar_for(pack_meta or {}).add(now, duration["amount"], duration["unit"])


def window(pack) -> dict:
    return pack.parameters.get("interaction_violation_window") or DEFAULT_WINDOW


def recent_interaction_violations(history: dict | None, pack, now: datetime) -> list[dict]:
    """The reporter's violating interactions whose window has not passed yet (in the pack's calendar)."""
    span, calendar = window(pack), calendar_for(pack.meta)
    return [item for item in (history or {}).get("interaction_violations") or []
            if item.get("at") is not None and calendar.add(item["at"], span["amount"], span["unit"]) > now]


def citizen_counters(history: dict | None, pack, now: datetime) -> dict:
    history = history or {}
    return {"subject": "citizen", "abusive_submissions_total": len(history.get("violating_reports") or []),
            "violations_month": len(recent_interaction_violations(history, pack, now))}


def new_locks(pack, history: dict | None, now: datetime, cause: dict) -> dict[str, dict]:
    """The locks the pack's penalties rules decide over the whole record that are not running already, as stored
    (`account_locked` / `interaction_locked` → rule, article, message, until, at and the `cause`: the event id of
    the interaction, or the report, that made the count)."""
    actions = pack.evaluate("penalties", citizen_counters(history, pack, now))["actions"]
    locks: dict[str, dict] = {}
    for action in actions:
        field = LOCK_FIELDS.get(action["action"])
        if field is None or field in locks or locked((history or {}).get(field), now):
            continue
        locks[field] = {"rule": action["rule"], "article": action["article"], "message": action.get("message"),
                        "until": lock_until(action, now, pack.meta), "at": now, **cause}
    return locks


def described(field: str, lock: dict) -> dict:
    """A lock as the RPCs answer it."""
    return jsonable({"lock": KINDS[field], "rule": lock.get("rule"), "article": lock.get("article"),
                     "message": lock.get("message"), "until": lock.get("until")})


def set_by(history: dict | None, field: str, cause: dict, now: datetime) -> dict | None:
    """The running lock `field` of the record if `cause` set it (a retried call answers what the first set)."""
    lock = (history or {}).get(field)
    if not locked(lock, now) or any(lock.get(name) != value for name, value in cause.items()):
        return None
    return described(field, lock)


def interaction_refusal(history: dict | None, now: datetime) -> dict | None:
    """What refuses this reporter's interaction now: a running account lock (the whole account is locked), else a
    running interaction lock; None when neither runs."""
    history = history or {}
    for field in ("account_locked", "interaction_locked"):
        if locked(history.get(field), now):
            return described(field, history[field])
    return None
