"""The scene checkpoint (`scene.ckpt`): plain tensors and values only, versioned, written atomically.

Layout of the payload (a dict, loadable with `torch.load(path, weights_only=True)`):
    format: "r2l-viewer.scene", version: int
    scene: SceneMeta as a plain dict (name, near/far, background, intrinsics, orbit, box, source path, ...)
    cameras: {split: camera-to-world poses [N, 4, 4]} of the dataset, for stepping through its views
    teacher: None or {kind, config, weights, step, ...}   (kind: "grid" or "nerf")
    student: None or {kind: "student", config, weights, stage: "distilled" | "finetuned", step, ...}
    history: list of metric records, oldest first
"""

from __future__ import annotations

import errno
import os
import pickle
from dataclasses import dataclass, field
from pathlib import Path

import torch

from .datasets.base import SceneMeta
from .models import TEACHER_KINDS, model_from_record

FORMAT = "r2l-viewer.scene"
VERSION = 1
STUDENT_STAGES = ("distilled", "finetuned")


class CheckpointError(ValueError):
    """A scene checkpoint cannot be read or written; the message names the file and says what to do."""


@dataclass
class SceneCheckpoint:
    """An opened scene: metadata, dataset cameras, teacher and student records, metric history."""

    meta: SceneMeta
    cameras: dict[str, torch.Tensor] = field(default_factory=dict)
    teacher: dict | None = None
    student: dict | None = None
    history: list[dict] = field(default_factory=list)

    def to_payload(self) -> dict:
        return {
            "format": FORMAT,
            "version": VERSION,
            "scene": self.meta.to_dict(),
            "cameras": {k: v.detach().cpu().float() for k, v in self.cameras.items()},
            "teacher": self.teacher,
            "student": self.student,
            "history": list(self.history),
        }

    @classmethod
    def from_payload(cls, payload, origin: str = "checkpoint") -> "SceneCheckpoint":
        """Validate a loaded payload; a CheckpointError names what is missing or wrong."""
        if not isinstance(payload, dict) or payload.get("format") != FORMAT:
            raise CheckpointError(f"{origin}: not an R2L Viewer scene checkpoint (no '{FORMAT}' format marker)")
        version = payload.get("version")
        if not isinstance(version, int) or version > VERSION:
            raise CheckpointError(
                f"{origin}: format version {version!r} is newer than this R2L Viewer reads ({VERSION}); upgrade it"
            )
        try:
            meta = SceneMeta.from_dict(payload["scene"])
        except (KeyError, TypeError, ValueError) as exc:
            raise CheckpointError(f"{origin}: scene metadata is incomplete ({exc})") from None
        teacher, student = payload.get("teacher"), payload.get("student")
        if teacher is not None and (not isinstance(teacher, dict) or teacher.get("kind") not in TEACHER_KINDS):
            raise CheckpointError(f"{origin}: teacher record is malformed")
        if student is not None and (not isinstance(student, dict) or student.get("kind") != "student"):
            raise CheckpointError(f"{origin}: student record is malformed")
        cameras = payload.get("cameras") or {}
        return cls(meta, dict(cameras), teacher, student, list(payload.get("history") or []))

    def build_teacher(self, device="cpu") -> torch.nn.Module | None:
        return None if self.teacher is None else model_from_record(self.teacher, device)

    def build_student(self, device="cpu") -> torch.nn.Module | None:
        return None if self.student is None else model_from_record(self.student, device)


def save_scene(path: str | Path, checkpoint: SceneCheckpoint) -> Path:
    """Write a scene checkpoint atomically (see `atomic_save`)."""
    return atomic_save(path, checkpoint.to_payload())


def atomic_save(path: str | Path, payload) -> Path:
    """torch.save to a temporary file in the same folder, flushed to disk, then renamed over `path`: a crash or
    a full disk leaves the previous file as it was."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as f:
            torch.save(payload, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        if exc.errno == errno.ENOSPC:
            raise CheckpointError(f"{path}: disk full while saving; the previous checkpoint is untouched") from None
        raise CheckpointError(f"{path}: cannot write ({exc.strerror or exc})") from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def load_payload(path: str | Path):
    """`torch.load` with weights_only=True and every failure turned into a one-line CheckpointError."""
    path = Path(path)
    if not path.exists():
        raise CheckpointError(f"{path}: no such file")
    if path.is_dir():
        raise CheckpointError(f"{path}: is a folder, not a checkpoint file")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:
        raise CheckpointError(
            f"{path}: refused: it holds Python objects that would run code when loaded; "
            "scene checkpoints hold only tensors and plain values"
        ) from None
    except Exception:  # torch.load raises many kinds for damaged or foreign files
        raise CheckpointError(
            f"{path}: not a readable scene checkpoint (truncated, corrupt, or another kind of file)"
        ) from None


def load_scene(path: str | Path) -> SceneCheckpoint:
    """Open a scene checkpoint without running any code from it."""
    return SceneCheckpoint.from_payload(load_payload(path), str(path))
