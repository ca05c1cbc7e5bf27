"""Chaos tests restart the shared RabbitMQ and run the whole system as processes on ports 8000–8006: they run
only with PAHT_CHAOS=1 (`make chaos`), never in `make test`."""
from __future__ import annotations

import os

collect_ignore = [] if os.environ.get("PAHT_CHAOS") == "1" else ["test_chaos.py"]


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: long chaos runs (make chaos, PAHT_CHAOS=1)")
