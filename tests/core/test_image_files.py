"""The one image writer: a PNG is whole under its name or not there at all; a full disk (or quota) is one line and
leaves no partial file, and an older file under the name stays as it was."""

import errno
import io
import os

import imageio.v3 as iio
import numpy as np
import pytest

from r2l_viewer.core import plain_files
from r2l_viewer.core.finite import NonFiniteError
from r2l_viewer.core.image_files import ImageWriteError, png_bytes, write_png

IMAGE = (np.arange(48 * 40 * 3) % 251).astype(np.uint8).reshape(48, 40, 3)


class DiskWithRoom(io.FileIO):
    """A file on a disk with `room` bytes free: writes fit until the room is used up, then raise `code`."""

    def __init__(self, path, room: int, code: int = errno.ENOSPC):
        super().__init__(path, "w")
        self.room, self.code = room, code

    def write(self, data) -> int:
        if len(data) > self.room:
            raise OSError(self.code, os.strerror(self.code))
        self.room -= len(data)
        return super().write(data)


def fill(folder, room: int) -> None:
    """Leave about `room` bytes free on the (small) disk holding `folder`."""
    stats = os.statvfs(folder)
    (folder / "filler").write_bytes(b"\0" * max(stats.f_bavail * stats.f_frsize - room, 0))


def test_a_png_round_trips_exactly(tmp_path):
    path = write_png(tmp_path / "a.png", IMAGE)
    assert np.array_equal(iio.imread(path), IMAGE) and [p.name for p in tmp_path.iterdir()] == ["a.png"]


@pytest.mark.parametrize("code,words", [(errno.ENOSPC, "disk full"), (errno.EDQUOT, "disk quota exceeded")])
@pytest.mark.parametrize("fraction", [0.0, 0.5, 0.99])
def test_a_full_disk_is_one_line_and_leaves_the_older_file(tmp_path, monkeypatch, fraction, code, words):
    path = write_png(tmp_path / "a.png", IMAGE // 2)
    before = path.read_bytes()
    room = int(len(png_bytes(IMAGE)) * fraction)
    monkeypatch.setattr(plain_files, "open", lambda name, mode: io.BufferedWriter(DiskWithRoom(name, room, code)),
                        raising=False)
    with pytest.raises(ImageWriteError) as e:
        write_png(path, IMAGE)
    assert str(e.value).startswith(f"{path}: {words} while writing it; nothing was left under that name")
    assert "\n" not in str(e.value)
    assert path.read_bytes() == before and [p.name for p in tmp_path.iterdir()] == ["a.png"]


def test_a_disk_full_when_syncing_leaves_no_file(tmp_path, monkeypatch):
    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(plain_files.os, "fsync", full)
    with pytest.raises(ImageWriteError, match="disk full"):
        write_png(tmp_path / "a.png", IMAGE)
    assert list(tmp_path.iterdir()) == []


def test_a_really_full_disk(small_disk):
    fill(small_disk, 1024)
    with pytest.raises(ImageWriteError, match="disk full while writing it"):
        write_png(small_disk / "a.png", np.random.default_rng(0).integers(0, 255, (64, 64, 3), dtype=np.uint8))
    assert [p.name for p in small_disk.iterdir()] == ["filler"]


def test_a_folder_that_cannot_be_written_is_one_line(tmp_path):
    with pytest.raises(ImageWriteError) as e:
        write_png(tmp_path / "missing" / "a.png", IMAGE)
    assert "cannot write it (No such file or directory)" in str(e.value) and "\n" not in str(e.value)


def test_floats_holding_nan_are_refused_before_anything_is_written(tmp_path):
    image = np.zeros((4, 4, 3), np.float32)
    image[1, 2, 0] = np.nan
    with pytest.raises(NonFiniteError, match="1 non-finite values"):
        write_png(tmp_path / "a.png", image)
    assert list(tmp_path.iterdir()) == []
