"""The documentation stays true to the repository: its links resolve inside it, and the code
paths, code names and tests ``docs/algebra.md`` cites exist where it says they are."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from conftest import ROOT

ALGEBRA = ROOT / "docs" / "algebra.md"
#: The pages a reader of the repository sees: the README and everything under docs/.
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

#: A markdown link or image target: ``[text](target)``.
_LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")
#: A span in backticks.
_CODE = re.compile(r"`([^`\n]+)`")
#: A repository path in backticks, optionally with ``::name`` (pytest's node id, or a code name).
_PATH = re.compile(r"^((?:linlint|tests|bench|rules|sample_models|docs)/[\w/.-]+)(?:::([\w.]+))?$")


def _relative_links(page: Path) -> list[str]:
    """The link targets of a page that are not URLs or anchors, without their anchor."""
    targets = (m.group(1) for m in _LINK.finditer(page.read_text(encoding="utf-8")))
    return [
        t.split("#", 1)[0]
        for t in targets
        if not re.match(r"^[a-z][a-z0-9+.-]*:", t) and not t.startswith("#")
    ]


def _cited(page: Path) -> list[tuple[str, str | None]]:
    """Every ``path`` and ``path::name`` the page names in backticks."""
    spans = (m.group(1) for m in _CODE.finditer(page.read_text(encoding="utf-8")))
    return [(m.group(1), m.group(2)) for s in spans if (m := _PATH.match(s))]


def _defined(path: Path) -> dict[str, set[str]]:
    """The top-level names a Python file defines (functions, classes, assignments), each with
    the names defined in its body (a class's methods and attributes)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: dict[str, set[str]] = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            inner = {
                getattr(n, "name", None) or getattr(getattr(n, "target", None), "id", None)
                for n in getattr(node, "body", [])
            }
            names[node.name] = {n for n in inner if n}
        elif isinstance(node, ast.Assign):
            names.update({t.id: set() for t in node.targets if isinstance(t, ast.Name)})
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names[node.target.id] = set()
    return names


def test_every_relative_link_in_the_readme_and_docs_resolves_inside_the_repository():
    broken, outside = [], []
    for page in PAGES:
        for target in _relative_links(page):
            resolved = (page.parent / target).resolve()
            if not resolved.is_relative_to(ROOT):
                outside.append(f"{page.name}: {target}")
            elif not resolved.exists():
                broken.append(f"{page.name}: {target}")
    assert not outside, f"links outside the repository: {outside}"
    assert not broken, f"links to nothing: {broken}"


def test_no_page_or_module_points_to_the_design_notes_outside_the_repository():
    texts = [*PAGES, *sorted((ROOT / "linlint").rglob("*.py"))]
    offenders = [
        str(path.relative_to(ROOT))
        for path in texts
        if re.search(r"DESIGN\.md|\.\./shared|/work/shared", path.read_text(encoding="utf-8"))
    ]
    assert offenders == []


def test_the_readme_and_the_architecture_map_link_the_algebra_page():
    readme = _relative_links(ROOT / "README.md")
    architecture = _relative_links(ROOT / "docs" / "architecture.md")
    assert "docs/algebra.md" in readme
    assert "algebra.md" in architecture


def test_every_repository_path_the_algebra_page_names_exists():
    missing = sorted({path for path, _ in _cited(ALGEBRA) if not (ROOT / path).exists()})
    assert missing == []


def test_every_sample_model_the_algebra_page_names_exists():
    spans = (m.group(1) for m in _CODE.finditer(ALGEBRA.read_text(encoding="utf-8")))
    stems = {s for s in spans if re.fullmatch(r"(?:ll\d{3}|nm)_\w+", s)}
    assert stems, "the page names no sample model"
    assert sorted(s for s in stems if not (ROOT / "sample_models" / f"{s}.onnx").exists()) == []


def test_every_test_the_algebra_page_names_is_defined_in_the_file_it_names():
    tests = [(path, name) for path, name in _cited(ALGEBRA) if name and name.startswith("test_")]
    assert tests, "the page names no test as tests/FILE.py::test_NAME"
    missing = [
        f"{path}::{name}"
        for path, name in tests
        if path.endswith(".py") and name not in _defined(ROOT / path)
    ]
    assert missing == []


def test_the_algebra_page_names_every_test_with_its_file():
    """A bare `test_name` could not be checked: the page names tests as FILE::test_name."""
    spans = (m.group(1) for m in _CODE.finditer(ALGEBRA.read_text(encoding="utf-8")))
    assert [s for s in spans if re.fullmatch(r"test_\w+", s)] == []


def test_every_code_name_the_algebra_page_gives_with_its_module_is_defined_there():
    missing = []
    for path, name in _cited(ALGEBRA):
        if not name or name.startswith("test_") or not path.endswith(".py"):
            continue
        top, _, member = name.partition(".")
        defined = _defined(ROOT / path)
        if top not in defined or (member and member not in defined[top]):
            missing.append(f"{path}::{name}")
    assert missing == []
