"""The OpenAPI 3.1 document of a service's HTTP API: its nameko `http` entrypoints joined with the operations it
declares (request and answer models). An entrypoint without a declaration, or a declaration without an entrypoint,
stops the generation: every endpoint is documented, and nothing documented is gone."""
from __future__ import annotations

import re

from .components import Schemas
from .entrypoints import http_routes
from .errors import ErrorBody, describe, status_of
from .operations import Body, Content, Operation

SECURITY_SCHEMES = {
    "bearerAuth": {"type": "http", "scheme": "bearer",
                   "description": "Mã truy cập của cán bộ (staff bearer token): a login session "
                                  "(`POST /api/v1/auth/login`), a JWT of the province's identity provider, or a demo "
                                  "token on test systems."},
    "trackingToken": {"type": "apiKey", "in": "header", "name": "X-Tracking-Token",
                      "description": "Mã theo dõi của người phản ánh (the reporter's tracking token, returned once "
                                     "by the submission)."},
}
SECURITY = {"none": [], "bearer": [{"bearerAuth": []}], "tracking": [{"trackingToken": []}],
            "tracking_optional": [{}, {"trackingToken": []}]}
# a path segment nothing else routes on: no "/", and no leading "." (a client would collapse "." and "..")
SEGMENT = {"type": "string", "pattern": r"^[A-Za-z0-9_:@~-][A-Za-z0-9_:@~.-]{0,199}$"}
RETRY_AFTER = {"Retry-After": {"description": "Giây chờ trước khi thử lại (seconds to wait before retrying).",
                               "schema": {"type": "integer"}}}
BINARY = {"type": "string", "format": "binary", "contentMediaType": "application/octet-stream"}


class UndocumentedEndpoints(Exception):
    """Entrypoints and declarations that do not match (the message names each)."""


def check_complete(routes: dict, operations: dict, excluded: dict) -> None:
    problems = [f"{method} {path} ({name}) has no OPERATIONS entry"
                for (method, path), name in sorted(routes.items())
                if (method, path) not in operations and (method, path) not in excluded]
    problems += [f"OPERATIONS has {method} {path} but the service has no such entrypoint"
                 for method, path in sorted(operations) if (method, path) not in routes]
    problems += [f"EXCLUDED has {method} {path} but the service has no such entrypoint"
                 for method, path in sorted(excluded) if (method, path) not in routes]
    problems += [f"{method} {path} is both documented and excluded" for method, path in sorted(operations)
                 if (method, path) in excluded]
    if problems:
        raise UndocumentedEndpoints("; ".join(problems))


def _want_all(schemas: Schemas, operations: dict) -> None:
    schemas.want(ErrorBody)
    for operation in operations.values():
        for body in operation.request:
            schemas.want(body.model)
        if operation.query is not None:
            schemas.want(operation.query)
        for answers in operation.responses.values():
            for answer in answers if isinstance(answers, tuple) else (answers,):
                if not isinstance(answer, Content):
                    schemas.want(answer)


def _plain(schema: dict) -> dict:
    """A query parameter's schema: absent rather than null (a query string has no null), no title."""
    schema = {k: v for k, v in schema.items() if k != "title"}
    options = schema.pop("anyOf", None)
    if options:
        rest = [option for option in options if option != {"type": "null"}]
        schema.update(rest[0] if len(rest) == 1 else {"anyOf": rest})
    if schema.get("default") is None:
        schema.pop("default", None)
    return schema


def _parameters(path: str, operation: Operation, schemas: Schemas) -> list[dict]:
    parameters = [{"name": name, "in": "path", "required": True, "schema": operation.path.get(name, SEGMENT)}
                  for name in re.findall(r"{([^}]+)}", path)]
    if operation.query is not None:
        model = schemas.component(operation.query)
        required = set(model.get("required", ()))
        for name, schema in model.get("properties", {}).items():
            parameter = {"name": name, "in": "query", "required": name in required, "schema": _plain(schema)}
            if schema.get("description"):
                parameter["description"] = schema["description"]
            parameters.append(parameter)
    parameters += [{"name": name, "in": "header", "required": required, "description": text,
                    "schema": {"type": "string", "maxLength": 200}}
                   for name, (text, required) in operation.headers.items()]
    return parameters


def _body(body: Body, schemas: Schemas) -> dict:
    if not body.media_type.startswith("multipart/"):
        return {"schema": schemas.of(body.model)}
    properties = {body.part: schemas.of(body.model)}
    encoding = {body.part: {"contentType": "application/json"}}
    if body.files:
        properties[body.files] = {"type": "array", "maxItems": 20, "items": BINARY,
                                  "description": "Ảnh, video hoặc ghi âm (photos, videos or audio recordings)."}
        encoding[body.files] = {"contentType": "image/*, video/*, audio/*"}
    schema = {"type": "object", "properties": properties}
    if body.required:
        schema["required"] = [body.part]
    return {"schema": schema, "encoding": encoding}


def _content(answer, schemas: Schemas) -> tuple[str, dict]:
    """(description, media type → media object) of one answer."""
    if isinstance(answer, Content):
        schema = {"type": "string"} if answer.text else BINARY
        return answer.description, {media: {"schema": schema} for media in answer.media_types}
    description = (answer.__doc__ or answer.__name__).strip().splitlines()[0] if isinstance(answer, type) \
        else str(answer)
    return description, {"application/json": {"schema": schemas.of(answer)}}


def _answer(answers, schemas: Schemas) -> dict:
    descriptions, content = [], {}
    for answer in answers if isinstance(answers, tuple) else (answers,):
        description, media = _content(answer, schemas)
        descriptions.append(description)
        content.update(media)
    return {"description": " ".join(descriptions), "content": content}


def _responses(operation: Operation, schemas: Schemas) -> dict:
    responses = {str(status): _answer(answers, schemas) for status, answers in operation.responses.items()}
    by_status: dict[int, list[str]] = {}
    for code in operation.errors:
        by_status.setdefault(status_of(code), []).append(code)
    for status, codes in by_status.items():
        answer = {"description": describe(codes),
                  "content": {"application/json": {"schema": schemas.of(ErrorBody)}}}
        if status in (429, 503):
            answer["headers"] = RETRY_AFTER
        responses[str(status)] = answer
    return dict(sorted(responses.items()))


def _operation(name: str, path: str, operation: Operation, schemas: Schemas) -> dict:
    found = {"operationId": name, "summary": operation.summary, "tags": list(operation.tags),
             "security": SECURITY[operation.auth], "parameters": _parameters(path, operation, schemas),
             "responses": _responses(operation, schemas)}
    if operation.description:
        found["description"] = operation.description
    if operation.request:
        found["requestBody"] = {"required": any(body.required for body in operation.request),
                                "content": {body.media_type: _body(body, schemas) for body in operation.request}}
        descriptions = [body.description for body in operation.request if body.description]
        if descriptions:
            found["requestBody"]["description"] = " ".join(descriptions)
    return found


def openapi_document(service_cls, operations: dict[tuple[str, str], Operation], excluded: dict[tuple[str, str], str],
                     info: dict, security_schemes: dict | None = None) -> dict:
    """`operations`: (METHOD, OpenAPI path) → Operation; `excluded`: the same keys → why an entrypoint is left out
    (it has its own specification)."""
    routes = http_routes(service_cls)
    check_complete(routes, operations, excluded)
    schemas = Schemas()
    _want_all(schemas, operations)
    schemas.resolve()
    paths: dict[str, dict] = {}
    for (method, path), operation in sorted(operations.items()):
        paths.setdefault(path, {})[method.lower()] = _operation(routes[(method, path)], path, operation, schemas)
    tags = sorted({tag for operation in operations.values() for tag in operation.tags})
    document = {
        "openapi": "3.1.0",
        "info": info,
        "tags": [{"name": tag} for tag in tags],
        "paths": paths,
        "components": {"schemas": schemas.components,
                       "securitySchemes": {**SECURITY_SCHEMES, **(security_schemes or {})}},
    }
    if excluded:
        document["x-excluded"] = [{"method": method, "path": path, "why": why}
                                  for (method, path), why in sorted(excluded.items())]
    return document
