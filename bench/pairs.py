"""bench/throughput.py before/after in one run: alternating between a revision and this tree, pair after pair.

On a shared machine the same code's CPU per report moves by a fifth from one run to the next (every process
together), so one before and one after prove nothing; alternating several pairs and reading the medians does.
The revision is checked out in a temporary git worktree (this tree's .venv serves both: the services import the
code of the tree they start in), each side runs `bench/throughput.py --n N` as it is in that revision (its text
output is read, so any revision since the bench printed these lines will do), and the worktree is removed.
Prints each pair and the medians of reports/s, the ratio to the bare chain and the CPU per report.
Run: .venv/bin/python bench/pairs.py --before dc167c4 [--pairs 5] [--n 600]"""
from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
READ = {   # what each run prints that a pair compares, as a number
    "r/s": re.compile(r"^PAHT end to end .*: ([\d.]+) reports/s", re.M),
    "ratio": re.compile(r"^ratio to the bare chain: ([\d.]+)", re.M),
    "services ms": re.compile(r"CPU per report: ([\d.]+) ms in all", re.M),
    "broker ms": re.compile(r"CPU: services [\d.]+ ms \+ broker ([\d.]+) ms", re.M),
}


def run_bench(tree: Path, n: int) -> dict[str, float | None]:
    done = subprocess.run([str(ROOT / ".venv" / "bin" / "python"), "bench/throughput.py", "--n", str(n)], cwd=tree,
                          capture_output=True, text=True, timeout=1800, check=False)
    found = {name: pattern.search(done.stdout) for name, pattern in READ.items()}
    if found["r/s"] is None:
        print(done.stdout[-2000:], done.stderr[-2000:], sep="\n", file=sys.stderr)
    return {name: float(match.group(1)) if match else None for name, match in found.items()}


def line(label: str, numbers: dict) -> str:
    return f"{label:>7}  " + "  ".join(f"{name} {value if value is not None else '—':>6}" for name, value in numbers.items())


def medians(runs: list[dict]) -> dict:
    return {name: round(statistics.median(values), 3) if (values := [r[name] for r in runs if r[name] is not None])
            else None for name in READ}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", required=True, help="the git revision to compare this tree with")
    parser.add_argument("--pairs", type=int, default=5)
    parser.add_argument("--n", type=int, default=600, help="reports a run (bench/throughput.py --n)")
    args = parser.parse_args(argv)
    revision = subprocess.run(["git", "rev-parse", "--short", args.before], cwd=ROOT, capture_output=True, text=True,
                              check=True).stdout.strip()
    with tempfile.TemporaryDirectory(prefix="paht-bench-pairs-") as parent:
        before = Path(parent) / "before"
        subprocess.run(["git", "worktree", "add", "--detach", "-f", str(before), revision], cwd=ROOT, check=True,
                       capture_output=True)
        (before / ".venv").symlink_to(ROOT / ".venv")
        runs: dict[str, list[dict]] = {"before": [], "after": []}
        try:
            for pair in range(1, args.pairs + 1):
                for side, tree in (("before", before), ("after", ROOT)):
                    runs[side].append(run_bench(tree, args.n))
                    print(line(f"{pair} {side}", runs[side][-1]), flush=True)
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(before)], cwd=ROOT, check=False,
                           capture_output=True)
    print(f"medians of {args.pairs} pairs (before = {revision}, after = this tree):")
    for side in ("before", "after"):
        print(line(side, medians(runs[side])))
    return 0 if all(r["r/s"] is not None for side in runs.values() for r in side) else 1


if __name__ == "__main__":
    sys.exit(main())
