"""What differs between two packs (or a pack and an edited copy): parameters and rules, as a readable table."""
from __future__ import annotations

import json
from pathlib import Path


def _rule_text(rule: dict) -> str:
    return json.dumps({"when": rule["when"], "then": rule["then"], "article": rule["article"]}, ensure_ascii=False,
                      sort_keys=True)


def _suffix(rule_id: str) -> str:
    """Rule ids are pack-prefixed (tth-acc-no-gps): compare packs on what follows the prefix."""
    return rule_id.split("-", 1)[1] if "-" in rule_id else rule_id


def diff_packs(a, b) -> list[tuple[str, str, str, str]]:
    """Rows (section, item, in a, in b)."""
    rows = []
    for name in sorted(set(a.parameters) | set(b.parameters)):
        pa, pb = a.parameters.get(name), b.parameters.get(name)
        fmt = lambda p: "—" if p is None else (f"{p['amount']} {p['unit']}" if "amount" in p else str(p["value"]))  # noqa: E731
        if (pa or {}).get("amount", (pa or {}).get("value")) != (pb or {}).get("amount", (pb or {}).get("value")) \
                or (pa or {}).get("unit") != (pb or {}).get("unit"):
            rows.append(("parameter", name, fmt(pa), fmt(pb)))
    for stage in ("acceptance", "routing", "sla", "penalties"):
        ra = {_suffix(r["id"]): r for r in a.stages.get(stage, [])}
        rb = {_suffix(r["id"]): r for r in b.stages.get(stage, [])}
        for key in sorted(set(ra) | set(rb)):
            x, y = ra.get(key), rb.get(key)
            if x is None or y is None:
                rows.append((stage, key, x["article"] if x else "—", y["article"] if y else "—"))
            elif _rule_text(x) != _rule_text(y):
                changed = [part for part in ("when", "then", "article") if x[part] != y[part]]
                rows.append((stage, key, f"{', '.join(changed)}: {x['article']}", f"{y['article']}"))
    return rows


def _files(pack_dir: Path) -> set[str]:
    return {str(p.relative_to(pack_dir)) for p in pack_dir.rglob("*") if p.is_file() and "__pycache__" not in p.parts}


def diff_files(a_dir: Path, b_dir: Path) -> list[tuple[str, str, str, str]]:
    """Files one pack has and the other lacks (a removed agencies.yaml or template loads, and changes what the pack
    does: say so)."""
    a, b = _files(Path(a_dir)), _files(Path(b_dir))
    return [("file", name, "present" if name in a else "—", "present" if name in b else "—")
            for name in sorted(a ^ b)]


def format_table(rows, left: str, right: str) -> str:
    header = ("section", "item", left, right)
    widths = [max(len(str(r[i])) for r in rows + [header]) for i in range(4)]
    widths = [min(w, 48) for w in widths]
    line = lambda r: "  ".join(str(c)[:widths[i]].ljust(widths[i]) for i, c in enumerate(r))  # noqa: E731
    return "\n".join([line(header), line(["-" * w for w in widths])] + [line(r) for r in rows])
