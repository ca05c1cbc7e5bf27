"""Reports entered for callers by operators, and the Zalo Official Account webhook (entrypoints of intake)."""
from __future__ import annotations


class ChannelsApi:
    pass
