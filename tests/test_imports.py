"""riffweb's modules import each other without a circle, and its floors stay in order.

The graph is read from the source (every import statement, at module top or inside a
function), so a cycle hidden in a function-level import fails here too.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "riffweb"


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in PACKAGE.rglob("*.py") if "migrations" not in p.parts}


def imports_of(name: str, path: Path, known: set[str]) -> set[str]:
    """The riffweb modules `name` imports (a package import counts as its __init__)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            targets = [f"{base}.{alias.name}" for alias in node.names] + [base]
        else:
            continue
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def graph() -> dict[str, set[str]]:
    known = modules()
    names = set(known)
    edges = {name: imports_of(name, path, names) for name, path in known.items()}
    # A package's __init__ is imported on the way to any of its modules; count only real edges.
    return {name: {t for t in targets if not name.startswith(t + ".")} for name, targets in edges.items()}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in edges.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
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


def test_no_module_of_riffweb_imports_itself_back_through_others():
    assert cycles(graph()) == []


def test_the_cycle_finder_finds_a_circle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


@pytest.mark.parametrize(
    ("module", "may_not_import"),
    [
        # The engine is a separate server: it knows nothing of the studio, only shared audio code.
        ("riffweb.engine", ("riffweb.studio", "riffweb.upstream", "riffweb.teams", "riffweb.library",
                            "riffweb.accounts", "riffweb.queue")),
        # Bottom floors: audio and the dialect facts import nothing of riffweb's apps.
        ("riffweb.audio", ("riffweb.studio", "riffweb.upstream", "riffweb.engine", "riffweb.queue")),
        ("riffweb.upstream.dialects", ("riffweb.studio", "riffweb.upstream.client", "riffweb.queue")),
        # The models are below the pipeline and the views that drive them.
        ("riffweb.studio.models", ("riffweb.upstream.client", "riffweb.upstream.submit", "riffweb.upstream.tracker",
                                   "riffweb.studio.views", "riffweb.studio.access")),
        ("riffweb.upstream.models", ("riffweb.studio", "riffweb.queue")),
        # The pipeline never reaches up into pages.
        ("riffweb.upstream.tracker", ("riffweb.studio.views", "riffweb.teams", "riffweb.library")),
        ("riffweb.upstream.submit", ("riffweb.studio.views", "riffweb.upstream.tracker")),
    ],
)
def test_lower_floors_do_not_import_higher_ones(module, may_not_import):
    edges = graph()
    offenders = {
        (name, target)
        for name, targets in edges.items()
        if name == module or name.startswith(module + ".")
        for target in targets
        if any(target == bad or target.startswith(bad + ".") for bad in may_not_import)
    }
    assert offenders == set()
