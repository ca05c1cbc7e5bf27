"""The GeoReport v2 JSON Schemas of this folder (written from the specification), and XML answers read back into
the JSON shape so that both formats are checked against the same schema."""
from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema

HERE = Path(__file__).parent
KINDS = ("services", "service_definition", "requests", "post_response", "tokens", "errors")
LISTS = {"services": "service", "service_requests": "request", "errors": "error", "attributes": "attribute",
         "values": "value"}
BOOLEANS = {"metadata", "variable", "required"}
INTEGERS = {"order", "code"}
NUMBERS = {"lat", "long"}


def schema(kind: str) -> dict:
    return json.loads((HERE / f"{kind}.schema.json").read_text(encoding="utf-8"))


def validate(kind: str, body) -> None:
    """Raises jsonschema.ValidationError when `body` is not a GeoReport v2 answer of that kind."""
    jsonschema.validate(body, schema(kind), cls=jsonschema.Draft202012Validator)


def _scalar(tag: str, text: str | None):
    if text is None or text == "":
        return None
    if tag in BOOLEANS:
        if text not in ("true", "false"):
            raise ValueError(f"<{tag}> is {text!r}, not true/false")
        return text == "true"
    if tag in INTEGERS and text.lstrip("-").isdigit():
        return int(text)
    if tag in NUMBERS:
        return float(text)
    return text


def _value(element: ET.Element):
    if element.tag in LISTS:
        return [_value(child) for child in element if child.tag == LISTS[element.tag]] + \
            [f"unexpected <{child.tag}>" for child in element if child.tag != LISTS[element.tag]]
    if len(element):
        return {child.tag: _value(child) for child in element}
    return _scalar(element.tag, element.text)


def xml_to_json(text: str | bytes):
    """A GeoReport v2 XML answer in the JSON shape: list elements (<services>, <service_requests>, <errors>,
    <attributes>, <values>) as arrays, other elements with children as objects, empty elements as null, and
    booleans, integers and coordinates typed as in JSON. An error in the XML raises ET.ParseError."""
    root = ET.fromstring(text)
    if root.tag == "service_definition":
        return {child.tag: _value(child) for child in root}
    return _value(root)
