"""The published OpenAPI document of the HTTP API (an entrypoint of the intake service)."""
from __future__ import annotations


class ApiDocApi:
    pass
