"""Scenarios and the harness speak only HTTP and the browser: they never import the server."""

import ast
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parent.parent
BLACK_BOX = sorted(
    path
    for folder in ("scenarios", "harness", "virtual_authenticators")
    for path in (PROJECT / folder).rglob("*.py")
)


def imported_modules(path: Path) -> set[str]:
    modules = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            modules.add(node.module)
    return modules


@pytest.mark.parametrize("path", BLACK_BOX, ids=lambda path: str(path.relative_to(PROJECT)))
def test_module_does_not_import_the_reference_server(path: Path) -> None:
    assert not {m for m in imported_modules(path) if m.split(".")[0] == "reference_server"}


def test_there_are_scenarios_to_check() -> None:
    assert any(path.parts[-2] != "scenarios" for path in BLACK_BOX if "scenarios" in path.parts)
