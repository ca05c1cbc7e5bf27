"""`write` and `check` of a service's API documents (`python -m services.<service>.apidoc write|check`: the
gateway's public ones, intake's internal one): the stored copies in docs/api/, and exit 1 naming each stale one."""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import Callable

def parser(directory: Path) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="apidoc", description="the OpenAPI and AsyncAPI documents")
    verbs = parser.add_subparsers(dest="verb", required=True)
    verbs.add_parser("write", help=f"write them to {directory}")
    verbs.add_parser("check", help="fail when a stored document differs from the generated one")
    return parser


def stale(documents: dict[str, str], directory: Path) -> list[Path]:
    return [directory / name for name, text in documents.items()
            if not (directory / name).exists() or (directory / name).read_text(encoding="utf-8") != text]


def main(argv: list[str], documents: Callable[[], dict[str, str]], directory: Path, module: str, out=print) -> int:
    """`module`: the one whose `write` refreshes these documents (services.gateway.apidoc …)."""
    args = parser(directory).parse_args(argv)
    if args.verb == "write":
        directory.mkdir(parents=True, exist_ok=True)
        for name, text in documents().items():
            (directory / name).write_text(text, encoding="utf-8")
            out(f"wrote {directory / name}")
        return 0
    outdated = stale(documents(), directory)
    for path in outdated:
        out(f"stale: {path} (run `python -m {module} write`)")
    return 1 if outdated else 0
