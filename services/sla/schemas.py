"""sla's models: a deadline as the report shows it (public and staff views) is the kernel's, a contract with
intake."""
from __future__ import annotations

from paht.schemas import PublicDeadline

__all__ = ["PublicDeadline"]
