"""No circles (issue 21 item 3): the kernel `paht/` imports no service, and no service imports another."""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def imported_modules(path: Path) -> set[str]:
    """Every absolute module a file imports, at any depth (a function-level import counts too)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
    return found


def test_the_kernel_imports_no_service():
    offenders = sorted(f"{path.relative_to(ROOT)} → {module}" for path in (ROOT / "paht").rglob("*.py")
                       for module in imported_modules(path) if module.split(".")[0] == "services")
    assert offenders == []


def test_no_service_imports_another():
    offenders = []
    for service in (path for path in (ROOT / "services").iterdir() if (path / "service.py").exists()):
        for path in service.rglob("*.py"):
            for module in imported_modules(path):
                parts = module.split(".")
                if parts[0] == "services" and len(parts) > 1 and parts[1] != service.name:
                    offenders.append(f"{path.relative_to(ROOT)} → {module}")
    assert offenders == []


def test_the_graph_is_read_from_real_files():
    assert "paht.schemas" in imported_modules(ROOT / "services" / "sla" / "schemas.py")
