"""What a service declares about its entrypoints for the generated documents: the pydantic models of each HTTP
operation's request and answers, and of each RPC's arguments and reply."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel

Auth = Literal["none", "bearer", "tracking", "tracking_optional", "api_key"]


@dataclass(frozen=True)
class Body:
    """A request body. `media_type` multipart/form-data: `model` is the JSON part named `part`, `files` the name of
    the repeated file parts (none: no files)."""

    model: type[BaseModel]
    media_type: str = "application/json"
    part: str | None = None
    files: str | None = None
    required: bool = True
    description: str = ""


@dataclass(frozen=True)
class Content:
    """An answer that is not a JSON model: media types whose body is binary or text."""

    media_types: tuple[str, ...]
    description: str
    text: bool = False


@dataclass(frozen=True)
class Operation:
    """One HTTP operation: `responses` maps the success statuses to a model or Content (or a tuple of them: one
    answer in several media types); `errors` lists the stable error codes (paht.errors) it may answer, their
    statuses come from paht.errors.MESSAGES."""

    summary: str
    tags: tuple[str, ...]
    responses: dict[int, object]
    errors: tuple[str, ...] = ()
    request: tuple[Body, ...] = ()
    query: type[BaseModel] | None = None
    headers: dict[str, tuple[str, bool]] = field(default_factory=dict)   # name → (description, required)
    path: dict[str, dict] = field(default_factory=dict)                  # name → JSON schema
    auth: Auth = "none"
    description: str = ""


Audience = Literal["other-systems", "internal"]
RpcAuth = Literal["none", "staff", "staff-or-internal", "internal"]


@dataclass(frozen=True)
class RpcOperation:
    """One AMQP RPC: `arguments` is a model whose fields, in order, are the positional arguments (also accepted by
    name); `reply` the type of the result. `audience`: for other systems, or internal (PAHT's own services and
    CLIs); `auth`: what the caller's `credential` must be (paht.callers) — nothing, a staff bearer token, either
    that or PAHT's internal assertion, or the internal assertion only."""

    summary: str
    arguments: type[BaseModel]
    reply: object   # any type pydantic describes (a model, `list[Model]`, `Model | None`); None: any JSON
    tags: tuple[str, ...] = ()
    description: str = ""
    audience: Audience | None = None   # required: the generation stops on an RPC that does not say
    auth: RpcAuth = "none"


@dataclass(frozen=True)
class Event:
    """Messages a service publishes on a topic exchange: `address` is the routing key with its {parameters}
    (name → {"description", "enum"?}); the body is a `payload`."""

    exchange: str
    address: str
    payload: object
    summary: str
    parameters: dict[str, dict] = field(default_factory=dict)
    description: str = ""
    tags: tuple[str, ...] = ()
