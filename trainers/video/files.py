"""Where a video job's frames go: an H.264 mp4 (imageio's ffmpeg plugin) or a folder of PNGs, written under a
temporary name in the same folder and renamed to the name asked for only when complete, so a stopped or failed
render never leaves a half-written file under that name (nor touches an older file there)."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import imageio.v2 as imageio_v2
import numpy as np

from r2l_viewer.core.image_files import write_png

from trainers.errors import JobError

VIDEO_SUFFIX = ".mp4"


def output_kind(out: Path) -> str:
    """'mp4' for a .mp4 file, 'png' for a name without a suffix (a folder of frames); a JobError otherwise."""
    if out.suffix.lower() == VIDEO_SUFFIX:
        return "mp4"
    if out.suffix == "":
        return "png"
    raise JobError(f"{out}: give a .mp4 file for a video, or a name without a suffix for a folder of PNG frames "
                   f"({out.suffix} is neither)")


def check_output(out: Path, overwrite: bool) -> str:
    """The output's kind, once it is known to be writable; a JobError saying what to do otherwise."""
    kind = output_kind(out)
    if kind == "mp4" and out.is_dir():
        raise JobError(f"{out}: is a folder; give a file name ending in .mp4")
    if kind == "png" and out.exists() and not out.is_dir():
        raise JobError(f"{out}: is a file; give a folder name for the PNG frames (or a .mp4 name for a video)")
    if out.exists() and not overwrite:
        raise JobError(f"{out}: already exists; choose another name, or replace it (--force)")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise JobError(f"cannot create {out.parent} ({exc.strerror or exc}); choose another output") from None
    if not os.access(out.parent, os.W_OK):
        raise JobError(f"cannot write into {out.parent}; choose another output")
    return kind


def even_frame(frame: np.ndarray) -> np.ndarray:
    """A frame [H, W, 3] with each odd side made even by repeating its last row or column (H.264 in yuv420p
    stores colour at half resolution, so both sides must be even)."""
    h, w = frame.shape[:2]
    return np.pad(frame, ((0, h % 2), (0, w % 2), (0, 0)), mode="edge") if h % 2 or w % 2 else frame


class Mp4Writer:
    """Frames into an H.264 (yuv420p) mp4 that players open; `finish()` renames it into place, `abort()`
    deletes it."""

    def __init__(self, out: Path, fps: float, quality: int = 8):
        self.out = out
        handle, name = tempfile.mkstemp(prefix=f".{out.stem}.", suffix=f".partial{VIDEO_SUFFIX}", dir=out.parent)
        os.close(handle)
        self.temporary = Path(name)
        self.writer = imageio_v2.get_writer(self.temporary, format="FFMPEG", mode="I", fps=fps, codec="libx264",
                                            pixelformat="yuv420p", quality=quality, macro_block_size=1,
                                            ffmpeg_log_level="error")

    def write(self, frame: np.ndarray) -> None:
        self.writer.append_data(even_frame(frame))

    def finish(self) -> Path:
        self.writer.close()
        os.replace(self.temporary, self.out)
        return self.out

    def abort(self) -> None:
        try:
            self.writer.close()
        except Exception:
            pass  # ffmpeg may already be gone (killed, disk full): the file goes either way
        self.temporary.unlink(missing_ok=True)


class PngFolderWriter:
    """Frames as 00000.png, 00001.png, ... in a folder; `finish()` puts the folder in place (an older one there
    is removed only then), `abort()` deletes it."""

    def __init__(self, out: Path):
        self.out = out
        self.temporary = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".partial", dir=out.parent))
        self.count = 0

    def write(self, frame: np.ndarray) -> None:
        write_png(self.temporary / f"{self.count:05d}.png", frame)
        self.count += 1

    def finish(self) -> Path:
        old = None
        if self.out.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{self.out.name}.", suffix=".old", dir=self.out.parent))
            os.replace(self.out, old / self.out.name)
        os.replace(self.temporary, self.out)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
        return self.out

    def abort(self) -> None:
        shutil.rmtree(self.temporary, ignore_errors=True)


def open_writer(out: Path, kind: str, fps: float, quality: int):
    """An Mp4Writer or a PngFolderWriter for a checked output (see `check_output`)."""
    return Mp4Writer(out, fps, quality) if kind == "mp4" else PngFolderWriter(out)
