"""The pages' gettext catalogs: the templates are written in Vietnamese, and i18n/<lang>.po gives each text in
another language (msgid "…" / msgstr "…", one entry per text; an untranslated text shows in Vietnamese)."""
from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

I18N = Path(__file__).resolve().parent / "i18n"


class Catalog:
    def __init__(self, texts: dict[str, str]):
        self.texts = texts

    def gettext(self, message: str) -> str:
        return self.texts.get(message) or message

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self.gettext(singular if n == 1 else plural)


def parse_po(text: str) -> dict[str, str]:
    """msgid/msgstr pairs of a .po file (continued lines joined; comments and the header skipped)."""
    entries: dict[str, str] = {}
    key, current, field = None, [], None
    for line in text.splitlines() + [""]:
        line = line.strip()
        if line.startswith("msgid "):
            if key is not None and field == "msgstr":
                entries[key] = "".join(current)
            field, current = "msgid", [ast.literal_eval(line[6:])]
        elif line.startswith("msgstr "):
            key, field, current = "".join(current), "msgstr", [ast.literal_eval(line[7:])]
        elif line.startswith('"') and field:
            current.append(ast.literal_eval(line))
        elif not line and field == "msgstr":
            entries[key] = "".join(current)
            key, field, current = None, None, []
    return {k: v for k, v in entries.items() if k and v}


@cache
def catalog(lang: str) -> Catalog:
    path = I18N / f"{lang}.po"
    return Catalog(parse_po(path.read_text(encoding="utf-8")) if path.exists() else {})
