"""`paht report <pack> --period P [--kind K] [--format xlsx|csv|json] -o FILE`: a pack's agency scorecards for a
period from the running system (AMQP RPC to the rating service, AMQP_URI). With --kind, the periodic report
stored when it fell due; without, the scorecards made now."""
from __future__ import annotations

import argparse
import base64
import sys
from pathlib import Path

from . import settings


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="paht report", description="agency scorecards and periodic reports")
    parser.add_argument("pack")
    parser.add_argument("--period", required=True, help="YYYY-MM-DD, YYYY-Www, YYYY-MM, YYYY-Qn or YYYY")
    parser.add_argument("--kind", help="a kind of the pack's schedule (monthly, yearly, …): the stored report")
    parser.add_argument("--format", default="xlsx", choices=["xlsx", "csv", "json"])
    parser.add_argument("-o", "--output", help="file to write (default: standard output)")
    args = parser.parse_args(argv)
    from nameko.standalone.rpc import ClusterRpcProxy

    with ClusterRpcProxy({"AMQP_URI": settings.amqp_uri()}, timeout=120) as cluster:
        if args.kind:
            answer = cluster.rating.periodic_file(f"{args.pack}:{args.kind}:{args.period}", args.format)
            if answer is None:
                print(f"no {args.kind} report {args.period} of {args.pack} has been made", file=sys.stderr)
                return 1
        else:
            answer = cluster.rating.report_file(args.pack, args.period, args.format)
            if "error" in answer:
                print(answer["error"].get("detail"), file=sys.stderr)
                return 2
    data = base64.b64decode(answer["data_b64"])
    if args.output:
        Path(args.output).write_bytes(data)
        print(f"{args.output}: {len(data)} bytes ({answer['content_type']})")
    else:
        sys.stdout.buffer.write(data)
    return 0
