"""The package's layers (ARCHITECTURE.md): imports point down only, and no module imports
itself back through another.

The import graph is read from the source (every import statement, function-level ones too),
so a cycle hidden in a lazy import counts as well.
"""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import pytest

import rating
from rating._moved import MOVED, MOVED_NAMES

PACKAGE = Path(rating.__file__).parent

# layer -> the layers it may import (besides itself)
LAYERS = {
    "base": set(),
    "rules": {"base"},
    "engine": {"base", "rules"},
    "risk": {"base"},
    "workflows": {"base", "rules", "engine", "risk", "workflows"},
    "interfaces": {"base", "rules", "engine", "risk", "workflows"},
}


def layer(module: str) -> str:
    parts = module.split(".")
    if module == "rating" or parts[1] == "cli":
        return "interfaces"
    if parts[1] in ("errors", "_moved"):
        return "base"
    return {"book": "rules", "engine": "engine", "risk": "risk"}.get(parts[1], "workflows")


def modules() -> dict[str, tuple[Path, bool]]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = ["rating", *path.relative_to(PACKAGE).with_suffix("").parts]
        is_package = parts[-1] == "__init__"
        out[".".join(parts[:-1] if is_package else parts)] = (path, is_package)
    return out


def import_graph() -> dict[str, set[str]]:
    known = modules()
    graph = {}
    for module, (path, is_package) in known.items():
        package = module if is_package else module.rsplit(".", 1)[0]
        deps = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")[:len(package.split(".")) - node.level + 1]
                    target = ".".join(base + ([node.module] if node.module else []))
                else:
                    target = node.module or ""
                for name in [target] + [f"{target}.{a.name}" for a in node.names]:
                    if name in known:
                        deps.add(name)
            elif isinstance(node, ast.Import):
                deps.update(a.name for a in node.names if a.name in known)
        deps.discard(module)
        graph[module] = deps
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_the_graph_reader_finds_a_cycle():
    """The checker itself: a <-> b is one component, c is alone."""
    assert cycles({"a": {"b"}, "b": {"a"}, "c": {"a"}}) == [["a", "b"]]


def test_no_import_cycle():
    assert cycles(import_graph()) == []


def test_imports_point_down_only():
    wrong = [f"{m} ({layer(m)}) imports {d} ({layer(d)})"
             for m, deps in import_graph().items() for d in sorted(deps)
             if layer(d) != layer(m) and layer(d) not in LAYERS[layer(m)]
             and not d.startswith(m + ".")]  # a package's __init__ re-exports its modules
    assert wrong == []


def test_rules_import_without_the_engine_or_pandas():
    """rating.book is a leaf: with the engine, every workflow and pandas blocked, it still loads
    and selects the shipped book. ``rating/__init__`` (which imports everything) is replaced by
    an empty package so that only rating.book's own imports run."""
    script = textwrap.dedent(f"""
        import importlib.abc, sys, types
        ALLOWED = ("rating.book", "rating.errors")
        class Block(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path=None, target=None):
                if name == "pandas" or name.startswith("pandas."):
                    raise ImportError("blocked: " + name)
                if name.startswith("rating.") and not name.startswith(ALLOWED):
                    raise ImportError("blocked: " + name)
        sys.meta_path.insert(0, Block())
        package = types.ModuleType("rating")
        package.__path__ = [{str(PACKAGE)!r}]
        sys.modules["rating"] = package
        import datetime
        import rating.book as book
        found = book.find_book("CN-FJ-XM", datetime.date(2024, 7, 1))
        print(found.id, book.commission_cap(found, datetime.date(2025, 6, 1)))
        loaded = sorted(m for m in sys.modules if m.startswith("rating."))
        assert all(m.startswith(ALLOWED) for m in loaded), loaded
        assert "pandas" not in sys.modules
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    # 5% from 2025-03-29 (应急〔2025〕27号), the shipped Xiamen book sets no lower cap
    assert done.stdout.split()[1] == "0.05"


@pytest.mark.parametrize("old", sorted(MOVED))
def test_old_module_paths_alias_the_new_modules(old):
    new = importlib.import_module(MOVED[old])
    sys.modules.pop(old, None)
    with pytest.warns(DeprecationWarning, match=f"{old} is deprecated; import {MOVED[old]}"):
        aliased = importlib.import_module(old)
    assert aliased is new
    assert aliased.__spec__.name == MOVED[old]  # the module keeps its own identity


@pytest.mark.parametrize("old, name", sorted(MOVED_NAMES))
def test_moved_names_still_resolve(old, name):
    new = importlib.import_module(MOVED_NAMES[old, name])
    module = importlib.import_module(old)
    with pytest.warns(DeprecationWarning, match=f"{old}.{name} is deprecated"):
        assert getattr(module, name) is getattr(new, name)


def test_unknown_names_are_still_attribute_errors():
    module = importlib.import_module("rating.calibrate.experience")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(AttributeError, match="no attribute 'synthetic_portfolio'"):
            module.synthetic_portfolio  # noqa: B018 -- the access is the test
