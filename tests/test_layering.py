"""The layering rule: r2l_viewer.core and trainers never import Qt, pyqtgraph or OpenGL, and imports run one way
(app -> trainers -> core): core never imports trainers or the app, trainers never imports the app."""

import ast
import pkgutil
import subprocess
import sys
from pathlib import Path

import r2l_viewer
import r2l_viewer.core
import trainers


def _modules(package) -> list[str]:
    """Every module of a package, less `__main__` files (importing one runs its command)."""
    return [m.name for m in pkgutil.walk_packages(package.__path__, package.__name__ + ".")
            if not m.name.endswith(".__main__")]


def _imported_after(names: list[str]) -> set[str]:
    """Every module in sys.modules of a fresh interpreter after importing `names`."""
    code = (
        "import importlib, sys\n"
        f"for name in {names!r}: importlib.import_module(name)\n"
        "print('\\n'.join(sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(result.stdout.split())


def test_core_and_trainers_import_no_gui_libraries():
    names = _modules(r2l_viewer.core) + _modules(trainers)
    assert len(names) > 10
    bad = sorted(m for m in _imported_after(names) if m.split(".")[0] in ("PyQt6", "pyqtgraph", "OpenGL"))
    assert bad == []


def test_core_imports_neither_trainers_nor_the_app():
    loaded = _imported_after(_modules(r2l_viewer.core))
    assert not [m for m in loaded if m.split(".")[0] == "trainers" or m.startswith("r2l_viewer.app")]


def test_trainers_never_import_the_app():
    loaded = _imported_after(_modules(trainers))
    assert "trainers.jobs.distill" in loaded and "trainers.cli.train" in loaded  # the walk found the subpackages
    assert not [m for m in loaded if m.startswith("r2l_viewer.app")]


# The app may run jobs (and read their configs, events and presets), but takes no helpers from the layers' internals:
# those live in core. The entries below are what a button needs to start a job and watch it.
APP_MAY_IMPORT = {
    "trainers.configs", "trainers.events", "trainers.presets", "trainers.cli.args",
    "trainers.jobs.pipeline",  # make_job / finished: the one door by which the app starts and checks jobs
    "trainers.video.job",  # RenderVideo: the video dialog runs this job
    "trainers.storage.workspace",  # Workspace / RunContext: what every job runs in
}
INTERNAL = ("trainers.jobs", "trainers.training", "trainers.storage", "trainers.video", "trainers.inspection")


def _source_modules(package) -> dict[str, Path]:
    """Every module of a package (packages as their `__init__`) and its file."""
    root = Path(package.__path__[0])
    found = {}
    for path in root.rglob("*.py"):
        parts = path.relative_to(root.parent).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def _imports(path: Path, module: str, known) -> set[str]:
    """The project modules a file imports anywhere in it (functions too): `from a import b` counts as a.b when that
    is a module, else as a."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    edges = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            edges.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[:len(package.split(".")) - node.level + 1] + ([base] if base else []))
            for alias in node.names:
                edges.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base)
    return {name for name in edges if name in known}


def _graph(*packages) -> dict[str, set[str]]:
    files = {}
    for package in packages:
        files |= _source_modules(package)
    return {module: _imports(path, module, files) for module, path in files.items()}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (or a module importing itself), by Tarjan."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in sorted(graph.get(node, ())):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while not component or component[-1] != node:
                component.append(stack.pop())
                on_stack.discard(component[-1])
            if len(component) > 1 or node in graph.get(node, ()):
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_training_layer_never_imports_the_jobs_layer():
    graph = _graph(trainers)
    assert "trainers.training.views" in graph["trainers.jobs.teacher"]  # the walk sees the edges
    bad = sorted((a, b) for a, edges in graph.items() if a.startswith("trainers.training")
                 for b in edges if b.startswith("trainers.jobs"))
    assert bad == []


def test_no_import_cycle_among_trainers_modules():
    graph = _graph(trainers)
    assert "trainers.distributed" in graph["trainers.storage.workspace"]  # function-level imports count
    assert _cycles(graph) == []


def test_the_app_takes_no_helpers_from_trainers_internals():
    graph = _graph(r2l_viewer, trainers)
    edges = [(a, b) for a, targets in graph.items() if a.startswith("r2l_viewer.app") for b in targets]
    assert any(b == "trainers.jobs.pipeline" for _, b in edges)  # the walk sees the app's trainers imports
    bad = sorted((a, b) for a, b in edges if b.startswith(INTERNAL) and b not in APP_MAY_IMPORT)
    assert bad == []


def test_the_cycle_finder_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []
