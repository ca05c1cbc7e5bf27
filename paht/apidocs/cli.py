"""`paht api write` (docs/api/openapi.json, docs/api/asyncapi.json) and `paht api check` (exit 1 naming each
stale file)."""
from __future__ import annotations

import argparse
from pathlib import Path

from . import DOCS, documents


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="paht api", description="the OpenAPI and AsyncAPI documents")
    verbs = parser.add_subparsers(dest="verb", required=True)
    verbs.add_parser("write", help=f"write them to {DOCS}")
    verbs.add_parser("check", help="fail when a stored document differs from the generated one")
    return parser


def stale(directory: Path = DOCS) -> list[Path]:
    current = documents()
    return [directory / name for name, text in current.items()
            if not (directory / name).exists() or (directory / name).read_text(encoding="utf-8") != text]


def main(argv: list[str], out=print, directory: Path = DOCS) -> int:
    args = parser().parse_args(argv)
    if args.verb == "write":
        directory.mkdir(parents=True, exist_ok=True)
        for name, text in documents().items():
            (directory / name).write_text(text, encoding="utf-8")
            out(f"wrote {directory / name}")
        return 0
    outdated = stale(directory)
    for path in outdated:
        out(f"stale: {path} (run `paht api write`)")
    return 1 if outdated else 0
