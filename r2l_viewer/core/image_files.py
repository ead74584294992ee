"""The one writer of image files (PNG frames, evaluation images, contact sheets, screenshots): encoded in memory,
written under a temporary name beside the target, synced and renamed, so a full disk or a crash never leaves a
partial file under the name asked for; every failure is one line."""

from __future__ import annotations

import errno
from pathlib import Path

import imageio.v3 as iio
import numpy as np

from .errors import UserError
from .finite import check_finite_image
from .plain_files import write_replacing

FULL_DISK = {errno.ENOSPC: "disk full", errno.EDQUOT: "disk quota exceeded"}


class ImageWriteError(UserError):
    """An image file could not be written; the message names it and says what to do (nothing is left under it);
    `reason` is the message without the file's name."""

    def __init__(self, path: Path, reason: str):
        super().__init__(f"{path}: {reason}")
        self.reason = reason


def _write_error(path: Path, exc: OSError) -> ImageWriteError:
    if exc.errno in FULL_DISK:
        return ImageWriteError(path, f"{FULL_DISK[exc.errno]} while writing it; nothing was left under that name: "
                               "free some space or write somewhere else")
    return ImageWriteError(path, f"cannot write it ({exc.strerror or exc}); choose another folder")


def write_file_atomically(path: str | Path, data: bytes) -> Path:
    """Write `data` to `path` through a temporary file, synced and renamed (`plain_files.write_replacing`); any
    failure leaves nothing new behind and raises an ImageWriteError (an older file under `path` stays as it was)."""
    path = Path(path)
    try:
        write_replacing(path, lambda file: file.write(data))
    except OSError as exc:
        raise _write_error(path, exc) from None
    return path


def png_bytes(image: np.ndarray) -> bytes:
    """An image [H, W, 3] or [H, W] (uint8 or uint16; floats must be checked and converted first) as PNG bytes."""
    return iio.imwrite("<bytes>", image, extension=".png")


def write_png(path: str | Path, image: np.ndarray) -> Path:
    """Write `image` (uint8/uint16 [H, W(, C)]) as a PNG at `path` (see `write_file_atomically`); an image of
    floats holding NaN or Inf is refused before anything is written."""
    check_finite_image(image, str(path))
    return write_file_atomically(path, png_bytes(np.asarray(image)))
