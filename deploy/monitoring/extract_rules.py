"""The PrometheusRule's `spec` as a plain Prometheus rules file, next to copies of the promtool unit tests (which
name it `paht-rules.yaml`), for `promtool check rules` / `promtool test rules` (`make monitoring-check`); and every
Grafana dashboard query as a recording rule (`dashboard-exprs.yaml`, Grafana's variables replaced by examples) so
that `promtool check rules` parses them too.

    python deploy/monitoring/extract_rules.py OUT_DIR
"""
from __future__ import annotations

import json
import re
import shutil
import sys
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
GRAFANA_VARIABLES = {"$__rate_interval": "5m", "$__interval": "1m", "$__range": "1d", "$pack": "example-pack"}


def extract(rule_file: Path, out_dir: Path) -> Path:
    resource = yaml.safe_load(rule_file.read_text(encoding="utf-8"))
    if resource.get("kind") != "PrometheusRule":
        raise SystemExit(f"{rule_file}: not a PrometheusRule")
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / "paht-rules.yaml"
    target.write_text(yaml.safe_dump({"groups": resource["spec"]["groups"]}, sort_keys=False, allow_unicode=True),
                      encoding="utf-8")
    for test in sorted((HERE / "tests").glob("*.yaml")):
        shutil.copyfile(test, out_dir / test.name)
    return target


def dashboard_exprs(dashboard: dict):
    """(panel id, refId, expr) of every query of a dashboard, variables' queries included."""
    def walk(node):
        if isinstance(node, dict):
            if isinstance(node.get("expr"), str):
                yield node.get("refId", "A"), node["expr"]
            for value in node.values():
                yield from walk(value)
        elif isinstance(node, list):
            for value in node:
                yield from walk(value)
    for panel in dashboard.get("panels", []):
        for ref, expr in walk(panel):
            yield panel.get("id", 0), ref, expr


def extract_dashboards(out_dir: Path) -> Path:
    rules = []
    for path in sorted((HERE / "dashboards").glob("*.json")):
        dashboard = json.loads(path.read_text(encoding="utf-8"))
        name = re.sub(r"[^a-zA-Z0-9_]", "_", dashboard.get("uid") or path.stem)
        for panel, ref, expr in dashboard_exprs(dashboard):
            for variable, example in GRAFANA_VARIABLES.items():
                expr = expr.replace(variable, example)
            rules.append({"record": f"dashboard:{name}:panel{panel}_{ref}", "expr": expr})
    target = out_dir / "dashboard-exprs.yaml"
    target.write_text(yaml.safe_dump({"groups": [{"name": "dashboards", "rules": rules}]}, sort_keys=False,
                                     allow_unicode=True), encoding="utf-8")
    return target


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    print(extract(HERE / "prometheus-rules.yaml", Path(sys.argv[1])))
    print(extract_dashboards(Path(sys.argv[1])))
