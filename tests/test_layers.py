"""The import graph: each package imports only the layers below it, and no import chain is a cycle.

README's "How it is built" shows the same layers. Imports inside functions count too (a lazy import is still
a dependency); ``if TYPE_CHECKING:`` imports count as well, so a type can never point upwards either.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
OURS = ("bot", "actions", "nlu", "policy", "responses")

# Bottom first. A module may import its own package and any package of a lower layer, nothing else.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("bot.domain",),
    ("bot.messages", "bot.settings", "bot.http", "bot.log_redaction", "policy"),
    ("responses",),
    ("nlu", "bot.mail", "bot.store", "bot.deliveries"),
    ("bot.sla", "bot.identity", "bot.nlu_engine", "bot.cluster"),
    ("bot.policy_versions",),
    ("bot.tickets",),
    ("actions",),
    ("bot.conversation",),
    ("bot.officer",),
    ("bot.channels", "bot.officer.web"),
    ("bot.officer.workspace",),
    ("bot.app",),
    ("bot.runner",),
    ("bot.cli",),
    ("bot.__main__",),
)
PACKAGES = {package: rank for rank, layer in enumerate(LAYERS) for package in layer}


def package_of(module: str) -> str:
    """The most specific entry of ``LAYERS`` that ``module`` belongs to."""
    parts = module.split(".")
    for size in range(len(parts), 0, -1):
        candidate = ".".join(parts[:size])
        if candidate in PACKAGES:
            return candidate
    raise AssertionError(f"{module} is in no layer: add its package to LAYERS (and README)")


def module_name(path: Path) -> str:
    """The dotted module name of a source file."""
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path, module: str) -> set[str]:
    """Our modules that ``path`` imports, resolved to module names."""
    found: set[str] = set()
    is_package = path.name == "__init__.py"
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")[: len(module.split(".")) - node.level + (1 if is_package else 0)]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            found.add(target)
            # `from bot.store import models` imports the module bot.store.models
            found.update(f"{target}.{alias.name}" for alias in node.names)
    return {name for name in found if name.split(".")[0] in OURS}


def source_graph() -> dict[str, set[str]]:
    """Every module of ours and what it imports (migration versions excluded: Alembic loads them by path)."""
    files = {
        module_name(path): path
        for top in OURS
        for path in (ROOT / top).rglob("*.py")
        if "versions" not in path.parts and path != ROOT / "bot" / "__init__.py"  # the bare namespace
    }
    graph: dict[str, set[str]] = {}
    for module, path in files.items():
        graph[module] = {name for name in imports_of(path, module) if name in files and name != module}
    return graph


GRAPH = source_graph()


def test_every_module_belongs_to_a_layer() -> None:
    """Each module of ours falls in one of the listed layers, so none escapes the check below."""
    for module in GRAPH:
        package_of(module)


@pytest.mark.parametrize("module", sorted(GRAPH))
def test_imports_run_downwards_only(module: str) -> None:
    """A module imports its own package or a lower layer; never a layer above nor a neighbour in its own."""
    own = package_of(module)
    upward = sorted(
        name
        for name in GRAPH[module]
        if package_of(name) != own and PACKAGES[package_of(name)] >= PACKAGES[own]
    )
    assert upward == [], f"{module} ({own}) imports {upward}"


def test_the_domain_imports_nothing_of_ours() -> None:
    """bot.domain is the bottom: it imports no other package of ours."""
    outside = {name for module in GRAPH if module.startswith("bot.domain") for name in GRAPH[module]}
    assert {name for name in outside if not name.startswith("bot.domain")} == set()


def test_no_import_cycle() -> None:
    """No chain of imports leads from a module back to itself."""
    done: set[str] = set()
    path: list[str] = []

    def visit(module: str) -> None:
        if module in path:
            raise AssertionError("import cycle: " + " -> ".join([*path[path.index(module) :], module]))
        if module in done:
            return
        path.append(module)
        for name in sorted(GRAPH[module]):
            visit(name)
        path.pop()
        done.add(module)

    for module in sorted(GRAPH):
        visit(module)
