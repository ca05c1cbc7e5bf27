"""Facts measured from a report's evidence: photo age and edits, location and ward, content, duplicates."""
from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path

import yaml

from paht.categories import fold
from paht.geo import distance_m

from .media import MediaEvidence, inspect_media  # noqa: F401 — the service inspects through this module

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


def _lower(text: str) -> str:
    return unicodedata.normalize("NFC", text).lower()


def _phrase_pattern(phrase: str, strict: bool) -> tuple[re.Pattern, bool]:
    """In a strict list a phrase written with diacritics matches exactly (folding would make the vulgar "lồn"
    match "lớn"); otherwise, and for phrases typed without diacritics, matching ignores accents."""
    folded = fold(phrase)
    exact = strict and folded != _lower(phrase).strip()
    body = re.escape(_lower(phrase).strip() if exact else folded)
    return re.compile(r"(?<!\w)" + body + r"(?!\w)"), exact


@lru_cache(maxsize=4)
def _compiled_wordlists(root: str, stamp: tuple) -> dict:
    lists = {}
    for name in ("out_of_scope", "prohibited"):
        document = yaml.safe_load((Path(root) / "wordlists" / f"{name}.yaml").read_text(encoding="utf-8"))
        lists[name] = [(*_phrase_pattern(item["phrase"], name == "prohibited"), item["kind"], item["phrase"])
                       for item in document["phrases"]]
    return lists


def load_wordlists(rules_dir) -> dict:
    """The word lists under rules/wordlists/, recompiled when a file changes."""
    root = Path(rules_dir)
    stamp = tuple((p.name, p.stat().st_mtime_ns) for p in sorted((root / "wordlists").glob("*.yaml")))
    return _compiled_wordlists(str(root), stamp)


def content_facts(description: str, wordlists: dict) -> dict:
    texts = {True: _lower(description or ""), False: fold(description or "")}
    scope = [(kind, phrase) for pattern, exact, kind, phrase in wordlists["out_of_scope"]
             if pattern.search(texts[exact])]
    banned = [(kind, phrase) for pattern, exact, kind, phrase in wordlists["prohibited"]
              if pattern.search(texts[exact])]
    return {"out_of_scope": bool(scope), "out_of_scope_kind": scope[0][0] if scope else "",
            "prohibited_content": bool(banned), "matched_phrases": [p for _, p in scope + banned]}


def shingles(text: str) -> frozenset:
    words = fold(text).split()
    return frozenset(zip(words, words[1:])) if len(words) > 1 else frozenset(words)


def similarity(a: frozenset, b: frozenset) -> float:
    return len(a & b) / len(a | b) if a or b else 1.0


def text_similarity(a: str, b: str) -> float:
    """Jaccard similarity of word pairs, accents and case ignored."""
    return similarity(shingles(a), shingles(b))


class FingerprintIndex:
    """In-memory index of earlier reports for duplicate lookups; rebuilt from the store at start."""

    CELL = 0.01   # degrees (~1.1 km): the spatial grid used for the cluster lookup

    def __init__(self):
        self._entries: dict[str, dict] = {}
        self._by_reporter: dict[str, set[str]] = defaultdict(set)
        self._by_cell: dict[tuple, set[str]] = defaultdict(set)

    def __len__(self) -> int:
        return len(self._entries)

    def _cell(self, lat, lon) -> tuple | None:
        return None if lat is None else (int(lat // self.CELL), int(lon // self.CELL))

    def add(self, report_id, reporter_key, phashes, text, category, lat, lon, open_until, state) -> None:
        self.remove(report_id)
        entry = {"id": report_id, "reporter": reporter_key, "hashes": [int(h, 16) for h in phashes],
                 "text": shingles(text), "category": category, "lat": lat, "lon": lon, "open_until": open_until,
                 "state": state}
        self._entries[report_id] = entry
        if reporter_key:
            self._by_reporter[reporter_key].add(report_id)
        cell = self._cell(lat, lon)
        if cell:
            self._by_cell[cell].add(report_id)

    def remove(self, report_id) -> None:
        entry = self._entries.pop(report_id, None)
        if entry:
            self._by_reporter[entry["reporter"]].discard(report_id)
            cell = self._cell(entry["lat"], entry["lon"])
            if cell:
                self._by_cell[cell].discard(report_id)

    def same_reporter_duplicate(self, reporter_key, phashes, text, max_hamming=8, min_text_sim=0.8,
                                exclude=None) -> str | None:
        """An earlier report of the same reporter with a near-identical image AND near-identical text."""
        hashes = [int(h, 16) for h in phashes]
        words = shingles(text)
        for report_id in self._by_reporter.get(reporter_key, ()):
            entry = self._entries[report_id]
            if report_id == exclude or not hashes or not entry["hashes"]:
                continue
            close = any(bin(a ^ b).count("1") <= max_hamming for a in hashes for b in entry["hashes"])
            if close and similarity(words, entry["text"]) >= min_text_sim:
                return report_id
        return None

    def open_same_matter(self, reporter_key, category, lat, lon, text, now, exclude=None) -> str | None:
        """An earlier report of the same reporter, same category, same place (100 m) or text, still open."""
        words = shingles(text)
        for report_id in self._by_reporter.get(reporter_key, ()):
            entry = self._entries[report_id]
            if report_id == exclude or entry["category"] != category or not entry["open_until"]:
                continue
            if entry["open_until"] <= now:
                continue
            near = lat is not None and entry["lat"] is not None and distance_m(lat, lon, entry["lat"],
                                                                              entry["lon"]) <= 100
            if near or similarity(words, entry["text"]) >= 0.6:
                return report_id
        return None

    def cluster(self, report_id, category, lat, lon, radius_m=100, reporter_key=None) -> list[str]:
        """Other reporters' open reports of the same category within `radius_m` (information for the operator)."""
        cell = self._cell(lat, lon)
        if cell is None:
            return []
        found = []
        for dx in (-1, 0, 1):
            for dy in (-1, 0, 1):
                for other_id in self._by_cell.get((cell[0] + dx, cell[1] + dy), ()):
                    entry = self._entries[other_id]
                    if other_id == report_id or entry["category"] != category or not entry["open_until"]:
                        continue
                    if reporter_key and entry["reporter"] == reporter_key:
                        continue
                    if distance_m(lat, lon, entry["lat"], entry["lon"]) <= radius_m:
                        found.append(other_id)
        return sorted(found)
