"""Where S saves the rendered view: the current folder when it can be written, else ~/Pictures, else the cache."""

from __future__ import annotations

import os
import time
from pathlib import Path

import imageio.v3 as iio
import numpy as np

from .session import cache_folder


def view_folders() -> list[Path]:
    """The folders to try, in order: the current one (if it still exists), ~/Pictures (if there is one), the cache."""
    folders = []
    try:
        folders.append(Path(os.getcwd()))
    except OSError:  # the folder the viewer was started in was deleted
        pass
    pictures = Path.home() / "Pictures"
    if pictures.is_dir():
        folders.append(pictures)
    folders.append(cache_folder() / "views")
    return folders


def free_name(folder: Path, stem: str) -> Path:
    path, n = folder / f"{stem}.png", 1
    while path.exists():
        n += 1
        path = folder / f"{stem}-{n}.png"
    return path


def save_view_png(rgb: np.ndarray, folders: list[Path] | None = None) -> Path:
    """Write `rgb` as r2l-view-<time>.png into the first folder that takes it; its path. OSError (one line, naming
    every folder tried) when none does."""
    stem = time.strftime("r2l-view-%Y%m%d-%H%M%S")
    errors = []
    for folder in folders or view_folders():
        path = None
        try:
            folder.mkdir(parents=True, exist_ok=True)
            path = free_name(folder, stem)
            iio.imwrite(path, rgb, extension=".png")
            return path
        except OSError as exc:
            errors.append(f"{folder}: {exc.strerror or exc}")
            if path is not None and path.exists():
                path.unlink(missing_ok=True)  # no half-written file left behind
    raise OSError(f"could not save the view ({'; '.join(errors)})")
