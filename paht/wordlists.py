"""The word lists (out of scope, prohibited), matched alike wherever citizens' text is checked: a report's
description (verification) and a message to the agency (rating). A pack's own `wordlists/` folder, else the one its
rules folder shares (rules/wordlists/; `paht rules check` validates whichever a pack reads)."""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from pathlib import Path

import yaml

from .categories import fold


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


def wordlists_root(folder) -> Path:
    """The folder whose `wordlists/` a pack (or a rules folder) reads: the pack's own, else its rules folder's."""
    folder = Path(folder)
    return folder if (folder / "wordlists").is_dir() or not (folder / "pack.yaml").exists() else folder.parent


def load_wordlists(folder) -> dict:
    """The word lists of a pack's folder (its own `wordlists/`, else the shared one beside it) or of a rules
    folder, recompiled when a file changes."""
    root = wordlists_root(folder)
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
