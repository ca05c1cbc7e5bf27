"""`paht rules new PACK --from PACK`: a new province's pack started from an existing one.

The copy is whole (rules, parameters, agencies, ward polygons with their licence and source, calendars, templates,
worked cases, articles), so it passes `paht rules check` and `paht rules test` as it stands; what is renamed is what
must differ for two packs to live side by side: the pack's id (its folder) and its rules' ids (the prefix, in the
rule files and in the worked cases that name them). Everything that is the old province's and regulation's is left
for the author with a TODO: the top of pack.yaml and TODO.md list it.
"""
from __future__ import annotations

import re
import shutil
from pathlib import Path

from paht import clock

from .errors import PackError
from .loader import load_pack

PACK_ID = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
TODO_FILE = "TODO.md"


def rule_prefix(pack_id: str) -> str:
    """`quang-ngai-2025` → `qn25`: the initials of the name and the year's last two digits."""
    words = pack_id.split("-")
    year = words[-1] if words[-1].isdigit() else ""
    names = words[:-1] if year else words
    return "".join(word[0] for word in names if word) + year[-2:]


def old_prefix(rule_ids: list[str]) -> str | None:
    prefixes = {rule_id.split("-", 1)[0] for rule_id in rule_ids}
    return prefixes.pop() if len(prefixes) == 1 else None


def renamed(text: str, rule_ids: dict[str, str]) -> str:
    if not rule_ids:
        return text
    pattern = re.compile(r"(?<![\w-])(" + "|".join(map(re.escape, sorted(rule_ids, key=len, reverse=True)))
                         + r")(?![\w-])")
    return pattern.sub(lambda m: rule_ids[m.group(1)], text)


def todo_text(new_id: str, source, prefix: str) -> str:
    meta = source.meta
    regulation = meta.get("regulation") or {}
    return f"""# TODO: {new_id}, scaffolded from {source.id} ({clock.now():%Y-%m-%d})

Everything below is still {source.id}'s ({meta.get('province')}, {regulation.get('title')}). The pack checks and its
worked cases pass as they stand; make it the new province's, then run `paht rules check {new_id}` and
`paht rules test {new_id}` (docs/rule-authors.md explains every key, fact, action, step and unit).

- [ ] `pack.yaml` `province`, `regulation` (title, number, date, `seed`: the file of the new regulation's text), then
      `scripts/seed-articles` to write `articles.yaml` from it (check fails while articles.yaml names another seed).
- [ ] `boundary/`: the province's ward polygons (`wards.geojson`, one Feature per ward with ward_code, ward_name,
      province_name), their licence (`LICENSE.txt`) and source (`README.md`).
- [ ] `agencies.yaml`: the centre, departments, utilities and one `ubnd-<ward_code>` per ward
      (`python -m paht.agencies` writes one from the ward polygons once the pack is listed there).
- [ ] Every rule's `article` and what it decides, in acceptance.yaml, routing.yaml, sla.yaml, penalties.yaml
      (rule ids now start with `{prefix}-`); every parameter of pack.yaml (amount, unit, article).
- [ ] Hours and calendar: `timezone`, `office_hours`, `intake`, `day_swaps` (the province's own days off and
      working days).
- [ ] `rating_scale`, `publication`, `reports`, the other procedures of pack.yaml, each with the new article.
- [ ] `templates/`: the letters and notifications, in the new province's words.
- [ ] `cases/`: the worked cases, each with the new regulation's article and the outcome it gives.
- [ ] `notes` in pack.yaml: the readings of the new regulation, then delete this file.
"""


def scaffold(source_dir: Path, target_dir: Path, prefix: str | None = None) -> dict:
    """Copy the pack at `source_dir` to `target_dir` (whose name is the new pack's id), renaming its id and its
    rules' ids. PackError when the source does not load or the target exists or is not a pack id."""
    new_id = target_dir.name
    if not PACK_ID.match(new_id):
        raise PackError(f"{new_id!r} is not a pack id (lower-case words and digits joined by '-', e.g. "
                        f"quang-ngai-2025)", str(target_dir), None)
    if target_dir.exists():
        raise PackError("already exists: choose another name or remove it", str(target_dir), None)
    source = load_pack(source_dir)
    ids = [rule["id"] for rules in source.stages.values() for rule in rules]
    old = old_prefix(ids)
    prefix = prefix or rule_prefix(new_id)
    if not re.match(r"^[a-z0-9]+$", prefix):
        raise PackError(f"rule prefix {prefix!r}: lower-case letters and digits", str(target_dir), None)
    mapping = {rule_id: f"{prefix}-{rule_id.split('-', 1)[1]}" if old else f"{prefix}-{rule_id}"
               for rule_id in ids}
    shutil.copytree(source_dir, target_dir, ignore=shutil.ignore_patterns(".*", "__pycache__", TODO_FILE))
    for path in sorted(target_dir.rglob("*.yaml")):
        text = path.read_text(encoding="utf-8")
        changed = renamed(text, mapping)
        if path == target_dir / "pack.yaml":
            changed = re.sub(r"(?m)^id:\s*\S+", f"id: {new_id}", changed, count=1)
            changed = (f"# TODO ({TODO_FILE}): scaffolded from {source.id} by `paht rules new {new_id} --from "
                       f"{source.id}`: every value below is still {source.id}'s\n" + changed)
        if changed != text:
            path.write_text(changed, encoding="utf-8")
    (target_dir / TODO_FILE).write_text(todo_text(new_id, source, prefix), encoding="utf-8")
    return {"id": new_id, "from": source.id, "prefix": prefix, "rules": len(ids)}


def main(new: str, source: Path, rules_root: Path, prefix: str | None) -> int:
    target = Path(new) if "/" in new else rules_root / new
    try:
        done = scaffold(source, target, prefix)
    except PackError as exc:
        print(f"FAIL {exc}")
        return 1
    print(f"ok   {target}: {done['rules']} rules of {done['from']} as {done['prefix']}-…; "
          f"what to make the new province's: {target / TODO_FILE}")
    from .cli import check
    return check([target])
