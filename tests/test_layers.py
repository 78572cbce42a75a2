"""The package's structure: layers that import only downward, no import cycle, small
modules, and dependencies that say what is used.

The layers, bottom to top (a module may import its own layer and the ones below)::

    core          errors, version, wording
    model         load, write and walk model files
    analysis      abstract values, shapes, regions, normal forms and costs
    rules         one module per rule (the ``rules/`` folder)
    checking      regions -> rules -> findings; which rules apply at which level
    verification  onnxruntime runs and comparisons
    folding       rewrite regions, prove each one, write nothing
    report        render findings, folds and verifications
    api           ``linlint/__init__.py``: check, fold, verify
    cli           the ``linlint`` command
"""

from __future__ import annotations

import ast
import graphlib
import re
import sys
from pathlib import Path

import pytest

from conftest import ROOT

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

LAYERS = [
    ("core", ("linlint.errors", "linlint.version", "linlint.wording")),
    ("model", ("linlint.model",)),
    ("analysis", ("linlint.analysis",)),
    ("rules", ("linlint.rules",)),
    ("checking", ("linlint.checking",)),
    ("verification", ("linlint.verification",)),
    ("folding", ("linlint.folding",)),
    ("report", ("linlint.report",)),
    ("api", ("linlint",)),
    ("cli", ("linlint.cli", "linlint.__main__")),
]

MAX_MODULE_LINES = 400

# Being split (issue 9); each entry leaves this list when its module is under the limit.
STILL_TOO_LONG: set[str] = set()

IMPORT_TO_DISTRIBUTION = {"google": "protobuf"}  # import names that differ from the package


def _modules() -> dict[str, Path]:
    found = {}
    for base, package in ((ROOT / "linlint", "linlint"), (ROOT / "rules", "linlint.rules")):
        for path in sorted(base.rglob("*.py")):
            parts = list(path.relative_to(base).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join([package, *parts])] = path
    return found


MODULES = _modules()


def _layer(module: str) -> int:
    best, rank = -1, None
    for index, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > best:
                best, rank = len(prefix), index
    assert rank is not None, f"{module} is in no layer"
    return rank


def _imports(module: str, *, top_level_only: bool = False) -> set[str]:
    """The linlint modules ``module`` imports (resolved to modules that exist)."""
    tree = ast.parse(MODULES[module].read_text())
    nodes = tree.body if top_level_only else ast.walk(tree)
    names = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
            names.add(node.module)
    found = set()
    for name in names:
        while name and name not in MODULES:
            name = name.rpartition(".")[0]
        if name.startswith("linlint") and name != module:
            found.add(name)
    return found


def test_every_module_is_in_a_layer():
    for module in MODULES:
        _layer(module)


@pytest.mark.parametrize("module", sorted(MODULES))
def test_a_module_imports_only_its_own_layer_and_the_ones_below(module):
    upward = [m for m in _imports(module) if _layer(m) > _layer(module)]
    assert not upward, f"{module} ({LAYERS[_layer(module)][0]}) imports up: {upward}"


def test_there_is_no_import_cycle_even_through_imports_inside_functions():
    graph = {module: _imports(module) for module in MODULES}
    graph = {m: {d for d in deps if d != "linlint"} for m, deps in graph.items()}
    graphlib.TopologicalSorter(graph).prepare()  # raises CycleError with the cycle


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_module_is_longer_than_the_limit(module):
    lines = len(MODULES[module].read_text().splitlines())
    if module in STILL_TOO_LONG:
        pytest.skip(f"{module}: {lines} lines, being split")
    assert lines <= MAX_MODULE_LINES, f"{module}: {lines} lines"


def _third_party_imports() -> set[str]:
    names = set()
    for path in MODULES.values():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module.split(".")[0])
    names = {IMPORT_TO_DISTRIBUTION.get(n, n) for n in names}
    return {n for n in names if n != "linlint" and n not in sys.stdlib_module_names}


def _declared() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return {re.split(r"[<>=!~;\[ ]", dep)[0].lower() for dep in project["dependencies"]}


def test_every_third_party_import_is_a_declared_dependency():
    undeclared = _third_party_imports() - _declared()
    assert not undeclared, f"imported but not declared: {sorted(undeclared)}"


def test_every_declared_dependency_is_imported():
    unused = _declared() - _third_party_imports()
    assert not unused, f"declared but never imported: {sorted(unused)}"


def test_every_module_is_on_the_architecture_map():
    """docs/architecture.md names every module in its layer table, so the map stays true."""
    page = (ROOT / "docs" / "architecture.md").read_text()
    missing = [
        module
        for module, path in MODULES.items()
        if path.name != "__init__.py"
        and not module.startswith("linlint.rules.ll")
        and f"`{path.stem}`" not in page
        and f"`{path.name}`" not in page
    ]
    assert not missing, f"not in docs/architecture.md: {missing}"
