"""The shared category list (rules/categories.yaml) and keyword classification of reports sent without one."""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import yaml


def fold(text: str) -> str:
    """Lowercase, Vietnamese accents removed (đ → d), spaces collapsed: for accent-insensitive matching."""
    text = unicodedata.normalize("NFD", text.lower().replace("đ", "d"))
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Mn")
    return re.sub(r"\s+", " ", text).strip()


@lru_cache(maxsize=1)
def load_categories() -> dict[str, dict]:
    from .rules import rules_root
    document = yaml.safe_load((rules_root() / "categories.yaml").read_text(encoding="utf-8"))
    return {item["id"]: item for item in document["categories"]}


@lru_cache(maxsize=1)
def _patterns() -> list[tuple[str, re.Pattern]]:
    patterns = []
    for category_id, item in load_categories().items():
        for keyword in item.get("keywords") or []:
            patterns.append((category_id, re.compile(r"\b" + re.escape(fold(keyword)) + r"\b")))
    return patterns


def classify(description: str) -> str:
    """The category whose keywords match most (longer phrases weigh more); `other` when none matches."""
    text = fold(description)
    scores: dict[str, int] = {}
    for category_id, pattern in _patterns():
        hits = len(pattern.findall(text))
        if hits:
            scores[category_id] = scores.get(category_id, 0) + hits * len(pattern.pattern)
    return max(scores, key=scores.get) if scores else "other"
