"""What `paht rules check` adds to loading: a pack that loads may still hold rules that can never take effect.

- an sla rule timing a step that no code opens (vocabulary.OPENED_STEPS) never runs;
- a parameter of pack.yaml that no rule references and no code reads (vocabulary.CODE_PARAMETERS) changes nothing.

These are not load errors (a running service keeps working while code and packs are changed together), but the
check fails on them, each with its file, line and rule.
"""
from __future__ import annotations

from .errors import PackError
from .vocabulary import CODE_PARAMETERS, OPENED_STEPS


def unopened_steps(pack) -> list[PackError]:
    problems = []
    for rule in pack.stages.get("sla", []):
        for step in rule.get("literals", {}).get("step", []):
            if step not in OPENED_STEPS:
                problems.append(PackError(
                    f"times step {step!r}, which no code opens, so the rule never runs (steps opened: "
                    f"{', '.join(OPENED_STEPS)})", str(pack.path / rule["file"]), rule["line"], rule["id"]))
    return problems


def unused_parameters(pack) -> list[PackError]:
    used = set(getattr(pack, "parameters_used", ())) | set(CODE_PARAMETERS)
    lines = getattr(pack, "parameter_lines", {})
    return [PackError(f"parameter {name!r} is read by no rule ($name) and no code "
                      f"(code reads: {', '.join(CODE_PARAMETERS)}): it changes nothing",
                      str(pack.path / "pack.yaml"), lines.get(name))
            for name in pack.parameters if name not in used]


def audit(pack) -> list[PackError]:
    """Every rule or parameter of a loaded pack that can never take effect."""
    return unopened_steps(pack) + unused_parameters(pack)
