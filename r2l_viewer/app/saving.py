"""Where S saves the rendered view: the user's pictures folder, else the current folder (not a source checkout),
else the cache."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import numpy as np
from PyQt6.QtCore import QBuffer, QIODevice

from r2l_viewer.core.image_files import ImageWriteError, write_file_atomically, write_png

from r2l_viewer.app.session import cache_folder


def pictures_folder() -> Path:
    """The user's pictures folder: XDG_PICTURES_DIR from ~/.config/user-dirs.dirs when set, else ~/Pictures."""
    home = Path.home()
    config = Path(os.environ.get("XDG_CONFIG_HOME") or home / ".config") / "user-dirs.dirs"
    try:
        found = re.search(r'^XDG_PICTURES_DIR="(.+)"', config.read_text(), re.MULTILINE)
    except (OSError, UnicodeDecodeError):
        found = None
    return Path(found.group(1).replace("$HOME", str(home))) if found else home / "Pictures"


def is_source_checkout(folder: Path) -> bool:
    """Whether a folder is a git checkout (a project's sources: no place for screenshots)."""
    return (folder / ".git").exists()


def view_folders() -> list[Path]:
    """The folders to try, in order: the pictures folder (if there is one), the current folder (if it still
    exists and is not a source checkout), the cache."""
    folders = []
    pictures = pictures_folder()
    if pictures.is_dir():
        folders.append(pictures)
    try:
        here = Path(os.getcwd())
    except OSError:  # the folder the viewer was started in was deleted
        here = None
    if here is not None and not is_source_checkout(here):
        folders.append(here)
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
            return write_png(path, rgb)  # written whole under its name, or not at all
        except ImageWriteError as exc:
            errors.append(f"{folder}: {exc.reason}")
        except OSError as exc:
            errors.append(f"{folder}: {exc.strerror or exc}")
    raise OSError(f"could not save the view ({'; '.join(errors)})")


def save_pixmap_png(pixmap, path: str | Path) -> Path:
    """Write a QPixmap (a grabbed window) as a PNG through the one image writer (see core/image_files.py); an
    ImageWriteError when it cannot be written, and nothing left under `path`."""
    buffer = QBuffer()
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    if not pixmap.save(buffer, "PNG"):
        raise ImageWriteError(Path(path), "the window could not be encoded as a PNG")
    return write_file_atomically(path, bytes(buffer.data()))
