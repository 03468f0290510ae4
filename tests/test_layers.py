"""The dependency direction of DESIGN.md: services never import a blueprint package.

Blueprints (the feature packages with views) import services; a service that imported
one would drag the web layer into workers and commands, and make the blueprint's words
the service's (the report once took its check lines from review).
"""
from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "support"
BLUEPRINTS = {"account", "admin", "api", "approvals", "auditlog", "auth", "intake", "review"}
#: module -> the blueprint modules it may import, and why
ALLOWED = {
    "__init__": "the app factory registers every blueprint",
    "demo_cases": "the demo seeds review's canned replies",
}


def _imported(path: Path, package: Path = PACKAGE) -> set[tuple[str, ...]]:
    """The ``support`` modules a file imports, as paths inside the package."""
    own = path.relative_to(package).with_suffix("").parts
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = own[: len(own) - node.level]
                module = base + tuple(node.module.split(".")) if node.module else base
            elif (node.module or "").split(".")[0] == "support":
                module = tuple(node.module.split(".")[1:])
            else:
                continue
            found |= {module + (alias.name,) for alias in node.names} if not node.module else {module}
        elif isinstance(node, ast.Import):
            found |= {tuple(alias.name.split(".")[1:]) for alias in node.names if alias.name.startswith("support.")}
    return {module for module in found if module}


def test_services_import_no_blueprint():
    crossings = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        if parts[0] in BLUEPRINTS or ".".join(parts) in ALLOWED:
            continue
        crossings += [f"{'.'.join(parts)} imports {'.'.join(module)}"
                      for module in _imported(path) if module[0] in BLUEPRINTS]
    assert crossings == []


def test_the_rule_reads_relative_and_absolute_imports(tmp_path):
    (tmp_path / "reports").mkdir()
    (tmp_path / "reports" / "pdf.py").write_text(
        "from ..review.labels import CHECKS\nfrom . import content\nfrom .. import intake\nimport support.api.views\n")
    assert _imported(tmp_path / "reports" / "pdf.py", tmp_path) == {
        ("review", "labels"), ("reports", "content"), ("intake",), ("api", "views")}
