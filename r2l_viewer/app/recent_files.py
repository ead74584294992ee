"""The scenes opened lately, newest first, kept in a small JSON file in the viewer's config folder."""

from __future__ import annotations

import json
import os
from pathlib import Path

MAX_RECENT = 8


def config_folder() -> Path:
    """$R2L_VIEWER_CONFIG, else $XDG_CONFIG_HOME/r2l-viewer or ~/.config/r2l-viewer."""
    if os.environ.get("R2L_VIEWER_CONFIG"):
        return Path(os.environ["R2L_VIEWER_CONFIG"])
    base = os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config"
    return Path(base) / "r2l-viewer"


class RecentFiles:
    """Paths of opened scene checkpoints; a file that cannot be read or written only costs the list."""

    def __init__(self, path: Path | None = None):
        self.path = path or config_folder() / "recent.json"

    def _stored(self) -> list[str]:
        try:
            paths = json.loads(self.path.read_text())
        except (OSError, ValueError):
            return []
        return [p for p in paths if isinstance(p, str)] if isinstance(paths, list) else []

    def paths(self) -> list[Path]:
        """The recent scenes that still exist, newest first."""
        return [Path(p) for p in self._stored() if Path(p).is_file()]

    def add(self, path: Path) -> None:
        """Put `path` first (once), keeping at most MAX_RECENT."""
        entry = str(Path(path).resolve())
        paths = [entry] + [p for p in self._stored() if p != entry]
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.path.write_text(json.dumps(paths[:MAX_RECENT], indent=1))
        except OSError:
            pass  # a read-only config folder: the list is not kept, opening still works
