"""The production shape (issue 13): deploy/k8s and the image's lock agree with the code and with rules/.

The rendering tests need kubectl (its built-in kustomize); `make k8s-check` also validates every rendered object."""
from __future__ import annotations

import ast
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

from paht.runner import SERVICES

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
OVERLAYS = ("dev", "production")
needs_kubectl = pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl renders the kustomizations")


def render(path: Path) -> list[dict]:
    text = subprocess.run(["kubectl", "kustomize", str(path)],    # the default load restrictor: apply -k works
                          check=True, capture_output=True, text=True).stdout
    return [doc for doc in yaml.safe_load_all(text) if doc]


@pytest.fixture(scope="module")
def rendered() -> dict[str, list[dict]]:
    if shutil.which("kubectl") is None:
        pytest.skip("kubectl renders the kustomizations")
    return {overlay: render(K8S / "overlays" / overlay) for overlay in OVERLAYS}


def objects(docs, kind) -> dict[str, dict]:
    return {doc["metadata"]["name"]: doc for doc in docs if doc["kind"] == kind}


def rule_files() -> dict[str, bytes]:
    return {path.relative_to(ROOT / "rules").as_posix(): path.read_bytes()
            for path in sorted((ROOT / "rules").rglob("*")) if path.is_file()
            and not any(part.startswith(".") or part == "__pycache__" for part in path.relative_to(ROOT).parts)}


# ---- the rule packs in the cluster ------------------------------------------------------------------------------
def test_rules_configmaps_are_not_stale():
    """deploy/k8s/base/rules/ holds exactly the files of rules/, contents included (else: run scripts/k8s-rules)."""
    check = subprocess.run([sys.executable, str(ROOT / "scripts" / "k8s-rules"), "--check"],
                           capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr


def mounted_tree(docs) -> dict[str, bytes]:
    """What the kubelet puts under /rules for each Deployment: the projected volume's items, from the ConfigMaps."""
    configmaps = objects(docs, "ConfigMap")
    trees = []
    for deployment in objects(docs, "Deployment").values():
        spec = deployment["spec"]["template"]["spec"]
        mounts = {m["name"]: m for m in spec["containers"][0]["volumeMounts"]}
        volumes = {v["name"]: v for v in spec["volumes"]}
        if "rules" not in volumes:
            continue
        assert mounts["rules"]["mountPath"] == "/rules" and mounts["rules"]["readOnly"]
        env = {e["name"]: e.get("value") for e in spec["containers"][0]["env"]}
        assert env["PAHT_RULES_DIR"] == "/rules"
        tree = {}
        for source in volumes["rules"]["projected"]["sources"]:
            data = configmaps[source["configMap"]["name"]].get("data", {})
            for item in source["configMap"]["items"]:
                assert item["path"] not in tree, f"{item['path']} mapped twice"
                tree[item["path"]] = data[item["key"]].encode("utf-8")
        trees.append(tree)
    assert len(trees) == len(SERVICES), "every PAHT Deployment mounts the rules"
    assert all(tree == trees[0] for tree in trees)
    return trees[0]


@needs_kubectl
@pytest.mark.parametrize("overlay", OVERLAYS)
def test_mounted_rules_tree_is_exactly_rules(rendered, overlay):
    tree = mounted_tree(rendered[overlay])
    expected = rule_files()
    assert sorted(tree) == sorted(expected)
    assert {path for path in tree if tree[path] != expected[path]} == set()


@needs_kubectl
def test_packs_load_from_the_mounted_layout(rendered, tmp_path, monkeypatch):
    """The kubelet's layout (files in a timestamped folder, `..data` and every top-level entry symlinks into it)
    is read by the loader as rules/ itself."""
    from paht.rules import list_packs, load_pack

    real = tmp_path / "..2026_01_01_00_00_00.000000001"
    for path, content in mounted_tree(rendered["production"]).items():
        (real / path).parent.mkdir(parents=True, exist_ok=True)
        (real / path).write_bytes(content)
    (tmp_path / "..data").symlink_to(real.name)
    for entry in real.iterdir():
        (tmp_path / entry.name).symlink_to(Path("..data") / entry.name)

    monkeypatch.delenv("PAHT_RULES_DIR", raising=False)
    packs = list_packs()
    loadable = set()
    for pack in packs:
        try:
            load_pack(ROOT / "rules" / pack)
            loadable.add(pack)
        except Exception:  # noqa: BLE001 — a pack being edited right now: not this test's business
            pass
    monkeypatch.setenv("PAHT_RULES_DIR", str(tmp_path))
    assert list_packs() == packs
    for pack in sorted(loadable):
        assert load_pack(tmp_path / pack).id == pack


# ---- workloads --------------------------------------------------------------------------------------------------
def test_the_image_carries_every_service_config():
    dockerfile = (ROOT / "deploy" / "Dockerfile").read_text()
    for name in SERVICES:
        assert re.search(rf"^COPY services/{name}/config\.yml +services/{name}/config\.yml$", dockerfile, re.M), name
    assert re.search(r"^USER 10001", dockerfile, re.M)
    assert "--require-hashes -r /src/requirements.lock" in dockerfile


@needs_kubectl
@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_service_runs_hardened_with_probes(rendered, overlay):
    docs = rendered[overlay]
    deployments, services = objects(docs, "Deployment"), objects(docs, "Service")
    budgets, autoscalers = objects(docs, "PodDisruptionBudget"), objects(docs, "HorizontalPodAutoscaler")
    for name, (cls, _port) in SERVICES.items():
        deployment = deployments[f"paht-{name}"]
        pod = deployment["spec"]["template"]["spec"]
        (container,) = pod["containers"]
        assert container["args"] == ["paht", "run", "--config", f"services/{name}/config.yml",
                                     f"services.{name}.service:{cls}"]
        env = {e["name"]: e for e in container["env"]}
        assert env[f"PAHT_{name.upper()}_HTTP"]["value"] == "0.0.0.0:8000"
        for secret in ("AMQP_URI", "MONGO_URI", "PAHT_INTERNAL_SECRET", "PAHT_ACCOUNT_SECRET", "PAHT_PUBLIC_URL"):
            assert "secretKeyRef" in env[secret]["valueFrom"], secret
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        assert pod["automountServiceAccountToken"] is False
        assert container["securityContext"] == {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                                                "capabilities": {"drop": ["ALL"]}}
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz/live"
        assert container["readinessProbe"]["httpGet"]["path"] == "/healthz/ready"
        assert container["resources"]["requests"]["cpu"] and container["resources"]["limits"]["memory"]
        writable = {m["mountPath"] for m in container["volumeMounts"] if not m.get("readOnly")}
        assert writable <= {"/tmp", "/media"}
        assert services[f"paht-{name}"]["spec"]["selector"] == {"app": "paht", "service": name}
        assert budgets[f"paht-{name}"]["spec"]["selector"]["matchLabels"] == {"app": "paht", "service": name}
        if name == "sla":
            assert deployment["spec"]["replicas"] == 1 and "paht-sla" not in autoscalers
        else:
            assert "replicas" not in deployment["spec"]      # the autoscaler owns it
            assert autoscalers[f"paht-{name}"]["spec"]["scaleTargetRef"]["name"] == f"paht-{name}"
    if overlay == "production":                              # the front door never runs a single pod
        assert autoscalers["paht-gateway"]["spec"]["minReplicas"] >= 2


@needs_kubectl
def test_production_uses_the_operators_and_holds_no_secret_values(rendered):
    docs = rendered["production"]
    assert not objects(docs, "Secret"), "production Secrets are made outside git"
    (rabbit,) = objects(docs, "RabbitmqCluster").values()
    (mongo,) = objects(docs, "MongoDBCommunity").values()
    assert rabbit["spec"]["replicas"] >= 3 and mongo["spec"]["members"] >= 3
    (user,) = mongo["spec"]["users"]
    env = {e["name"]: e for e in objects(docs, "Deployment")["paht-intake"]["spec"]["template"]["spec"]
           ["containers"][0]["env"]}
    assert env["AMQP_URI"]["valueFrom"]["secretKeyRef"] == {"name": f"{rabbit['metadata']['name']}-default-user",
                                                           "key": "connection_string"}
    assert env["MONGO_URI"]["valueFrom"]["secretKeyRef"] == {"name": user["connectionStringSecretName"],
                                                            "key": "connectionString.standard"}


def opened_databases() -> dict[str, str]:
    """Every storage.open_database() call in paht/ and services/: 'file:line' → the logical database it opens (its
    first argument, a string or a constant of paht.storage; anything else cannot be checked and is reported)."""
    from paht import storage

    opened = {}
    for path in sorted([*(ROOT / "paht").rglob("*.py"), *(ROOT / "services").rglob("*.py")]):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if not isinstance(node, ast.Call):
                continue
            called = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", None)
            if called != "open_database" or not node.args:
                continue
            argument = node.args[0]
            if isinstance(argument, ast.Constant):
                name = argument.value
            elif isinstance(argument, ast.Attribute) and isinstance(getattr(storage, argument.attr, None), str):
                name = getattr(storage, argument.attr)
            else:
                name = f"<not a constant: {ast.unparse(argument)}>"
            opened[f"{path.relative_to(ROOT)}:{node.lineno}"] = name
    return opened


def test_storage_databases_lists_every_database_the_code_opens():
    """paht.storage.DATABASES is the one list of databases: every open_database() call names one of them, and each
    of them is opened somewhere (the services' own seven and GridFS's media)."""
    from paht import storage

    opened = opened_databases()
    assert len(opened) >= len(storage.DATABASES)
    assert {where: name for where, name in opened.items() if name not in storage.DATABASES} == {}
    assert set(opened.values()) == set(storage.DATABASES)
    assert storage.SERVICE_DATABASES == tuple(SERVICES)
    assert storage.mongodb_name(storage.MEDIA_DATABASE) == "paht_media"


@needs_kubectl
def test_the_production_mongodb_user_may_write_every_database_the_code_opens(rendered):
    """Issue 20: the user had no role on paht_media, so every photo upload answered 503 in production."""
    from paht import storage

    (mongo,) = objects(rendered["production"], "MongoDBCommunity").values()
    (user,) = mongo["spec"]["users"]
    roles = {(role["name"], role["db"]) for role in user["roles"]}
    needed = {("readWrite", storage.DEFAULT_DB_PREFIX + name) for name in storage.DATABASES}
    assert needed - roles == set(), "the MongoDB user lacks these roles (overlays/production/backing-services.yaml)"
    assert roles == needed, "roles on databases the code never opens"
    assert ("readWrite", "paht_media") in roles
    for deployment in objects(rendered["production"], "Deployment").values():   # the prefix the roles assume
        env = deployment["spec"]["template"]["spec"]["containers"][0]["env"]
        assert "PAHT_DB_PREFIX" not in {e["name"] for e in env}


def test_secret_templates_hold_no_real_values():
    for secret in yaml.safe_load_all((K8S / "base" / "secret.template.yaml").read_text()):
        for key, value in secret["stringData"].items():
            assert value == "" or "CHANGE-ME" in value, key
    for line in (K8S / "overlays" / "dev" / "dev.env").read_text().splitlines():
        if line and not line.startswith("#"):
            value = line.split("=", 1)[1]
            assert "dev-only" in value or "guest:guest@" in value or value == "mongodb://mongodb:27017/" \
                or line == "PAHT_PUBLIC_URL=https://paht.localhost", line


# where each service's outside peers are configured: the credentials and the signing key are optional Secret keys
PEER_KEYS = {"publishing": ("PAHT_SMTP_URL", "PAHT_SMTP_CA_FILE", "PAHT_SMS_URL", "PAHT_SMS_API_KEY", "PAHT_ZALO_URL",
                            "PAHT_ZALO_ACCESS_TOKEN", "PAHT_AGENCY_WEBHOOK_URL", "PAHT_IMMEDIATE_WEBHOOK",
                            "PAHT_WEBHOOK_SECRET"),
             "gateway": ("PAHT_TRUSTED_PROXIES", "PAHT_OIDC_ISSUER", "PAHT_OIDC_JWKS_URL", "PAHT_OIDC_AUDIENCE",
                         "PAHT_OIDC_CLIENT_ID", "PAHT_OIDC_CLIENT_SECRET", "PAHT_OIDC_REDIRECT_URL",
                         "PAHT_OPEN311_API_KEYS", "PAHT_MEDIA_URL_HOSTS", "PAHT_ZALO_OA_SECRET", "PAHT_ZALO_PACK",
                         "PAHT_ZALO_OA_MESSAGE_URL", "PAHT_ZALO_ACCESS_TOKEN",
                         "PAHT_CITIZEN_OIDC_ISSUER", "PAHT_CITIZEN_OIDC_JWKS_URL", "PAHT_CITIZEN_OIDC_AUDIENCE")}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_peers_keys_reach_their_services_and_every_key_read_is_in_the_template(rendered, overlay):
    (template,) = [secret["stringData"] for secret in yaml.safe_load_all((K8S / "base" / "secret.template.yaml")
                                                                        .read_text())
                   if secret["metadata"]["name"] == "paht-secrets"]
    deployments = objects(rendered[overlay], "Deployment")
    for name, keys in PEER_KEYS.items():
        env = {e["name"]: e for e in deployments[f"paht-{name}"]["spec"]["template"]["spec"]["containers"][0]["env"]}
        for key in keys:
            ref = env[key]["valueFrom"]["secretKeyRef"]
            assert ref["name"].startswith("paht-secrets") and (ref["key"], ref["optional"]) == (key, True), ref
    for deployment in deployments.values():
        for entry in deployment["spec"]["template"]["spec"]["containers"][0].get("env") or []:
            ref = (entry.get("valueFrom") or {}).get("secretKeyRef")
            if ref and ref["name"].startswith("paht-secrets"):     # the dev overlay's generator adds a hash
                assert ref["key"] in template, (deployment["metadata"]["name"], ref["key"])
    routing = {e["name"] for e in deployments["paht-routing"]["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert not routing & {"PAHT_IMMEDIATE_WEBHOOK", "PAHT_WEBHOOK_SECRET"}     # publishing sends both webhooks


# ---- what is reachable ------------------------------------------------------------------------------------------
def http_routes(service_class) -> set[str]:
    """Every HTTP route of a service (its entrypoints are in service.py and its mixins)."""
    from nameko.web.handlers import HttpRequestHandler

    return {entrypoint.url for name in dir(service_class)
            for entrypoint in getattr(getattr(service_class, name), "nameko_entrypoints", ())
            if isinstance(entrypoint, HttpRequestHandler)}


def gateway_routes() -> set[str]:
    from services.gateway.service import GatewayService
    return http_routes(GatewayService)


def covered(path: str, prefix: str) -> bool:
    """Kubernetes' `Prefix` match: whole path elements."""
    return path == prefix or path.startswith(prefix.rstrip("/") + "/")


def route_prefixes(route: dict) -> list[str]:
    """The PathPrefix matches (the portal's home page `/` is the one Exact match: never a prefix of everything)."""
    matches = [match for rule in route["spec"]["rules"] for match in rule.get("matches", [])]
    assert all(match["path"]["type"] == "PathPrefix" or match["path"] == {"type": "Exact", "value": "/"}
               for match in matches)
    return [match["path"]["value"] for match in matches if match["path"]["type"] == "PathPrefix"]


@needs_kubectl
@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_http_route_exposes_the_api_and_nothing_else(rendered, overlay):
    docs = rendered[overlay]
    assert not objects(docs, "Ingress"), "the public entry is the Gateway API's (ingress-nginx is retired)"
    (gateway,) = objects(docs, "Gateway").values()
    listeners = {listener["name"]: listener for listener in gateway["spec"]["listeners"]}
    routes = objects(docs, "HTTPRoute")
    api = routes["paht-api"]
    assert api["spec"]["parentRefs"] == [{"name": gateway["metadata"]["name"], "sectionName": "public"}]
    assert listeners["public"]["allowedRoutes"] == {"namespaces": {"from": "Same"}}
    backends = [ref for rule in api["spec"]["rules"] for ref in rule["backendRefs"]]
    (gateway_port,) = [port["port"] for port in objects(docs, "Service")["paht-gateway"]["spec"]["ports"]]
    assert {tuple(sorted(ref.items())) for ref in backends} == {(("name", "paht-gateway"), ("port", gateway_port))}
    prefixes = route_prefixes(api)
    for hidden in ("/metrics", "/healthz", "/healthz/ready", "/api/v1/_clock", "/api/v1/_clock/advance", "/"):
        assert not any(covered(hidden, prefix) for prefix in prefixes), hidden
    public = {route for route in gateway_routes()
              if route != "/" and "/_clock" not in route and not route.startswith(("/healthz", "/metrics"))}
    assert "/api/v1/reports" in public and "/open311/v2/requests.<string:fmt>" in public
    unexposed = {route for route in public if not any(covered(route, prefix) for prefix in prefixes)}
    assert not unexposed, f"gateway routes missing from deploy/k8s/base/http-route.yaml: {sorted(unexposed)}"
    from services.intake.service import IntakeService
    assert http_routes(IntakeService) <= {"/healthz", "/healthz/live", "/healthz/ready", "/metrics"}, \
        "intake is internal: probes and metrics only"
    for name, route in routes.items():     # nothing else reaches a backend
        if name != "paht-api":
            assert all("backendRefs" not in rule for rule in route["spec"]["rules"]), name


@needs_kubectl
def test_production_serves_the_api_over_https_only(rendered):
    docs = rendered["production"]
    (gateway,) = objects(docs, "Gateway").values()
    listeners = {listener["name"]: listener for listener in gateway["spec"]["listeners"]}
    public = listeners["public"]
    assert (public["protocol"], public["port"]) == ("HTTPS", 443)
    assert public["tls"] == {"mode": "Terminate", "certificateRefs": [{"name": "paht-api-tls"}]}
    assert gateway["metadata"]["annotations"]["cert-manager.io/cluster-issuer"]
    plain = [listener for listener in listeners.values() if listener["protocol"] == "HTTP"]
    assert all(listener["hostname"] == public["hostname"] for listener in plain)
    for listener in plain:        # the only route on plain HTTP redirects to HTTPS
        attached = [route for route in objects(docs, "HTTPRoute").values()
                    if any(ref.get("sectionName") == listener["name"] for ref in route["spec"]["parentRefs"])]
        (redirect,) = attached
        (rule,) = redirect["spec"]["rules"]
        assert rule["filters"] == [{"type": "RequestRedirect", "requestRedirect": {"scheme": "https", "statusCode": 301}}]


@needs_kubectl
def test_network_policies_allow_only_the_flow(rendered):
    policies = objects(rendered["production"], "NetworkPolicy")
    deny = policies["paht-default-deny"]["spec"]
    assert deny == {"podSelector": {"matchLabels": {"app": "paht"}}, "policyTypes": ["Ingress", "Egress"]}
    inbound = {name: p for name, p in policies.items() if "ingress" in p["spec"]}
    assert set(inbound) == {"paht-api-from-gateway", "paht-metrics-from-prometheus"}
    assert inbound["paht-api-from-gateway"]["spec"]["podSelector"]["matchLabels"] == {"app": "paht",
                                                                                      "service": "gateway"}
    (gateway,) = objects(rendered["production"], "Gateway").values()
    (proxies,) = inbound["paht-api-from-gateway"]["spec"]["ingress"][0]["from"]
    assert proxies["namespaceSelector"] == {"matchLabels": {"kubernetes.io/metadata.name": "envoy-gateway-system"}}
    assert proxies["podSelector"]["matchLabels"] == {     # Envoy Gateway's proxies of this very Gateway
        "app.kubernetes.io/name": "envoy", "app.kubernetes.io/component": "proxy",
        "gateway.envoyproxy.io/owning-gateway-name": gateway["metadata"]["name"],
        "gateway.envoyproxy.io/owning-gateway-namespace": gateway["metadata"]["namespace"]}
    for policy in inbound.values():
        (rule,) = policy["spec"]["ingress"]
        assert rule["ports"] == [{"protocol": "TCP", "port": "http"}] and rule["from"]
    egress_ports = {}
    for name, policy in policies.items():
        for rule in policy["spec"].get("egress", []):
            for port in rule["ports"]:
                egress_ports.setdefault(port["port"], set()).add(name)
    assert egress_ports == {53: {"paht-dns"}, 5672: {"paht-broker-and-store"}, 27017: {"paht-broker-and-store"},
                            443: {"paht-publishing-notifications", "paht-gateway-https"},
                            25: {"paht-publishing-notifications"}, 465: {"paht-publishing-notifications"},
                            587: {"paht-publishing-notifications"}}
    assert policies["paht-publishing-notifications"]["spec"]["podSelector"]["matchLabels"]["service"] == "publishing"
    assert policies["paht-gateway-https"]["spec"]["podSelector"]["matchLabels"]["service"] == "gateway"
    for rule in policies["paht-broker-and-store"]["spec"]["egress"]:
        assert rule.get("to"), "production reaches only the operators' pods"


# ---- the validator ----------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def validator():
    spec = importlib.util.spec_from_file_location("k8s_validate", K8S / "validate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def problems(validator, resource):
    return validator.validate(resource, validator.DEFAULT_KUBERNETES, validator.crd_schemas())


def test_validator_is_strict_for_built_in_kinds_and_crds(validator):
    config_map = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}, "data": {"a": "b"}}
    assert problems(validator, config_map) == []
    assert problems(validator, {**config_map, "dataa": {}})                       # unknown field
    removed = {"apiVersion": "policy/v1beta1", "kind": "PodDisruptionBudget", "metadata": {"name": "x"},
               "spec": {"maxUnavailable": 1}}
    assert "Couldn't find schema" in problems(validator, removed)[0]             # kubernetes-validate only WARNs
    assert "Couldn't find schema" in problems(validator, {**config_map, "kind": "Whatever"})[0]
    rabbit = {"apiVersion": "rabbitmq.com/v1beta1", "kind": "RabbitmqCluster", "metadata": {"name": "r"},
              "spec": {"replicas": 3}}
    assert problems(validator, rabbit) == []
    assert problems(validator, {**rabbit, "spec": {"replica": 3}})               # typo in a CRD field
    assert problems(validator, {**rabbit, "spec": {"replicas": "3"}})            # wrong type
    assert problems(validator, {**rabbit, "metadata": {"name": "r", "labelz": {}}})   # ObjectMeta is strict too
    mongo = {"apiVersion": "mongodbcommunity.mongodb.com/v1", "kind": "MongoDBCommunity", "metadata": {"name": "m"},
             "spec": {"type": "ReplicaSet", "members": 3, "version": "7.0.14", "security": {}, "users": [],
                      "statefulSet": {"spec": {"anything": "kept"}}}}        # preserve-unknown-fields stays open
    assert problems(validator, mongo) == []
    assert problems(validator, {**mongo, "spec": {**mongo["spec"], "member": 3}})
    route = {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute", "metadata": {"name": "r"},
             "spec": {"parentRefs": [{"name": "paht"}], "rules": [{"backendRefs": [{"name": "s", "port": 8000}]}]}}
    assert problems(validator, route) == []
    assert problems(validator, {**route, "spec": {**route["spec"], "hostname": ["x"]}})     # hostnames, misspelt
    assert problems(validator, {**route, "apiVersion": "gateway.networking.k8s.io/v1alpha1"})


# ---- the image's lock -------------------------------------------------------------------------------------------
def test_requirements_lock_pins_every_dependency_with_hashes():
    """Every dependency of pyproject.toml is pinned in requirements.lock, within its range (else: `make lock`)."""
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    lock = (ROOT / "requirements.lock").read_text()
    pins = {canonicalize_name(name): version
            for name, version in re.findall(r"^([A-Za-z0-9._-]+)==([^ \\\n]+)", lock, re.M)}
    blocks = re.split(r"\n(?=[A-Za-z0-9])", lock.split("\n", 6)[-1])
    assert all("--hash=sha256:" in block for block in blocks if "==" in block)
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    stale = []
    for line in project["dependencies"]:
        requirement = Requirement(line)
        version = pins.get(canonicalize_name(requirement.name))
        if version is None or version not in requirement.specifier:
            stale.append(f"{line} (lock: {version})")
    assert not stale, f"requirements.lock is stale, run `make lock`: {stale}"


def test_every_script_is_executable():
    for script in ("check-lock", "k8s-rules"):
        assert os.access(ROOT / "scripts" / script, os.X_OK), script
