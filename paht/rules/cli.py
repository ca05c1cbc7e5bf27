"""`paht rules check|test|evaluate|diff|replay|new|explain`."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from . import PackError, get_pack, list_packs, load_pack, rules_root
from .audit import audit
from .cases import COVERAGE_MIN, coverage, run_cases
from .diff import diff_files, diff_packs, format_table


def _dirs(args: list[str]) -> list[Path]:
    return [Path(a) for a in args] if args else [rules_root() / p for p in list_packs()]


def _pack(name: str):
    path = Path(name)
    return load_pack(path) if path.exists() and (path / "pack.yaml").exists() else get_pack(name)


def _pack_dir(name: str) -> Path:
    """A pack's folder, given as a path or as the name of a pack of the rules folder."""
    path = Path(name)
    if (path / "pack.yaml").exists() or "/" in name or not (rules_root() / name / "pack.yaml").exists():
        return path
    return rules_root() / name


def checked(pack_dir: Path):
    """(the pack, what check finds wrong with it), printing each problem as check does; the pack is None when it
    does not load."""
    try:
        pack = load_pack(pack_dir)
    except PackError as exc:
        print(f"FAIL {pack_dir}: {exc}")
        return None, [exc]
    except Exception as exc:   # noqa: BLE001 — an author's file the checker did not foresee: say so, no traceback
        print(f"FAIL {pack_dir}: the pack does not load ({type(exc).__name__}: {exc})")
        return None, [exc]
    problems = audit(pack)
    for problem in problems:
        print(f"FAIL {pack.id}: {problem}")
    return pack, problems


def check(dirs) -> int:
    """Each pack loads (schema, vocabulary, values, references) and holds nothing that can never take effect."""
    failed = 0
    for pack_dir in dirs:
        pack, problems = checked(pack_dir)
        if problems:
            failed += 1
            continue
        counts = ", ".join(f"{stage} {len(rules)}" for stage, rules in pack.stages.items())
        print(f"ok   {pack.id}: {counts} rules, {len(pack.agencies)} agencies")
    return 1 if failed else 0


def compare(old: str, new: str) -> int:
    """What differs between two packs; a pack that does not check is named with what check says of it (exit 1),
    and one that does not load stops the comparison."""
    (a, a_problems), (b, b_problems) = checked(_pack_dir(old)), checked(_pack_dir(new))
    if a is None or b is None:
        return 1
    rows = diff_files(a.path, b.path) + diff_packs(a, b)
    print(format_table(rows, a.id, new) if rows else "no differences")
    return 1 if a_problems or b_problems else 0


def test(dirs) -> int:
    failed = total = 0
    for pack_dir in dirs:
        try:
            pack = load_pack(pack_dir)
            results = run_cases(pack)
        except PackError as exc:
            print(f"FAIL {pack_dir}: {exc}")
            failed += 1
            continue
        for r in results:
            total += 1
            if not r.ok:
                failed += 1
                print(f"FAIL {pack.id} {r.file}:{r.line} {r.name} [{r.article}]: {r.detail}")
        passed = sum(r.ok for r in results)
        covered = coverage(pack, results)
        if not covered.ok:
            failed += 1
        print(f"{'ok  ' if passed == len(results) and covered.ok else 'FAIL'} {pack.id}: {passed}/{len(results)} cases, "
              f"rule coverage {len(covered.covered)}/{covered.total} ({covered.share:.0%}"
              f"{'' if covered.ok else f', under {COVERAGE_MIN:.0%}'})")
        if covered.missing:
            print(f"     no worked case makes these take effect: {', '.join(covered.missing)}")
    return 1 if failed else 0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="paht rules")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("check").add_argument("packs", nargs="*")
    commands.add_parser("test").add_argument("packs", nargs="*")
    evaluate = commands.add_parser("evaluate")
    evaluate.add_argument("pack")
    evaluate.add_argument("--stage", required=True, choices=["acceptance", "routing", "sla", "penalties"])
    evaluate.add_argument("--input", required=True, help="a JSON file of facts ('-' for stdin)")
    diff = commands.add_parser("diff")
    diff.add_argument("pack")
    diff.add_argument("other")
    new = commands.add_parser("new", help="a new province's pack, copied from an existing one (TODO.md: what to change)")
    new.add_argument("pack", help="the new pack's id (a folder of the rules folder) or a path")
    new.add_argument("--from", dest="source", required=True, help="the pack to start from")
    new.add_argument("--prefix", help="its rules' id prefix (default: initials and year, e.g. qn25)")
    explain = commands.add_parser("explain", help="a rule: its article, file:line, condition and the facts it reads")
    explain.add_argument("rule")
    explain.add_argument("packs", nargs="*", help="the packs to look in (default: every pack of the rules folder)")
    replay = commands.add_parser("replay", help="what a changed pack would have decided of the stored reports")
    replay.add_argument("pack")
    replay.add_argument("--with", dest="with_dir", required=True, help="the changed copy of the pack (a folder)")
    replay.add_argument("--since", required=True, help="YYYY-MM-DD: reports submitted from that day (pack's time)")
    replay.add_argument("--until", help="YYYY-MM-DD: … until that day (default: now)")
    replay.add_argument("--out", help="FILE.xlsx or FILE.csv: every difference")
    replay.add_argument("--limit", type=int, default=40, help="differences printed (default 40)")
    args = parser.parse_args(argv)
    if args.command == "replay":
        from .replay import main as replay_main
        return replay_main(args, load_pack, _pack_dir)
    if args.command == "new":
        from .scaffold import main as new_main
        return new_main(args.pack, _pack_dir(args.source), rules_root(), args.prefix)
    if args.command == "explain":
        from .explain import main as explain_main
        return explain_main(args.rule, _dirs(args.packs), load_pack)
    if args.command == "check":
        return check(_dirs(args.packs))
    if args.command == "test":
        return test(_dirs(args.packs))
    if args.command == "evaluate":
        facts = json.load(sys.stdin if args.input == "-" else open(args.input, encoding="utf-8"))
        try:
            pack = _pack(args.pack)
        except (PackError, KeyError) as exc:
            print(f"FAIL {args.pack}: {exc}")
            return 1
        print(json.dumps(pack.evaluate(args.stage, facts), ensure_ascii=False, indent=2))
        return 0
    return compare(args.pack, args.other)
