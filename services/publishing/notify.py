"""Notifications to citizens and agencies (entrypoints of the publishing service)."""
from __future__ import annotations


class Notifier:
    pass
