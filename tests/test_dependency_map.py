"""The package's dependency map stays clean: no import cycle, no arrow pointing up the layers,
the pure layers free of the database and the chat platform, and no module over 400 lines.

Built from the source with `ast` (nothing is imported), so it is fast and sees imports inside
functions too: a lazy import hides a cycle from Python, not from the next reader.
Run it as a script to print the map's facts:  python3 -m tests.test_dependency_map"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("bot", "handlers", "engine", "storage", "deadlines", "documents", "locales")

# Higher imports lower, never the reverse. The middle layer's packages may use each other
# (storage keeps what the engine defines), within the purity rule below.
LAYER = {
    "bot": 3,
    "handlers": 2,
    "engine": 1,
    "storage": 1,
    "documents": 1,
    "deadlines": 1,
    "locales": 0,
}

# What the pure layers must never reach: they are what lets one conversation run on every
# channel and be tested without a database.
PURE = {
    "engine": ("storage", "handlers", "bot", "aiogram", "sqlalchemy"),
    "deadlines": ("storage", "handlers", "bot", "aiogram", "sqlalchemy"),
    "documents": ("storage", "handlers", "bot", "aiogram", "sqlalchemy"),
}

MAX_LINES = 400


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@cache
def modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            found[module_name(path)] = path
    return found


def imported_names(path: Path, name: str) -> Iterator[str]:
    """Every dotted name the module imports, `from x import y` yielding x.y as well as x."""
    is_package = path.name == "__init__.py"
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = name.split(".")
                anchor = anchor[: len(anchor) - node.level + (1 if is_package else 0)]
                base = ".".join([*anchor, base] if base else anchor)
            yield base
            yield from (f"{base}.{alias.name}" for alias in node.names)


def internal_target(dotted: str) -> str | None:
    """The project module a dotted name lands in (its longest known prefix), if any."""
    known = modules()
    parts = dotted.split(".")
    for end in range(len(parts), 0, -1):
        candidate = ".".join(parts[:end])
        if candidate in known:
            return candidate
    return None


@cache
def graph() -> dict[str, frozenset[str]]:
    edges: dict[str, frozenset[str]] = {}
    for name, path in modules().items():
        targets = {internal_target(dotted) for dotted in imported_names(path, name)}
        edges[name] = frozenset(t for t in targets if t is not None and t != name)
    return edges


def cycles() -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    edges = graph()
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in edges[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component: list[str] = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def top(name: str) -> str:
    return name.split(".")[0]


def upward_imports() -> list[str]:
    return sorted(
        f"{source} -> {target}"
        for source, targets in graph().items()
        for target in targets
        if LAYER[top(target)] > LAYER[top(source)]
    )


def impure_imports() -> list[str]:
    found: list[str] = []
    for name, path in modules().items():
        forbidden = PURE.get(top(name))
        if forbidden is None:
            continue
        for dotted in imported_names(path, name):
            if top(dotted) in forbidden:
                found.append(f"{name} -> {dotted}")
    return sorted(set(found))


def long_modules() -> dict[str, int]:
    counts = {
        str(path.relative_to(ROOT)): len(path.read_text(encoding="utf-8").splitlines())
        for path in modules().values()
    }
    return {path: count for path, count in sorted(counts.items()) if count > MAX_LINES}


def test_the_map_covers_every_package() -> None:
    assert {top(name) for name in modules()} == set(PACKAGES)
    assert graph()["handlers.report"], "the graph finds no import at all: the walker is broken"


def test_no_import_cycle() -> None:
    assert cycles() == []


def test_no_import_points_up_the_layers() -> None:
    assert upward_imports() == []


def test_the_pure_layers_reach_no_database_channel_or_runtime() -> None:
    assert impure_imports() == []


def test_no_module_over_400_lines() -> None:
    assert long_modules() == {}, "split a long module along its seams"


if __name__ == "__main__":
    print("modules:", len(modules()))
    print("cycles:", cycles() or 0)
    print("upward imports:", upward_imports() or 0)
    print("impure imports:", impure_imports() or 0)
    print(f"modules over {MAX_LINES} lines:", long_modules() or 0)
