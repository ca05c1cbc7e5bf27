"""Strict validation of rendered manifests: `kubectl kustomize … | python deploy/k8s/validate.py -`.

`kubernetes-validate --strict` checks every built-in kind against the Kubernetes OpenAPI schemas (unknown fields
are errors), but a kind it has no schema for (a CRD's, or a built-in kind under an apiVersion the cluster version
no longer serves, e.g. policy/v1beta1) is only a WARN and passes. Here that is an error, except for the custom
resources whose schemas are in deploy/k8s/crds/ (PAHT's own partial CRDs): validated against their openAPIV3Schema,
made just as strict (an unknown field is an error unless the CRD keeps unknown fields there), and their metadata
against ObjectMeta. CEL rules (x-kubernetes-validations) are not evaluated.

    python deploy/k8s/validate.py [-k 1.32] FILE|- [FILE …]      exit 1 on any error
"""
from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

import jsonschema
import kubernetes_validate
import yaml
from kubernetes_validate.utils import SchemaNotFoundError, ValidationError

CRDS = Path(__file__).resolve().parent / "crds"
DEFAULT_KUBERNETES = "1.32"   # the oldest cluster version PAHT targets (kubectl here is 1.32)


def strict(schema):
    """A CRD's structural schema as JSON Schema that refuses unknown fields, like the API server's strict mode."""
    if isinstance(schema, list):
        return [strict(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out = {}
    for key, value in schema.items():
        if key in ("properties", "patternProperties"):
            out[key] = {name: strict(sub) for name, sub in value.items()}
        elif key in ("items", "additionalProperties", "not") and isinstance(value, dict):
            out[key] = strict(value)
        elif key in ("allOf", "anyOf", "oneOf"):
            out[key] = strict(value)
        else:
            out[key] = value
    if "properties" in out and "additionalProperties" not in out \
            and not out.get("x-kubernetes-preserve-unknown-fields"):
        out["additionalProperties"] = False
    if out.get("nullable") and isinstance(out.get("type"), str):
        out["type"] = [out["type"], "null"]
    return out


def crd_schemas() -> dict[tuple[str, str], dict]:
    """(apiVersion, kind) → strict JSON Schema, for every served version of every CRD in crds/."""
    schemas = {}
    for path in sorted(CRDS.glob("*.yaml")):
        for crd in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if not crd or crd.get("kind") != "CustomResourceDefinition":
                continue
            group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
            for version in crd["spec"]["versions"]:
                if version.get("served", True):
                    schema = strict(version["schema"]["openAPIV3Schema"])
                    schema["required"] = sorted(set(schema.get("required", [])) | {"apiVersion", "kind", "metadata"})
                    schemas[(f"{group}/{version['name']}", kind)] = schema
    return schemas


def where(resource: dict) -> str:
    return f"{resource.get('kind')}/{(resource.get('metadata') or {}).get('name')}"


def validate(resource: dict, version: str, custom: dict) -> list[str]:
    """The problems of one resource (empty: valid)."""
    key = (resource.get("apiVersion"), resource.get("kind"))
    if key in custom:
        errors = [f"{'.'.join(map(str, e.absolute_path)) or '(top)'}: {e.message}"
                  for e in jsonschema.Draft7Validator(custom[key]).iter_errors(resource)]
        meta = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": resource.get("metadata")}
        return errors + validate(meta, version, {})
    try:
        kubernetes_validate.validate(resource, version, strict=True)
    except ValidationError as exc:
        return [f"{'.'.join(map(str, exc.path)) or '(top)'}: {exc.message}"]
    except SchemaNotFoundError as exc:
        return [f"{exc.message} (a typo, an apiVersion Kubernetes {version} does not serve, or a custom resource "
                f"whose CRD is not in {CRDS.relative_to(CRDS.parents[2])}/)"]
    return []


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-k", "--kubernetes-version", default=DEFAULT_KUBERNETES)
    parser.add_argument("files", nargs="+")
    args = parser.parse_args(argv)
    custom = crd_schemas()
    failures, kinds = 0, Counter()
    for name in args.files:
        text = sys.stdin.read() if name == "-" else Path(name).read_text(encoding="utf-8")
        for resource in yaml.safe_load_all(text):
            if not resource:
                continue
            kinds[resource.get("kind")] += 1
            for problem in validate(resource, args.kubernetes_version, custom):
                failures += 1
                print(f"ERROR {name} {where(resource)}: {problem}")
    checked = ", ".join(f"{count} {kind}" for kind, count in sorted(kinds.items()))
    status = "FAILED" if failures else "ok"
    print(f"{status}: {sum(kinds.values())} resources strictly validated against Kubernetes "
          f"{args.kubernetes_version} and PAHT's custom resource schemas ({checked}); {failures} errors")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
