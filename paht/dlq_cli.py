"""`paht dlq list|show|replay|drop`: the dead letters intake keeps, over AMQP RPC (AMQP_URI). Each call carries an
internal assertion made with PAHT_INTERNAL_SECRET (paht.callers): run it where the services' secret is set."""
from __future__ import annotations

import argparse
import json

from . import callers


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="paht dlq", description="messages no service could handle")
    verbs = parser.add_subparsers(dest="verb", required=True)
    listing = verbs.add_parser("list", help="dead letters by status (default: open)")
    listing.add_argument("--status", default="open", choices=["open", "replayed", "dropped"])
    listing.add_argument("--limit", type=int, default=100)
    for verb, text in (("show", "one letter with its message and error"), ("replay", "send it to its queue again"),
                       ("drop", "settle it without handling")):
        verbs.add_parser(verb, help=text).add_argument("id")
    return callers.run_cli("paht dlq", run, parser.parse_args(argv))


def run(args, intake) -> int:
    """One command against intake's RPC proxy, each call signed as PAHT's own."""
    def call(method, **arguments):
        return callers.call_internal("intake", intake, method, **arguments)

    if args.verb == "list":
        letters = call("dead_letters", status=args.status, limit=args.limit)
        for letter in letters:
            print(f"{letter['_id']}  {letter.get('at', '')[:19]}  {letter.get('queue')}  "
                  f"report {letter.get('report_id') or '-'}  {letter['error']['type']}: "
                  f"{letter['error']['message'][:80]}")
        print(f"{len(letters)} {args.status}")
        return 0
    method = {"show": "dead_letter", "replay": "replay_dead_letter", "drop": "drop_dead_letter"}[args.verb]
    answer = call(method, letter_id=args.id)
    if answer is None:
        print(f"{args.id}: no such open dead letter")
        return 1
    print(json.dumps(answer, ensure_ascii=False, indent=1))
    return 0
