"""Plain-data torch files: payload validation, atomic writes, and loading that never runs code from the file."""

from __future__ import annotations

import collections
import errno
import io
import os
import pickletools
import threading
import zipfile
from pathlib import Path

import torch

from .errors import UserError

PLAIN_SCALARS = (str, int, float, bool, type(None))
PLAIN_TEXT = "tensors, dict, list, tuple, str, int, float, bool and None"
ZIP_MAGIC = b"PK\x03\x04"
PICKLE_PROTOCOL = b"\x80"
LEGACY_TORCH_MAGIC = 0x1950A86A20F9469CFC6C  # the first value of a pre-1.6 (non-zip) torch.save file
PICKLE_SCAN_BYTES = 16 << 20  # how much of a pickle file is searched for globals (its tensors' bytes come later)


class CheckpointError(UserError):
    """A checkpoint file cannot be read or written; the message names the file and says what to do."""


def plain_data_problem(value, where: str = "payload") -> str | None:
    """Where in `value` something is that a weights-only load would refuse ('history[0].note is a PosixPath'),
    or None when it is all tensors and plain values."""
    kind = type(value)
    if kind in PLAIN_SCALARS or kind in (torch.Tensor, torch.nn.Parameter):
        return None
    if kind in (dict, collections.OrderedDict):
        for key, item in value.items():
            if type(key) not in PLAIN_SCALARS:
                return f"{where} has a key of type {type(key).__name__} ({key!r:.40})"
            problem = plain_data_problem(item, f"{where}.{key}" if where else str(key))
            if problem:
                return problem
        return None
    if kind in (list, tuple, torch.Size):
        for i, item in enumerate(value):
            problem = plain_data_problem(item, f"{where}[{i}]")
            if problem:
                return problem
        return None
    return f"{where} is a {kind.__module__}.{kind.__qualname__}"


def _temporary_path(path: Path) -> Path:
    """A name beside `path` that no other process or thread writing the same file uses."""
    return path.with_name(f".{path.name}.{os.getpid()}-{threading.get_ident()}.tmp")


def _fsync_folder(folder: Path) -> None:
    """Make a rename in `folder` durable where the system allows it (not on Windows)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


class _WriteErrorKeeper:
    """A file for torch.save that keeps the first OSError a write raised: torch's zip writer replaces it with an
    unrelated RuntimeError ('unexpected pos ...') when the disk fills part-way through."""

    def __init__(self, file):
        self.file, self.error = file, None

    def write(self, data) -> int:
        try:
            return self.file.write(data)
        except OSError as exc:
            self.error = self.error or exc
            raise

    def flush(self) -> None:
        self.file.flush()


def write_replacing(path: Path, write) -> None:
    """Call `write(file)` on a temporary file beside `path`, flush and sync it, rename it over `path` and make the
    rename durable; any failure removes the temporary file and is raised as it was (an older file under `path`
    stays as it was). The one temp-write-rename for every file the project writes whole."""
    tmp = _temporary_path(path)
    try:
        with open(tmp, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_folder(path.parent)


def _torch_save(payload, file) -> None:
    """torch.save into `file`; a failed write raises its own OSError, wherever it happened."""
    keeper = _WriteErrorKeeper(file)
    try:
        torch.save(payload, keeper)
    except Exception:
        if keeper.error is not None:
            raise keeper.error from None
        raise


def atomic_save(path: str | Path, payload) -> Path:
    """torch.save a plain-data payload to a temporary file in the same folder, flushed to disk, then renamed over
    `path`: a payload that would not load back, a crash or a full disk leaves the previous file as it was."""
    path = Path(path)
    problem = plain_data_problem(payload, "")
    if problem:
        raise CheckpointError(f"{path}: not saved: {problem}, but a checkpoint may hold only {PLAIN_TEXT}; "
                              "the previous file is untouched")
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        write_replacing(path, lambda file: _torch_save(payload, file))
    except OSError as exc:
        if exc.errno == errno.ENOSPC:
            raise CheckpointError(f"{path}: disk full while saving; the previous checkpoint is untouched") from None
        raise CheckpointError(f"{path}: cannot write ({exc.strerror or exc})") from None
    return path


def _pickle_globals(data: bytes, max_pickles: int = 8) -> list[str]:
    """The 'module.name' globals that the pickles at the start of `data` refer to (a legacy torch file is several
    pickles in a row), read without running anything; reading stops where the data stops being a pickle."""
    found, stream = [], io.BytesIO(data)
    for _ in range(max_pickles):
        strings = []
        try:
            for opcode, arg, _ in pickletools.genops(stream):
                if opcode.name == "GLOBAL":
                    found.append(arg.replace(" ", "."))
                elif opcode.name == "STACK_GLOBAL" and len(strings) >= 2:
                    found.append(f"{strings[-2]}.{strings[-1]}")
                elif isinstance(arg, str):
                    strings.append(arg)
        except Exception:  # not (or no longer) a pickle: what was read so far is what we know
            break
        if stream.tell() >= len(data):
            break
    return found


def _is_torch_global(name: str) -> bool:
    """Globals a plain torch.save payload uses: torch's tensor rebuilders, storages, dtypes, Size; OrderedDict."""
    module, _, attr = name.rpartition(".")
    rebuilder = module == "torch._utils" and attr.startswith("_rebuild")
    return name == "collections.OrderedDict" or module == "torch" or rebuilder


def _torch_zip_pickle(path: Path) -> bytes | None:
    """The pickle (data.pkl) inside a torch zip file, or None for a zip without one; zipfile.BadZipFile (or
    another error) when the archive is broken."""
    with zipfile.ZipFile(path) as archive:
        member = next((n for n in archive.namelist() if n.endswith("data.pkl")), None)
        return archive.read(member) if member else None


def _is_legacy_torch_file(head: bytes) -> bool:
    """Whether a file starts like a pre-1.6 torch.save file: protocol 2, then its magic number as a 10-byte long."""
    return head[:4] == b"\x80\x02\x8a\x0a" and int.from_bytes(head[4:14], "little") == LEGACY_TORCH_MAGIC


def _not_a_checkpoint(path: Path, what: str) -> CheckpointError:
    return CheckpointError(f"{path}: not a scene checkpoint ({what}); give a .ckpt written by r2l-train")


def _load_failure(path: Path) -> CheckpointError:
    """Why a file that torch.load(weights_only=True) refused is not a usable checkpoint, in one line: it would run
    code, it is a damaged torch file, or it is another kind of file."""
    with open(path, "rb") as f:
        head = f.read(16)
    if not head:
        return CheckpointError(f"{path}: empty file, not a scene checkpoint")
    damaged = CheckpointError(f"{path}: truncated or corrupt (a torch file that cannot be read to its end); "
                              "restore a copy or write it again with r2l-train")
    if head.startswith(ZIP_MAGIC):
        try:
            pickled = _torch_zip_pickle(path)
        except Exception:  # zipfile raises several kinds for broken archives
            return damaged
        if pickled is None:
            return _not_a_checkpoint(path, "a zip archive, not a torch file")
    elif head.startswith(PICKLE_PROTOCOL):
        with open(path, "rb") as f:
            pickled = f.read(PICKLE_SCAN_BYTES)
    else:
        return _not_a_checkpoint(path, "not a torch file")
    foreign = [g for g in _pickle_globals(pickled) if not _is_torch_global(g)]
    if foreign:
        return CheckpointError(
            f"{path}: refused: it holds Python objects that would run code when loaded ({foreign[0]}); "
            f"checkpoints hold only {PLAIN_TEXT}"
        )
    if head.startswith(ZIP_MAGIC) or _is_legacy_torch_file(head):
        return damaged
    return _not_a_checkpoint(path, "a Python pickle")


def load_payload(path: str | Path):
    """`torch.load` with weights_only=True (nothing in the file runs); every failure is a one-line CheckpointError."""
    path = Path(path)
    if not path.exists():
        raise CheckpointError(f"{path}: no such file")
    if path.is_dir():
        raise CheckpointError(f"{path}: is a folder, not a checkpoint file")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except PermissionError:
        raise CheckpointError(f"{path}: cannot read it (permission denied)") from None
    except Exception:  # torch.load raises many kinds (UnpicklingError, RuntimeError, OSError, ...) for such files
        try:
            failure = _load_failure(path)
        except OSError as exc:
            failure = CheckpointError(f"{path}: cannot read ({exc.strerror or exc})")
        raise failure from None
