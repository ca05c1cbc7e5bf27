"""Facts measured from a report's evidence: photo age and edits, location and ward, content, duplicates."""
from __future__ import annotations

import re
from datetime import datetime, timedelta

from paht.categories import fold
from paht.geo import distance_m
from paht.wordlists import content_facts, load_wordlists  # noqa: F401 — verification matches through here

from .media import MediaEvidence, inspect_all, inspect_media  # noqa: F401 — the service inspects through this module

SIGNALS = ("edited_software", "edited_datetime", "edited_thumbnail", "edited_requantized", "vendor_resave")
# phones and the server both keep network time: a capture later than this after submission is not a clock's error
CLOCK_SKEW = timedelta(minutes=5)
# the app stamps a photo when the camera hands it over, seconds after the shutter; beyond this it is another photo
CLIENT_TIME_TOLERANCE = timedelta(minutes=10)


def photo_facts(media: list[MediaEvidence], submitted_at: datetime) -> dict:
    """The photo age comes from the file's own time (EXIF, video container), else the app's word, flagged as such.
    A capture time in the future is no age at all (never a fresh photo), and an app time that contradicts the
    file's own time is flagged."""
    visual = [m for m in media if m.kind in ("photo", "video")]
    timed = [m for m in visual if m.captured_at]
    future = [m for m in timed if m.captured_at > submitted_at + CLOCK_SKEW]
    dated = [m for m in timed if m.captured_at <= submitted_at + CLOCK_SKEW]
    freshest = max(dated, key=lambda m: m.captured_at, default=None)
    age_h = (submitted_at - freshest.captured_at).total_seconds() / 3600 if freshest else None
    facts = {
        "has_media": bool(media),
        "has_photo_or_video": bool(visual),
        "photo_age_known": freshest is not None,
        "photo_age_h": round(max(0.0, age_h), 3) if freshest else None,
        "capture_time_future": bool(future),
        "capture_time_conflict": any(
            m.captured_source in ("exif", "container") and m.client_captured_at is not None
            and abs(m.captured_at - m.client_captured_at) > CLIENT_TIME_TOLERANCE for m in visual),
        "capture_time_client_asserted": bool(freshest and freshest.captured_source == "app"),
        "ela_score": max((m.ela_score for m in visual if m.ela_score is not None), default=0.0),
        "exif_gps": next((m.exif_gps for m in visual if m.exif_gps), None),
    }
    for signal in SIGNALS:
        facts[signal] = any(m.signals.get(signal) for m in visual)
    return facts


def has_street_and_ward(address: str | None) -> bool:
    if not address:
        return False
    text = fold(address)
    return len([part for part in text.split(",") if part.strip()]) >= 2 or bool(
        re.search(r"\b(phuong|xa|thi tran|dac khu)\b", text))


def location_facts(location: dict | None, gps_from_exif, ward_index) -> dict:
    """Device GPS first, else EXIF GPS, else a point picked on a map; then the ward that contains it."""
    location = location or {}
    device = (location["lat"], location["lon"]) if location.get("lat") is not None else None
    device_gps = device if location.get("source", "gps") == "gps" else None
    point = device_gps or gps_from_exif or device
    facts = {"has_gps": bool(device_gps or gps_from_exif), "has_address": has_street_and_ward(location.get("address")),
             "inside_province": False, "ward_found": False, "ward_code": "", "ward_name": None,
             "lat": point[0] if point else None, "lon": point[1] if point else None, "gps_distance_m": None}
    if device_gps and gps_from_exif:
        facts["gps_distance_m"] = round(distance_m(*device_gps, *gps_from_exif), 1)
    if point:
        ward = ward_index.locate(*point)
        if ward is not None:
            facts.update({"inside_province": True, "ward_found": True, "ward_code": ward.code, "ward_name": ward.name})
    return facts


def shingles(text: str) -> frozenset:
    """A text's word pairs, accents and case ignored (compared by `similarity`, their Jaccard index)."""
    words = fold(text).split()
    return frozenset(zip(words, words[1:])) if len(words) > 1 else frozenset(words)


def similarity(a: frozenset, b: frozenset) -> float:
    return len(a & b) / len(a | b) if a or b else 1.0
