"""Publishing's domain: the result letter from the pack's template, and what may be made public."""
from __future__ import annotations

import re
from datetime import datetime

from paht.schemas import Decision, lead_assignment
from paht.worktime import calendar_for

from .schemas import Publication

_MD_INLINE = re.compile(r"([\\`*_\[\]<>|~#&])")
_MD_ORDERED = re.compile(r"^(\d{1,9})([.)])")


def md(text) -> str | None:
    """Text from a citizen, an agency or an official as Markdown *data*: every character that could start
    Markdown or HTML structure is backslash-escaped, and each line loses the leading blanks (an indented code
    block) and the block markers (`#`, `>`, `-`, `+`, `=`, `1.`) it could start with, so a description or a
    result cannot add headings, links, images, tables, HTML or fake sections to the letter. Line breaks and blank
    lines stay. (Jinja renders variables as data: `{{ … }}` inside the text is never evaluated.)"""
    if text is None:
        return None
    lines = []
    for line in str(text).replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        line = _MD_INLINE.sub(r"\\\1", line.strip())
        line = _MD_ORDERED.sub(r"\1\\\2", line)
        if line[:1] in ("-", "+", "="):
            line = "\\" + line
        lines.append(line)
    return "\n".join(lines)


def vietnamese_date(instant: datetime, tz) -> dict:
    """The date of an instant in the province's time, as "ngày … tháng … năm …": a day below 10 and a month
    below 3 take a leading zero (Nghị định 30/2020/NĐ-CP, Phụ lục I)."""
    local = instant.astimezone(tz)
    day = f"{local.day:02d}" if local.day < 10 else str(local.day)
    month = f"{local.month:02d}" if local.month < 3 else str(local.month)
    return {"day": day, "month": month, "year": str(local.year),
            "text": f"ngày {day} tháng {month} năm {local.year}"}


def letter_context(report: dict, pack, now: datetime, result_text: str | None = None,
                   letter_number: str | None = None) -> dict:
    """What a pack's letter template reads. Every text is Markdown-escaped data (`md`); `result_text` is the
    centre's edited result (biên tập), else the approved one; `letter_number` the letter's "Số" (else the report
    id)."""
    result = report.get("result") or {}
    lead = lead_assignment(report) or {}
    categories = getattr(pack, "categories", {}) or {}
    category = report.get("category") or "other"
    agencies = getattr(pack, "agencies", {}) or {}
    centre = next((a for a in agencies.values() if a.get("kind") == "centre"), {})
    tz = calendar_for(pack.meta).tz
    return {
        "report": {
            "id": md(report["id"]), "description": md(report.get("description")),
            "category": category, "category_name": md((categories.get(category) or {}).get("name", category)),
            "ward_name": md((report.get("ward") or {}).get("name")),
            "address": md((report.get("location") or {}).get("address")),
            "submitted_at": report.get("submitted_at"),
        },
        "agency_name": md(lead.get("name")), "agency_id": lead.get("id"), "centre_name": md(centre.get("name")),
        "result_text": md(result_text or result.get("text")), "approved_by": md(result.get("approved_by")),
        "approved_at": result.get("approved_at"), "published_at": now.isoformat(),
        "letter_number": md(letter_number or report["id"]), "letter_date": vietnamese_date(now, tz),
        "after_photos": [f"/api/v1/reports/{report['id']}/result-photos/{sha}"
                         for sha in result.get("after_photos") or [] if re.fullmatch(r"[0-9a-f]{64}", str(sha))],
        "province": pack.meta.get("province"), "regulation": pack.meta.get("regulation", {}),
    }


def delivery(report: dict, pack) -> tuple[bool, str | None, str | None]:
    """(private, why, article): a report the centre marked a state secret or a sensitive non-public one, or whose
    reporter asked for secrecy where the pack's regulation then withholds the result (`private_on_request`), is
    never published: its result is delivered to the reporter privately. Intake's public view reads the same
    (services/intake/reports.py `withheld`)."""
    publication = pack.meta.get("publication") or {}
    for flag, setting, why in (("secret", "state_secrets", "secret"), ("non_public", "non_public", "non_public")):
        if report.get(flag):
            return True, why, (publication.get(setting) or {}).get("article")
    if report.get("keep_private") and publication.get("private_on_request"):
        return True, "private_on_request", publication["private_on_request"].get("article")
    return False, None, None


PUBLIC_PLACE_DECIMALS = 3   # about 110 m: the street, not the house


def public_location(report: dict, pack) -> dict | None:
    """The report's place as the public feed shows it. Where the reporter asked to keep their personal data
    private and the pack then hides it while still publishing the result (`publication.hide_personal_data_on_request`,
    Vĩnh Long Điều 5 khoản 4), the place — often the reporter's own street or house — is rounded to about 110 m
    and its address left out; otherwise it is shown as reported. (Packs whose regulation withholds the whole result
    on request never reach the feed: `delivery`.)"""
    location = report.get("location") or {}
    if location.get("lat") is None or location.get("lon") is None:
        return None
    hides = report.get("keep_private") and (pack.meta.get("publication") or {}).get("hide_personal_data_on_request")
    if hides:
        return {"lat": round(location["lat"], PUBLIC_PLACE_DECIMALS),
                "lon": round(location["lon"], PUBLIC_PLACE_DECIMALS),
                "address": None, "rounded": True}
    return {"lat": location["lat"], "lon": location["lon"], "address": location.get("address"), "rounded": False}


def publication_decision(report: dict, pack, now: datetime, event_id: str, actor: dict,
                         result_text: str | None = None, letter_number: str | None = None) -> Decision:
    """The approved result as the pack's letter: published for everyone, or delivered privately (`delivery`).
    The centre may edit the result text (biên tập) and give the letter's number."""
    text = pack.render_letter(letter_context(report, pack, now, result_text, letter_number))
    private, why, article = delivery(report, pack)
    edited = bool(result_text) and result_text != (report.get("result") or {}).get("text")
    publication = Publication(letter=text, published_at=now.isoformat(), private=private, reason=why,
                              article=article, edited_by_centre=edited,
                              number=letter_number or report["id"]).model_dump()
    return Decision(event_id=event_id, report_id=report["id"], occurred_at=now, pack=report["pack"],
                    kind="delivered_privately" if private else "published", source="publishing",
                    to_state="delivered_privately" if private else "published", from_states=["approved"],
                    actor=actor, detail={"private": private, "reason": why, "edited": edited},
                    patch={"publication": publication})
