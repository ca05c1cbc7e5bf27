"""`paht sla deadline|elapsed`: a step's due instant from the pack's sla rules, and working time elapsed."""
from __future__ import annotations

import argparse
import json
from datetime import datetime

from .rules import get_pack, load_pack
from .worktime import calendar_for


def _pack(name: str):
    return load_pack(name) if "/" in name else get_pack(name)


def _instant(text: str) -> datetime:
    value = datetime.fromisoformat(text)
    if value.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{text}: give the offset, e.g. 2027-02-03T10:00:00+07:00")
    return value


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="paht sla")
    commands = parser.add_subparsers(dest="command", required=True)
    deadline = commands.add_parser("deadline", help="the due instant of a step")
    deadline.add_argument("pack")
    deadline.add_argument("--step", required=True)
    deadline.add_argument("--start", required=True, type=_instant)
    deadline.add_argument("--urgent", action="store_true")
    deadline.add_argument("--multi-agency", action="store_true")
    deadline.add_argument("--json", action="store_true")
    elapsed = commands.add_parser("elapsed", help="working time elapsed between two instants")
    elapsed.add_argument("pack")
    elapsed.add_argument("--from", dest="start", required=True, type=_instant)
    elapsed.add_argument("--to", dest="end", required=True, type=_instant)
    args = parser.parse_args(argv)
    pack = _pack(args.pack)
    calendar = calendar_for(pack.meta)
    if args.command == "elapsed":
        worked = calendar.elapsed(args.start, args.end)
        hours = worked.total_seconds() / 3600
        print(f"{hours:.2f} working hours ({worked})")
        return 0
    rule = pack.evaluate("sla", {"step": args.step, "urgent": args.urgent, "multi_agency": args.multi_agency,
                                 "designated": False})
    if rule.get("decision") != "set_deadline":
        print(f"no deadline for step {args.step} in {pack.id}" + (f" ({rule['rule']}, {rule['article']})"
                                                                   if rule.get("rule") else ""))
        return 1
    due = calendar.add(args.start, rule["amount"], rule["unit"])
    if args.json:
        print(json.dumps({"due": due.isoformat(), "amount": rule["amount"], "unit": rule["unit"],
                          "rule": rule["rule"], "article": rule["article"]}, ensure_ascii=False))
    else:
        print(f"{due.isoformat()}  ({rule['amount']} {rule['unit']}; rule {rule['rule']}, {rule['article']})")
    return 0
