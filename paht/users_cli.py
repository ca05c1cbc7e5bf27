"""`paht users add|list|disable|enable|reset`: staff accounts kept by the gateway, over AMQP RPC (AMQP_URI).

    paht users add nguyen.van.a --role agency_staff --pack thua-thien-hue-2022 --agency AGENCY --name "Nguyễn Văn A"
    paht users list [--pack P] [--agency A] [--role R]
    paht users disable nguyen.van.a        # its sessions end at once
    paht users reset nguyen.van.a          # a new password (printed once); its sessions end

A password is generated and printed once unless `--password-stdin` reads it from standard input. Each call carries
an internal assertion made with PAHT_INTERNAL_SECRET (paht.callers): run it where the services' secret is set (a
pod of the system; locally, the directory `paht up` runs in, whose var/ holds the local secret).
"""
from __future__ import annotations

import argparse
import json
import sys

from . import callers
from .roles import STAFF_ROLES


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="paht users", description="staff accounts (gateway)")
    verbs = parser.add_subparsers(dest="verb", required=True)
    add = verbs.add_parser("add", help="a new staff account")
    add.add_argument("username")
    add.add_argument("--role", required=True, choices=STAFF_ROLES)
    add.add_argument("--pack", help="the pack (province) it belongs to; required for agency roles")
    add.add_argument("--agency", help="its agency (agency_staff, agency_leader)")
    add.add_argument("--name", help="display name")
    add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    listing = verbs.add_parser("list", help="accounts, with filters")
    listing.add_argument("--pack")
    listing.add_argument("--agency")
    listing.add_argument("--role", choices=STAFF_ROLES)
    listing.add_argument("--json", action="store_true")
    for verb, text in (("disable", "disable an account: its tokens stop working at once"),
                       ("enable", "enable a disabled account again")):
        verbs.add_parser(verb, help=text).add_argument("username")
    reset = verbs.add_parser("reset", help="set a new password (generated unless --password-stdin)")
    reset.add_argument("username")
    reset.add_argument("--password-stdin", action="store_true")
    return parser


def _password(args, stdin) -> str | None:
    return stdin.readline().rstrip("\n") if args.password_stdin else None


def run(args, gateway, out=print, stdin=sys.stdin) -> int:
    """One command against the gateway's RPC proxy (`gateway.add_user` …), each call signed as PAHT's own."""
    def call(method, **arguments):
        return callers.call_internal("gateway", gateway, method, **arguments)

    if args.verb == "list":
        users = call("list_users", pack=args.pack, agency=args.agency, role=args.role)
        if args.json:
            out(json.dumps(users, ensure_ascii=False, indent=1))
            return 0
        for user in users:
            out(f"{user['username']:<28} {user['role']:<14} {user.get('pack') or '*':<22} "
                f"{user.get('agency') or '-':<28} {'DISABLED' if user['disabled'] else 'active':<8} "
                f"{user.get('name') or ''}")
        out(f"{len(users)} accounts")
        return 0
    if args.verb == "add":
        answer = call("add_user", account={"username": args.username, "role": args.role, "pack": args.pack,
                                           "agency": args.agency, "name": args.name,
                                           "password": _password(args, stdin)})
    elif args.verb in ("disable", "enable"):
        answer = call("disable_user", reference=args.username, disabled=args.verb == "disable")
    else:
        answer = call("reset_user", reference=args.username, password=_password(args, stdin))
    if "error" in answer:
        error = answer["error"]
        details = "; ".join(f"{k}: {v}" for k, v in (error.get("fields") or {}).items()) or error.get("detail", "")
        out(f"{args.username}: {error['message_en']} {details}".rstrip())
        return 1
    user = answer["user"]
    out(f"{user['id']}: {user['role']} {user.get('pack') or '*'} {user.get('agency') or '-'} "
        f"{'DISABLED' if user['disabled'] else 'active'}")
    if answer.get("password"):
        out(f"password (shown once): {answer['password']}")
    return 0


def main(argv: list[str]) -> int:
    return callers.run_cli("paht users", run, parser().parse_args(argv), "gateway")
