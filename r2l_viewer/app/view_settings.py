"""What the live view shows, remembered across sessions: render mode, split view and divider, in a small JSON file."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from r2l_viewer.app.recent_files import config_folder

MODES = ("colour", "depth", "error")
DIVIDER_LIMITS = (0.02, 0.98)  # the divider stays this far inside the image, so both sides can be grabbed


@dataclass
class ViewSettings:
    """The render mode (colour, depth or error), whether the split view is on, and where its divider sits (the
    share of the image's width left of it)."""

    mode: str = "colour"
    split: bool = False
    divider: float = 0.5

    def __post_init__(self):
        self.clean()

    def clean(self) -> None:
        """Any value out of place back to what it can be: an unknown mode to colour, the divider inside its limits."""
        self.mode = self.mode if self.mode in MODES else "colour"
        self.split = bool(self.split)
        try:
            self.divider = min(max(float(self.divider), DIVIDER_LIMITS[0]), DIVIDER_LIMITS[1])
        except (TypeError, ValueError):
            self.divider = 0.5

    @staticmethod
    def default_path() -> Path:
        return config_folder() / "view.json"

    @classmethod
    def load(cls, path: Path | None = None) -> "ViewSettings":
        """The remembered settings; the defaults when the file is missing or unreadable (a bad value: its default)."""
        try:
            stored = json.loads((path or cls.default_path()).read_text())
        except (OSError, ValueError):
            return cls()
        if not isinstance(stored, dict):
            return cls()
        return cls(**{k: v for k, v in stored.items() if k in cls.__dataclass_fields__})

    def save(self, path: Path | None = None) -> None:
        """Remember these settings; a folder that cannot be written only costs the memory."""
        path = path or self.default_path()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(asdict(self), indent=1))
        except OSError:
            pass
