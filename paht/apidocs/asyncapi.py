"""The AsyncAPI 3.0 document of a service's messages: its nameko RPCs (exchange `nameko-rpc`, routing key
`<service>.<method>`, body `{"args", "kwargs"}`, reply `{"result", "error"}` to the caller's `reply_to`) and the
events it publishes on topic exchanges. Like the OpenAPI document, an RPC entrypoint without a declaration (or a
declaration without an entrypoint) stops the generation."""
from __future__ import annotations

from pydantic import BaseModel

from .components import Schemas
from .entrypoints import rpc_methods
from .operations import Event, RpcOperation

RPC_EXCHANGE = "nameko-rpc"
AUDIENCES = ("other-systems", "internal")
AMQP_VERSION = {"bindingVersion": "0.3.0"}
REPLY_CHANNEL = "rpcReply"


class NamekoRemoteError(BaseModel):
    """What nameko sends back when the called method raised (the caller raises `RemoteError`)."""

    exc_type: str
    exc_path: str
    exc_args: list
    value: str


class UndocumentedRpc(Exception):
    pass


def _exchange(name: str, kind: str) -> dict:
    return {"amqp": {"is": "routingKey", "exchange": {"name": name, "type": kind, "durable": True,
                                                     "autoDelete": False, "vhost": "/"}, **AMQP_VERSION}}


def _request(arguments: dict) -> dict:
    """The RPC body: positional `args` in the order of the arguments model's fields, or the same by name."""
    properties = {name: {k: v for k, v in schema.items() if k != "title"}
                  for name, schema in arguments.get("properties", {}).items()}
    required = [name for name in properties if name in arguments.get("required", ())]
    return {"type": "object", "required": ["args", "kwargs"], "properties": {
        "args": {"type": "array", "items": list(properties.values()), "additionalItems": False,
                 "description": "Đối số theo thứ tự (positional arguments, in this order): " + ", ".join(properties)}
        if properties else {"type": "array", "maxItems": 0, "description": "No arguments."},
        "kwargs": {"type": "object", "properties": properties, "additionalProperties": False,
                   "description": "Các đối số đặt theo tên (the same arguments by name); every argument given once, "
                                  f"required: {', '.join(required) or 'none'}."}}}


def _reply(result: dict) -> dict:
    return {"type": "object", "required": ["result", "error"], "properties": {
        "result": result,
        "error": {"anyOf": [{"type": "null"}, {"$ref": "#/components/schemas/NamekoRemoteError"}]}}}


def _message(name: str, title: str, payload: dict, correlated: bool) -> dict:
    message = {"name": name, "title": title, "contentType": "application/json", "payload": payload}
    if correlated:
        message["correlationId"] = {"location": "$message.header#/correlation_id",
                                    "description": "The AMQP `correlation_id` property: pairs a reply with its call."}
    return message


def _rpc(service: str, method: str, rpc: RpcOperation, schemas: Schemas, channels, operations, messages) -> None:
    channel = f"rpc.{service}.{method}"
    request = f"{service}.{method}.request"
    reply = f"{service}.{method}.reply"
    arguments = schemas.component(rpc.arguments)
    messages[request] = _message(request, f"{service}.{method}({', '.join(arguments.get('properties', {}))})",
                                 _request(arguments), True)
    messages[reply] = _message(reply, f"{service}.{method} → reply",
                               _reply({} if rpc.reply is None else schemas.of(rpc.reply)), True)
    channels[channel] = {"address": f"{service}.{method}", "title": f"RPC {service}.{method}",
                         "messages": {"request": {"$ref": f"#/components/messages/{request}"}},
                         "bindings": _exchange(RPC_EXCHANGE, "topic")}
    channels[REPLY_CHANNEL]["messages"][f"{method}.reply"] = {"$ref": f"#/components/messages/{reply}"}
    operation = {"action": "receive", "channel": {"$ref": f"#/channels/{channel}"}, "summary": rpc.summary,
                 "messages": [{"$ref": f"#/channels/{channel}/messages/request"}],
                 "reply": {"address": {"location": "$message.header#/reply_to",
                                       "description": "The AMQP `reply_to` property of the call."},
                           "channel": {"$ref": f"#/channels/{REPLY_CHANNEL}"},
                           "messages": [{"$ref": f"#/channels/{REPLY_CHANNEL}/messages/{method}.reply"}]},
                 "bindings": {"amqp": {"ack": True, **AMQP_VERSION}}}
    if rpc.description:
        operation["description"] = rpc.description
    operation["tags"] = [{"name": tag} for tag in (rpc.audience, *rpc.tags)]
    operation["x-audience"] = rpc.audience   # other-systems | internal
    operation["x-credential"] = rpc.auth     # none | staff | staff-or-internal | internal (paht.callers)
    operations[f"{service}.{method}"] = operation


def _event(name: str, event: Event, schemas: Schemas, channels, operations, messages) -> None:
    messages[name] = _message(name, event.summary, schemas.of(event.payload), False)
    channel = {"address": event.address, "title": event.summary,
               "messages": {"event": {"$ref": f"#/components/messages/{name}"}},
               "bindings": _exchange(event.exchange, "topic")}
    if event.parameters:
        channel["parameters"] = event.parameters
    if event.description:
        channel["description"] = event.description
    channels[name] = channel
    operation = {"action": "send", "channel": {"$ref": f"#/channels/{name}"}, "summary": event.summary,
                 "messages": [{"$ref": f"#/channels/{name}/messages/event"}]}
    if event.tags:
        operation["tags"] = [{"name": tag} for tag in event.tags]
    operations[name] = operation


def asyncapi_document(service_cls, rpcs: dict[str, RpcOperation], events: dict[str, Event], info: dict,
                      servers: dict) -> dict:
    service = service_cls.name
    found = rpc_methods(service_cls)
    problems = [f"RPC {service}.{name} has no RPC_OPERATIONS entry" for name in sorted(found - set(rpcs))]
    problems += [f"RPC_OPERATIONS has {name} but {service} has no such RPC" for name in sorted(set(rpcs) - found)]
    problems += [f"RPC {service}.{name} does not say whether it is for other systems or internal (audience)"
                 for name, rpc in sorted(rpcs.items()) if rpc.audience not in AUDIENCES]
    if problems:
        raise UndocumentedRpc("; ".join(problems))
    schemas = Schemas()
    schemas.want(NamekoRemoteError)
    for rpc in rpcs.values():
        schemas.want(rpc.arguments)
        if rpc.reply is not None:
            schemas.want(rpc.reply)
    for event in events.values():
        schemas.want(event.payload)
    schemas.resolve()
    channels: dict = {REPLY_CHANNEL: {
        "address": None, "title": "RPC replies",
        "description": "Trả lời cuộc gọi RPC (replies): published on `nameko-rpc` with the caller's `reply_to` as the "
                       "routing key and the call's `correlation_id`.",
        "messages": {}, "bindings": _exchange(RPC_EXCHANGE, "topic")}}
    operations: dict = {}
    messages: dict = {}
    for method, rpc in sorted(rpcs.items()):
        _rpc(service, method, rpc, schemas, channels, operations, messages)
    for name, event in sorted(events.items()):
        _event(name, event, schemas, channels, operations, messages)
    return {"asyncapi": "3.0.0", "info": info, "defaultContentType": "application/json", "servers": servers,
            "channels": channels, "operations": operations,
            "components": {"schemas": schemas.components, "messages": dict(sorted(messages.items()))}}

