"""The published OpenAPI and AsyncAPI documents (entrypoints of the intake service), generated once per process
from the declared models (services/intake/api_models.py, paht.apidocs)."""
from __future__ import annotations

from functools import cache

from werkzeug.wrappers import Response

from paht import apidocs
from paht.web import guarded, http


@cache
def _document(name: str) -> bytes:
    return apidocs.rendered(apidocs.intake_openapi() if name == "openapi" else apidocs.intake_asyncapi()).encode()


class ApiDocApi:
    @http("GET", "/api/v1/openapi.json")
    @guarded
    def openapi_document(self, request):
        return Response(_document("openapi"), content_type="application/json; charset=utf-8")

    @http("GET", "/api/v1/asyncapi.json")
    @guarded
    def asyncapi_document(self, request):
        return Response(_document("asyncapi"), content_type="application/json; charset=utf-8")
