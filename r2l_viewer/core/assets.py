"""Where the bundled demo scene is: the repository's assets/ folder, or the copy `pip install .` puts in its prefix."""

from __future__ import annotations

import site
import sys
import sysconfig
from pathlib import Path

DEMO_NAME = "demo.ckpt"
REPO_ASSETS = Path(__file__).resolve().parents[2] / "assets"  # a clone, or an editable install of one
INSTALLED_ASSETS = ("share", "r2l-viewer")  # <prefix>/share/r2l-viewer: [tool.setuptools.data-files] in pyproject.toml


def _install_prefixes() -> list[Path]:
    """Where pip may have put the package's data files: this environment's prefix, then the user's."""
    prefixes = [sys.prefix, sysconfig.get_path("data"), site.getuserbase()]  # the last for `pip install --user`
    return list(dict.fromkeys(Path(p) for p in prefixes if p))


def demo_checkpoint_candidates() -> list[Path]:
    """Every place the bundled demo checkpoint is looked for, in order."""
    return [REPO_ASSETS / DEMO_NAME] + [prefix.joinpath(*INSTALLED_ASSETS, DEMO_NAME) for prefix in _install_prefixes()]


def demo_checkpoint_path() -> Path:
    """The bundled demo scene checkpoint: the first candidate that exists, else the repository's path (opening it
    then reports the missing file by that name)."""
    candidates = demo_checkpoint_candidates()
    return next((path for path in candidates if path.is_file()), candidates[0])
