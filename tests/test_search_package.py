"""The search package's structure: no import cycle, ranking above the index, Whoosh only
where it belongs. Read from the source (ast) and checked by importing in fresh processes."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import pytest

import paperidx
import paperidx.search

SRC = Path(paperidx.__file__).parent
SEARCH = Path(paperidx.search.__file__).parent
MODULES = sorted(f"paperidx.search.{path.stem}" for path in SEARCH.glob("[!_]*.py"))


def module_name(path: Path) -> str:
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(path: Path) -> set[str]:
    """Every module `path` imports, at the top or inside a function (lazy imports too)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
            # `from paperidx.search import ranking` imports the module ranking.
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def search_graph() -> dict[str, set[str]]:
    """Module -> the package's modules it imports."""
    return {
        f"paperidx.search.{path.stem}": {
            name for name in imported(path) if name in MODULES and name != "paperidx.search"
        }
        for path in SEARCH.glob("[!_]*.py")
    }


def reachable(graph: dict[str, set[str]], start: str) -> set[str]:
    seen: set[str] = set()
    todo = [start]
    while todo:
        for name in graph.get(todo.pop(), set()) - seen:
            seen.add(name)
            todo.append(name)
    return seen


def test_the_package_has_the_modules_the_rest_of_paperidx_uses() -> None:
    for name in ("plan", "index", "ranking", "analysis", "acronyms", "first_stage", "tuning"):
        assert f"paperidx.search.{name}" in MODULES


def test_no_import_cycle_inside_the_search_package() -> None:
    try:
        order = list(TopologicalSorter(search_graph()).static_order())
    except CycleError as cycle:
        pytest.fail(f"import cycle: {' -> '.join(cycle.args[1])}")
    assert set(order) == set(MODULES)


def test_the_index_never_imports_ranking() -> None:
    below_index = reachable(search_graph(), "paperidx.search.index")
    ranking_side = {"ranking", "syntax", "spelling", "expansion", "rerank"}
    assert not {f"paperidx.search.{name}" for name in ranking_side} & below_index


def test_the_package_init_imports_nothing() -> None:
    assert imported(SEARCH / "__init__.py") == set()


def test_query_planning_imports_no_whoosh() -> None:
    graph = search_graph()
    for name in ("paperidx.search.plan", *reachable(graph, "paperidx.search.plan")):
        path = SEARCH / f"{name.rsplit('.', 1)[1]}.py"
        assert not {m for m in imported(path) if m.split(".")[0] == "whoosh"}, name


def test_whoosh_is_imported_only_inside_the_search_package() -> None:
    outside = [
        module_name(path)
        for path in SRC.rglob("*.py")
        if SEARCH not in path.parents and any(m.split(".")[0] == "whoosh" for m in imported(path))
    ]
    assert outside == []


def test_private_whoosh_internals_are_used_in_three_modules_only() -> None:
    """`x._name` on anything but self/cls, or a private name imported from whoosh: reading
    posting blocks in `first_stage`, writing segments (`writer`, and `parallel` for its workers),
    each with a fallback or a test that holds it to Whoosh's own output."""
    users = set()
    for path in SEARCH.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            private_attribute = (
                isinstance(node, ast.Attribute)
                and node.attr.startswith("_")
                and not node.attr.startswith("__")
                and not (isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"))
            )
            private_import = (
                isinstance(node, ast.ImportFrom)
                and (node.module or "").startswith("whoosh")
                and any(alias.name.startswith("_") for alias in node.names)
            )
            if private_attribute or private_import:
                users.add(path.stem)
    assert users == {"first_stage", "parallel", "writer"}


_IMPORT_EACH = """
import importlib, json, sys
failures = {}
whoosh_free = []
for name in sys.argv[1:]:
    for loaded in [m for m in sys.modules if m.startswith(("paperidx", "whoosh"))]:
        del sys.modules[loaded]
    try:
        importlib.import_module(name)
    except Exception as error:
        failures[name] = f"{type(error).__name__}: {error}"
    if not any(m.startswith("whoosh") for m in sys.modules):
        whoosh_free.append(name)
print(json.dumps({"failures": failures, "whoosh_free": whoosh_free}))
"""


def test_each_module_imports_first_on_its_own() -> None:
    """A cycle shows as an ImportError only when the import starts at the right module:
    start at each one, with nothing of paperidx or Whoosh loaded before."""
    done = subprocess.run(
        [sys.executable, "-c", _IMPORT_EACH, *MODULES],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    report = json.loads(done.stdout)
    assert report["failures"] == {}
    assert {"paperidx.search.plan", "paperidx.search.fields", "paperidx.search.tuning"} <= set(
        report["whoosh_free"]
    )
