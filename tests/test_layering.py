"""The layering rule: r2l_viewer.core and trainers never import Qt, pyqtgraph or OpenGL."""

import pkgutil
import subprocess
import sys

import r2l_viewer.core
import trainers


def _modules(package) -> list[str]:
    return [m.name for m in pkgutil.walk_packages(package.__path__, package.__name__ + ".")]


def test_core_and_trainers_import_no_gui_libraries():
    names = _modules(r2l_viewer.core) + _modules(trainers)
    assert len(names) > 10
    code = (
        "import importlib, sys\n"
        f"for name in {names!r}: importlib.import_module(name)\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('PyQt6', 'pyqtgraph', 'OpenGL'))\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""
