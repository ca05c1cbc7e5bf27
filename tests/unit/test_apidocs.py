"""The generated OpenAPI and AsyncAPI documents: they generate, hold together (every $ref resolves, every
operation answers something, every schema is a valid JSON Schema), cover every entrypoint, and docs/api/ holds
them as generated."""
from __future__ import annotations

import json

import pytest
from jsonschema import Draft7Validator, Draft202012Validator
from pydantic import BaseModel

from paht.apidocs import cli
from paht.apidocs.asyncapi import UndocumentedRpc, asyncapi_document
from paht.apidocs.openapi import UndocumentedEndpoints, openapi_document
from paht.apidocs.operations import Operation, RpcOperation
from paht.web import http
from services.gateway import apidoc

HTTP_METHODS = {"get", "post", "put", "patch", "delete"}


@pytest.fixture(scope="module")
def openapi():
    return apidoc.gateway_openapi()


@pytest.fixture(scope="module")
def asyncapi():
    return apidoc.gateway_asyncapi()


def refs(node, found=None):
    found = [] if found is None else found
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str):
            found.append(node["$ref"])
        for value in node.values():
            refs(value, found)
    elif isinstance(node, list):
        for value in node:
            refs(value, found)
    return found


def resolve(document, ref):
    assert ref.startswith("#/"), ref
    node = document
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        assert isinstance(node, dict) and part in node, f"{ref} does not resolve"
        node = node[part]
    return node


@pytest.mark.parametrize("name", ["openapi", "asyncapi"])
def test_every_reference_resolves(name, request):
    document = request.getfixturevalue(name)
    found = refs(document)
    assert found
    for ref in found:
        resolve(document, ref)


def test_every_operation_answers_and_names_its_parameters(openapi):
    ids = []
    for path, item in openapi["paths"].items():
        for method, operation in item.items():
            assert method in HTTP_METHODS
            assert operation["responses"], f"{method} {path}"
            assert any(status.startswith("2") for status in operation["responses"]), f"{method} {path}"
            declared = {p["name"] for p in operation["parameters"] if p["in"] == "path"}
            assert declared == {part[1:-1] for part in path.split("/") if part.startswith("{")}, path
            ids.append(operation["operationId"])
    assert len(ids) == len(set(ids))


def test_errors_are_documented_with_the_error_body(openapi):
    submit = openapi["paths"]["/api/v1/reports"]["post"]
    assert set(submit["requestBody"]["content"]) == {"multipart/form-data", "application/json"}
    assert submit["requestBody"]["content"]["multipart/form-data"]["encoding"]["report"] == {
        "contentType": "application/json"}
    invalid = submit["responses"]["422"]
    assert invalid["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ErrorBody"}
    assert "`UNKNOWN_PACK`" in invalid["description"]
    assert "Retry-After" in submit["responses"]["429"]["headers"]
    error = openapi["components"]["schemas"]["ApiErrorDetail"]
    assert set(error["required"]) == {"code", "message", "message_en", "fields"}
    assert "INTERNAL_ERROR" in error["properties"]["code"]["enum"]


def test_component_schemas_are_valid_json_schemas(openapi, asyncapi):
    for schema in openapi["components"]["schemas"].values():
        Draft202012Validator.check_schema(schema)
    # AsyncAPI's own schema format is a superset of draft 7 (RPC positional arguments use its tuple `items`)
    for schema in asyncapi["components"]["schemas"].values():
        Draft7Validator.check_schema(schema)
    for message in asyncapi["components"]["messages"].values():
        Draft7Validator.check_schema(message["payload"])


def test_the_ids_and_tokens_citizens_need_are_documented(openapi):
    view = openapi["paths"]["/api/v1/reports/{report_id}"]["get"]
    assert {"trackingToken": []} in view["security"] and {} in view["security"]
    assert view["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith("/PublicView")
    answer = openapi["components"]["schemas"]["SubmitReportAnswer"]
    assert set(answer["required"]) == {"id", "state", "tracking_token"}


def test_asyncapi_describes_the_rpcs_and_the_events(asyncapi):
    assert asyncapi["asyncapi"] == "3.0.0"
    for method in ("submit_report", "get_report", "list_reports", "staff_action"):
        operation = asyncapi["operations"][f"gateway.{method}"]
        channel = resolve(asyncapi, operation["channel"]["$ref"])
        assert channel["address"] == f"gateway.{method}"
        assert channel["bindings"]["amqp"]["exchange"]["name"] == "nameko-rpc"
        request = resolve(asyncapi, resolve(asyncapi, operation["messages"][0]["$ref"])["$ref"])
        assert set(request["payload"]["properties"]) == {"args", "kwargs"}
        assert operation["reply"]["address"]["location"] == "$message.header#/reply_to"
    submit = asyncapi["components"]["messages"]["gateway.submit_report.request"]["payload"]
    assert list(submit["properties"]["kwargs"]["properties"]) == ["report", "media", "idempotency_key"]
    public = asyncapi["channels"]["public.report"]
    assert public["address"] == "report.{state}"
    assert public["bindings"]["amqp"]["exchange"] == {"name": "paht.public", "type": "topic", "durable": True,
                                                      "autoDelete": False, "vhost": "/"}
    assert "published" in public["parameters"]["state"]["enum"]
    payload = asyncapi["components"]["messages"]["public.report"]["payload"]
    assert payload == {"$ref": "#/components/schemas/PublicView"}
    assert asyncapi["channels"]["intake.transitioned"]["address"] == "transitioned.{to_state}.{cause}"
    assert asyncapi["channels"]["intake.noted"]["address"] == "noted.{state}.{cause}"


class Answer(BaseModel):
    ok: bool


class Args(BaseModel):
    report_id: str


class Tiny:
    name = "tiny"

    @http("GET", "/a/<string:thing>")
    def read_a(self, request, thing):
        raise NotImplementedError

    @http("POST", "/b")
    def write_b(self, request):
        raise NotImplementedError


INFO = {"title": "t", "version": "1"}


def test_an_undocumented_entrypoint_stops_the_generation():
    documented = {("GET", "/a/{thing}"): Operation("a", ("t",), {200: Answer})}
    with pytest.raises(UndocumentedEndpoints, match=r"POST /b \(write_b\) has no OPERATIONS entry"):
        openapi_document(Tiny, documented, {}, INFO)
    excluded = openapi_document(Tiny, documented, {("POST", "/b"): "its own spec"}, INFO)
    assert excluded["x-excluded"] == [{"method": "POST", "path": "/b", "why": "its own spec"}]
    assert list(excluded["paths"]) == ["/a/{thing}"]


def test_a_declaration_without_an_entrypoint_stops_the_generation():
    declared = {("GET", "/a/{thing}"): Operation("a", ("t",), {200: Answer}),
                ("POST", "/b"): Operation("b", ("t",), {200: Answer}),
                ("GET", "/gone"): Operation("gone", ("t",), {200: Answer})}
    with pytest.raises(UndocumentedEndpoints, match="OPERATIONS has GET /gone but the service has no such"):
        openapi_document(Tiny, declared, {}, INFO)
    with pytest.raises(UndocumentedRpc, match="RPC_OPERATIONS has get_report but tiny has no such RPC"):
        asyncapi_document(Tiny, {"get_report": RpcOperation("r", Args, Answer)}, {}, INFO, {})


def test_the_stored_documents_are_current():
    assert cli.stale(apidoc.documents(), apidoc.DOCS) == [], f"run `{cli.WRITE_COMMAND}`"
    stored = json.loads((apidoc.DOCS / "openapi.json").read_text(encoding="utf-8"))
    assert stored["openapi"] == "3.1.0"


MODULE = "services.gateway.apidoc"


def test_check_names_a_stale_file_and_write_refreshes_it(tmp_path):
    said = []
    assert cli.main(["write"], apidoc.documents, tmp_path, MODULE, out=said.append) == 0
    assert cli.main(["check"], apidoc.documents, tmp_path, MODULE, out=said.append) == 0
    text = (tmp_path / "asyncapi.json").read_text(encoding="utf-8")
    assert text.endswith("}\n") and text.startswith('{\n  "asyncapi"')
    (tmp_path / "asyncapi.json").write_text(text.replace('"3.0.0"', '"2.6.0"', 1), encoding="utf-8")
    said.clear()
    assert cli.main(["check"], apidoc.documents, tmp_path, MODULE, out=said.append) == 1
    assert said == [f"stale: {tmp_path / 'asyncapi.json'} (run `python -m {MODULE} write`)"]


def test_intakes_internal_document_is_current_and_lists_every_rpc():
    from services.intake import apidoc as intake_apidoc

    stored = intake_apidoc.DOCS / "intake-asyncapi.json"
    assert stored.read_text(encoding="utf-8") == intake_apidoc.documents()["intake-asyncapi.json"]
    operations = json.loads(stored.read_text(encoding="utf-8"))["operations"]
    assert {name.split(".", 1)[1] for name in operations} == set(intake_apidoc.RPC_OPERATIONS)
    assert {op["x-audience"] for op in operations.values()} == {"internal"}
