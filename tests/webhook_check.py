"""The receiver's signature check exactly as docs/webhooks.md gives it to paste: tests verify what PAHT sends with
the documented code, so the snippet cannot drift from the signing (paht.webhooks)."""
from __future__ import annotations

import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[1] / "docs" / "webhooks.md"


def documented_check():
    """verify_paht_webhook(secret, body, timestamp, signature, now=None) from the document's Python block."""
    code = re.search(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    namespace: dict = {}
    exec(code.group(1), namespace)  # noqa: S102 — the project's own documentation
    return namespace["verify_paht_webhook"]
