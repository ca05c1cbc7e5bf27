"""OpenAPI 3.1 and AsyncAPI 3.0 documents generated from the pydantic models a service's entrypoints declare (the
generator is the kernel's; which service, its models and its document's words are the service's own:
services/gateway/apidoc.py)."""
from __future__ import annotations

import json


def rendered(document: dict) -> str:
    """The stored form: keys sorted, indent 2, UTF-8 text as is, a trailing newline."""
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
