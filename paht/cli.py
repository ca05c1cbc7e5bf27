"""The `paht` command: `up`, `run`, `demo`, `rules …`, `sla …`, `dlq …`, `report …`, `users …`, `api …`."""
from __future__ import annotations

import argparse
import sys
import warnings

# third-party deprecation notices every command printed on start (eventlet's, raised where nameko imports it; the
# cryptography DSA notice dnspython triggers through eventlet): the operator can do nothing about them. Matched by
# message and by the module that raises them, so a warning of our own still shows.
THIRD_PARTY_NOTICES = ((r"\s*Eventlet is deprecated", r"(nameko|eventlet|dns)(\.|$)"),
                       (r"DSA is deprecated", r"(dns|cryptography|paramiko)(\.|$)"))


def quiet_third_party_warnings() -> None:
    """Before nameko or eventlet is imported (the notices are raised at import)."""
    for message, module in THIRD_PARTY_NOTICES:
        warnings.filterwarnings("ignore", message=message, module=module)


def main(argv: list[str] | None = None) -> int:
    quiet_third_party_warnings()
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "run":   # before anything else is imported: it monkey-patches for eventlet first
        from .serve import main as serve_main
        return serve_main(argv[1:])
    if argv and argv[0] == "rules":
        from .rules.cli import main as rules_main
        return rules_main(argv[1:])
    if argv and argv[0] == "sla":
        from .sla_cli import main as sla_main
        return sla_main(argv[1:])
    if argv and argv[0] == "report":
        from .report_cli import main as report_main
        return report_main(argv[1:])
    if argv and argv[0] == "dlq":
        from .dlq_cli import main as dlq_main
        return dlq_main(argv[1:])
    if argv and argv[0] == "users":
        from .users_cli import main as users_main
        return users_main(argv[1:])
    parser = argparse.ArgumentParser(prog="paht", description="PAHT: phản ánh hiện trường")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("up", help="start RabbitMQ check, all services and the API on 127.0.0.1:8000")
    commands.add_parser("run", help="one service, as `nameko run` with PAHT's worker pools: --config FILE module:Class")
    demo = commands.add_parser("demo", help="drive generated reports through the running system")
    demo.add_argument("--reports", type=int, default=50)
    demo.add_argument("--pack", default=None, help="one pack (default: all five)")
    demo.add_argument("--api", default="http://127.0.0.1:8000")
    demo.add_argument("--seed", type=int, default=None, help="repeat a run (default: new reporters each run)")
    commands.add_parser("rules", help="rule packs: check | test | evaluate | diff | replay")
    commands.add_parser("sla", help="deadlines: deadline | elapsed")
    commands.add_parser("dlq", help="dead letters: list | show | replay | drop")
    commands.add_parser("users", help="staff accounts: add | list | disable | enable | reset")
    commands.add_parser("report", help="agency scorecards for a period: <pack> --period P [-o FILE]")
    args = parser.parse_args(argv)
    if args.command == "up":
        from .runner import up
        return up(args)
    if args.command == "demo":
        from .demo import run_demo
        return run_demo(args)
    return 2


if __name__ == "__main__":
    sys.exit(main())
