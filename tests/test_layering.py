"""The layering rule: r2l_viewer.core and trainers never import Qt, pyqtgraph or OpenGL, and imports run one way
(app -> trainers -> core): core never imports trainers or the app, trainers never imports the app."""

import pkgutil
import subprocess
import sys

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
