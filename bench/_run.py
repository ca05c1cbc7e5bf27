"""How a bench that starts the system runs: in a temp directory of its own (kept with --keep), stopped cleanly by
SIGTERM or Ctrl-C, its services and connections closed by the ExitStack `run` registers them on."""
from __future__ import annotations

import contextlib
import shutil
import signal
import tempfile
from pathlib import Path


class BenchError(Exception):
    """The bench could not measure (not: the system was slow)."""


def measured(name: str, keep: bool, run) -> int:
    """`run(workdir, stack)`'s exit code; 1 when the bench could not measure or was interrupted."""
    def terminated(*_):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, terminated)
    workdir = Path(tempfile.mkdtemp(prefix=f"paht-bench-{name}-"))
    try:
        with contextlib.ExitStack() as stack:
            return run(workdir, stack)
    except BenchError as exc:
        print(f"{name}: could not measure: {exc}")
        return 1
    except KeyboardInterrupt:
        print(f"{name}: interrupted")
        return 1
    finally:
        if keep:
            print(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
