"""The layer order written at the top of ``deid/__init__.py`` holds: no module imports upward, no import
cycle. Every import is read from the source (ast): module-level, function-level and type-only ones."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import deid

ROOT = Path(deid.__file__).resolve().parent


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted(ROOT.rglob("*.py")):
        parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


MODULES = _modules()


def _target(name: str) -> str | None:
    """The module of the tree that ``name`` (a module or a name inside one) denotes."""
    while name:
        if name in MODULES:
            return name
        name = name.rpartition(".")[0]
    return None


def imports_of(module: str, path: Path) -> set[str]:
    """The modules of the tree that ``module`` (read from ``path``) imports, anywhere in its source."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    names: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, base] if base else parts)
            # "from deid.x import y": the submodule deid.x.y when there is one, else deid.x
            names += [f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base for a in node.names]
    targets = {_target(n) for n in names if n.split(".")[0] == "deid"}
    return {t for t in targets if t is not None and t != module}


GRAPH = {m: imports_of(m, p) for m, p in MODULES.items()}


def layer(module: str) -> int:
    best, found = -1, None
    for i, names in enumerate(deid.LAYERS):
        for name in names:
            if (module == name or module.startswith(name + ".")) and len(name) > best:
                best, found = len(name), i
    if module == "deid":
        return -1  # the package root holds only the version and this order
    assert found is not None, f"{module} is in no layer of deid.LAYERS"
    return found


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_upward_import(module: str) -> None:
    mine = layer(module)
    upward = sorted(t for t in GRAPH[module] if layer(t) > mine)
    assert not upward, f"{module} (layer {mine}) imports higher layers: {upward}"


def test_no_import_cycle() -> None:
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:  # Tarjan's strongly connected components
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(GRAPH[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for v in sorted(GRAPH):
        if v not in index:
            visit(v)
    assert not cycles, f"import cycles: {cycles}"


def test_the_walk_sees_function_level_and_type_only_imports(tmp_path: Path) -> None:
    src = tmp_path / "m.py"
    src.write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from deid.tables import Tables\n"
                   "def f():\n    from deid.pipeline import runner\n    import deid.cli\n")
    assert imports_of("deid.errors", src) == {"deid.tables", "deid.pipeline.runner", "deid.cli"}
