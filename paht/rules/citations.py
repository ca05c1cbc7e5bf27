"""Citations against the regulation they cite: a pack's `articles.yaml` lists the articles (Điều), their clauses
(khoản), points (điểm) and the appendices (Phụ lục) of its seed, and `paht rules check` fails on a citation that
names one the seed does not have.

`articles.yaml` is generated from the seed's text by `scripts/seed-articles` (`seed_articles` below), so the pack
carries what the check needs in its own folder. What a citation says is read by `cited` with the grammar the packs
use: "Điều 6 khoản 5 điểm b, c", "Điều 23 khoản 7–8", "Điều 28 khoản 3, khoản 5", "Phụ lục II Bước 1". A step (Bước)
or case (trường hợp) inside a clause or appendix is not checked (the seeds write them as running text); a part that
cites another document ("Nghị định 09/2019/NĐ-CP Điều 12") or stands in parentheses is not checked either.
"""
from __future__ import annotations

import re
from pathlib import Path

from .errors import PackError
from .yamlfile import key_line, read_yaml

ROMAN = {"I": 1, "II": 2, "III": 3, "IV": 4, "V": 5, "VI": 6, "VII": 7, "VIII": 8, "IX": 9, "X": 10}
POINT_LETTERS = "abcdđeghiklmnopqrstuvxy"   # the order of điểm in Vietnamese legal drafting

_ARTICLE = re.compile(r"^\s*Điều\s*([0-9 ]*?)\s*\.")
_CLAUSE = re.compile(r"^\s*([0-9]{1,2})\s*\.\s+\S")
_POINT = re.compile(r"^\s*(?:[-·•]\s*)?([a-zđ])\s*\)\s*\S")
_APPENDIX = re.compile(r"^\s*(?:Phụ lục|PHỤ LỤC)\s*([IVX]+|[0-9]+)?(?:\W|$)")
_BODY_START = re.compile(r"^\s*Chương\s+I\b")
_OTHER_DOCUMENT = re.compile(r"[0-9]+/[0-9]{4}/|Nghị định|Thông tư|Luật |Quyết định")


def appendix_number(text: str | None) -> str:
    """'II' and '2' are the same appendix; an unnumbered (only) appendix is ''."""
    if not text:
        return ""
    return str(ROMAN.get(text, text))


def seed_articles(text: str) -> dict:
    """The articles of a regulation's text: {"articles": {N: {K: [points]}}, "appendices": [...]}.

    The regulation starts at its "Chương I" (a decision's own Điều 1–3 before it are not the regulation's). A
    heading "Điều N." is the next article even where the seed's text lost a digit ("Điều 1 . Phân phối" for Điều 10
    in Thừa Thiên Huế's), and a clause or point counts only when it follows the previous one in order, so a
    numbered list inside running text is not taken for one."""
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if _BODY_START.match(line)), 0)
    articles: dict[int, dict[int, list[str]]] = {}
    appendices: list[str] = []
    article = clause = None
    for line in lines[start:]:
        if match := _APPENDIX.match(line):
            appendices.append(appendix_number(match.group(1)))
            article = clause = None
            continue
        if appendices:
            continue   # the appendices' own steps and lists are not articles
        if _ARTICLE.match(line):
            article, clause = len(articles) + 1, None
            articles[article] = {}
            continue
        if article is None:
            continue
        if (match := _CLAUSE.match(line)) and int(match.group(1)) == len(articles[article]) + 1:
            clause = int(match.group(1))
            articles[article][clause] = []
            continue
        if (match := _POINT.match(line)) and match.group(1) in POINT_LETTERS:
            points = articles[article].setdefault(clause or 0, [])
            last = POINT_LETTERS.index(points[-1]) if points else -1
            if POINT_LETTERS.index(match.group(1)) > last:
                points.append(match.group(1))
    return {"articles": articles, "appendices": appendices}


def _values(word: str) -> list[str] | None:
    """The numbers, roman numerals or letters one word of a citation names ("7–8" → 7, 8), or None."""
    word = word.strip(",.:")
    if match := re.fullmatch(r"([0-9]+)[–-]([0-9]+)", word):
        return [str(n) for n in range(int(match.group(1)), int(match.group(2)) + 1)]
    if re.fullmatch(r"[0-9]+|[IVX]+|[a-zđ]", word):
        return [word]
    return None


def cited(citation: str) -> list[tuple]:
    """What a citation names, each as ("article", N), ("clause", N, K), ("point", N, K, x) or ("appendix", n)."""
    names: list[tuple] = []
    text = re.sub(r"\([^()]*\)", " ", citation)
    for part in text.split(";"):
        if _OTHER_DOCUMENT.search(part):
            continue
        words = part.replace("Phụ lục", "Phụ_lục").replace("trường hợp", "trường_hợp").split()
        article = clause = None
        mode, appendix_pending = None, False
        for word in words:
            bare = word.strip(",.:")
            if bare in ("Điều", "khoản", "điểm", "Phụ_lục", "Bước", "trường_hợp"):
                if appendix_pending:
                    names.append(("appendix", ""))
                mode, appendix_pending = bare, bare == "Phụ_lục"
                continue
            values = _values(word) if mode else None
            if values is None:
                if appendix_pending:
                    names.append(("appendix", ""))
                mode, appendix_pending = None, False
                continue
            for value in values:
                if mode == "Điều" and value.isdigit():
                    article, clause = int(value), None
                    names.append(("article", article))
                elif mode == "khoản" and value.isdigit() and article is not None:
                    clause = int(value)
                    names.append(("clause", article, clause))
                elif mode == "điểm" and article is not None and not value.isdigit():
                    names.append(("point", article, clause or 0, value))
                elif mode == "Phụ_lục":
                    names.append(("appendix", appendix_number(value)))
            appendix_pending = False
            if not word.endswith(",") or mode == "Phụ_lục":
                mode = None
        if appendix_pending:
            names.append(("appendix", ""))
    return names


def missing(articles: dict, name: tuple) -> str | None:
    """Why the seed has no such article, clause, point or appendix, or None."""
    kind, *where = name
    if kind == "appendix":
        have = articles.get("appendices") or []
        if where[0] in have:
            return None
        listed = ", ".join(f"Phụ lục {a}".strip() for a in have) or "none"
        return f"Phụ lục {where[0]}".strip() + f" is not in the regulation (its appendices: {listed})"
    body = articles.get("articles") or {}
    article = body.get(where[0])
    if article is None:
        return f"Điều {where[0]} is not in the regulation (it has Điều 1–{max(body, default=0)})"
    if kind == "article":
        return None
    if kind == "clause":
        if where[1] in article:
            return None
        return (f"Điều {where[0]} has no khoản {where[1]} "
                f"({'khoản 1–' + str(max(article)) if any(article) else 'no numbered khoản'})")
    points = article.get(where[1])
    if points is None:
        return f"Điều {where[0]} has no khoản {where[1]}"
    if where[2] in points:
        return None
    clause = f"Điều {where[0]}" + (f" khoản {where[1]}" if where[1] else "")
    return f"{clause} has no điểm {where[2]} ({'điểm ' + ', '.join(points) if points else 'no điểm'})"


def citation_keys(node, path=()):
    """(the mapping, its key, the citation) of every `article` or `*_article` key in a document."""
    if isinstance(node, dict):
        for key, value in node.items():
            if isinstance(value, str) and (key == "article" or str(key).endswith("_article")):
                yield node, key, value
            else:
                yield from citation_keys(value, path + (key,))
    elif isinstance(node, list):
        for item in node:
            yield from citation_keys(item, path)


def load_articles(pack_dir: Path) -> dict | None:
    path = pack_dir / "articles.yaml"
    if not path.exists():
        return None
    document = read_yaml(path)
    return {"seed": document.get("seed"),
            "articles": {int(n): {int(k): list(points or []) for k, points in (clauses or {}).items()}
                         for n, clauses in (document.get("articles") or {}).items()},
            "appendices": [appendix_number(str(a)) if a else "" for a in document.get("appendices") or []]}


def unknown_citations(pack, files) -> list[PackError]:
    """Every citation of the pack's files naming what its seed does not have, at its file and line; a pack
    without articles.yaml is one problem (its citations cannot be checked)."""
    articles = load_articles(pack.path)
    if articles is None:
        return [PackError("no articles.yaml: the regulation's articles are unknown, so no citation can be checked "
                          "(scripts/seed-articles writes it from the seed)", str(pack.path / "articles.yaml"), None)]
    seed = (pack.meta.get("regulation") or {}).get("seed")
    if articles["seed"] != seed:   # e.g. a pack scaffolded from another keeps that one's articles
        return [PackError(f"articles.yaml lists the articles of {articles['seed']}, not of this pack's regulation "
                          f"({seed}): run scripts/seed-articles", str(pack.path / "articles.yaml"), 1)]
    problems = []
    for _kind, path in files:
        try:
            document = read_yaml(path)
        except PackError:
            continue   # the loader and the key check say what is wrong with the file
        for node, key, citation in citation_keys(document):
            for name in cited(citation):
                if why := missing(articles, name):
                    problems.append(PackError(f"`{key}: {citation}` cites what the regulation does not have: {why}",
                                              str(path), key_line(node, key)))
    return problems
