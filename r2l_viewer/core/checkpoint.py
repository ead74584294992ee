"""The scene checkpoint (`scene.ckpt`): plain tensors and values only, versioned, written atomically."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

import torch

from .checksums import ChecksumMismatch, verify_checksums, with_checksums
from .datasets.base import SceneMeta
from .models import TEACHER_KINDS, ModelRecordError, model_from_record
from .plain_files import CheckpointError, atomic_save, load_payload

# Layout of the payload (a dict, loadable with `torch.load(path, weights_only=True)`):
#     format: "r2l-viewer.scene", version: int
#     scene: SceneMeta as a plain dict (name, near/far, background, intrinsics, orbit, box, source path, ...)
#     cameras: {split: camera-to-world poses [N, 4, 4]} of the dataset, for stepping through its views
#     teacher: None or {kind, config, weights, step, ...}   (kind: "grid" or "nerf")
#     student: None or {kind: "student", config, weights, stage: "distilled" | "finetuned", step, ...}
#     history: list of metric records (dicts), oldest first
#     checksums: {algorithm, parts: {part: hex digest}} of every tensor and each section's plain values (see
#         core/checksums.py); files saved before it existed have none and open with a note (UNCHECKED_NOTE)
FORMAT = "r2l-viewer.scene"
VERSION = 1
STUDENT_STAGES = ("distilled", "finetuned")
DAMAGED = ("{origin}: damaged: {part} changed since the file was saved (checksum mismatch); restore a copy of it, "
           "or write it again with r2l-train")
UNCHECKED_NOTE = ("{origin}: note: saved before scene files carried checksums, so damage to it cannot be detected; "
                  "the next r2l-train job that saves it adds them")
_noted_unchecked: set[str] = set()


@dataclass
class SceneCheckpoint:
    """An opened scene: metadata, dataset cameras, teacher and student records, metric history; `origin` names
    the file it came from in error messages and `unchecked` says it had no checksums (neither is saved)."""

    meta: SceneMeta
    cameras: dict[str, torch.Tensor] = field(default_factory=dict)
    teacher: dict | None = None
    student: dict | None = None
    history: list[dict] = field(default_factory=list)
    origin: str = field(default="checkpoint", compare=False)
    unchecked: bool = field(default=False, compare=False)

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
        _check_version(payload, origin)
        try:
            checked = verify_checksums(payload)
        except ChecksumMismatch as exc:
            raise CheckpointError(DAMAGED.format(origin=origin, part=exc)) from None
        try:
            meta = SceneMeta.from_dict(payload["scene"])
        except (KeyError, TypeError, ValueError) as exc:
            raise CheckpointError(f"{origin}: scene metadata is incomplete ({exc})") from None
        teacher, student = payload.get("teacher"), payload.get("student")
        _check_model_record(teacher, TEACHER_KINDS, "teacher", origin)
        _check_model_record(student, ("student",), "student", origin)
        if student is not None and student.get("stage") not in STUDENT_STAGES:
            raise CheckpointError(f"{origin}: student stage {student.get('stage')!r} is not one of "
                                  f"{', '.join(STUDENT_STAGES)}")
        cameras = _checked_cameras(payload.get("cameras"), origin)
        history = payload.get("history")
        history = [] if history is None else history
        if not isinstance(history, list) or not all(isinstance(h, dict) for h in history):
            raise CheckpointError(f"{origin}: history is malformed (expected a list of records)")
        return cls(meta, cameras, teacher, student, list(history), origin, unchecked=not checked)

    def reference_pose(self) -> torch.Tensor | None:
        """The camera figures that depend on the view are measured from: the first test camera, else the first
        validation or training one; None without cameras."""
        for split in ("test", "val", "train", *self.cameras):
            poses = self.cameras.get(split)
            if poses is not None and len(poses):
                return poses[0]
        return None

    def build_teacher(self, device="cpu") -> torch.nn.Module | None:
        return None if self.teacher is None else self._build(self.teacher, device)

    def build_student(self, device="cpu") -> torch.nn.Module | None:
        return None if self.student is None else self._build(self.student, device)

    def _build(self, record: dict, device) -> torch.nn.Module:
        try:
            return model_from_record(record, device)
        except ModelRecordError as exc:
            raise ModelRecordError(f"{self.origin}: {exc}") from None


def _check_version(payload: dict, origin: str) -> None:
    if "version" not in payload:
        raise CheckpointError(f"{origin}: has no format version; it was not written by R2L Viewer")
    version = payload["version"]
    if type(version) is not int or version < 1:
        raise CheckpointError(f"{origin}: format version {version!r} is not valid (a whole number from 1)")
    if version > VERSION:
        raise CheckpointError(
            f"{origin}: format version {version} is newer than this R2L Viewer reads ({VERSION}); upgrade it"
        )


def _check_model_record(record, kinds: tuple, role: str, origin: str) -> None:
    if record is None:
        return
    if not isinstance(record, dict) or record.get("kind") not in kinds:
        raise CheckpointError(f"{origin}: {role} record is malformed (kind should be one of {', '.join(kinds)})")
    if not isinstance(record.get("config"), dict) or not isinstance(record.get("weights"), dict):
        raise CheckpointError(f"{origin}: {role} record is malformed (it needs a config and weights)")


def _checked_cameras(cameras, origin: str) -> dict[str, torch.Tensor]:
    if cameras is None:
        return {}
    ok = isinstance(cameras, dict) and all(
        isinstance(k, str) and isinstance(v, torch.Tensor) and v.ndim == 3 and tuple(v.shape[1:]) == (4, 4)
        for k, v in cameras.items()
    )
    if not ok:
        raise CheckpointError(f"{origin}: cameras are malformed (expected {{split: poses [N, 4, 4]}})")
    return dict(cameras)


def save_scene(path: str | Path, checkpoint: SceneCheckpoint) -> Path:
    """Write a scene checkpoint with the checksums of its parts, atomically (see `atomic_save`); a payload that
    would not load back is refused."""
    return atomic_save(path, with_checksums(checkpoint.to_payload()))


def note_unchecked(checkpoint: SceneCheckpoint) -> None:
    """Print UNCHECKED_NOTE on stderr for a file without checksums, once per file and process."""
    key = str(Path(checkpoint.origin).resolve())
    if checkpoint.unchecked and key not in _noted_unchecked:
        _noted_unchecked.add(key)
        print(UNCHECKED_NOTE.format(origin=checkpoint.origin), file=sys.stderr)


def load_scene(path: str | Path) -> SceneCheckpoint:
    """Open a scene checkpoint without running any code from it, checking it against its checksums (a file
    without them opens with a note, see `note_unchecked`)."""
    checkpoint = SceneCheckpoint.from_payload(load_payload(path), str(path))
    note_unchecked(checkpoint)
    return checkpoint


__all__ = [
    "FORMAT", "VERSION", "STUDENT_STAGES", "DAMAGED", "UNCHECKED_NOTE", "CheckpointError", "SceneCheckpoint",
    "atomic_save", "load_payload", "load_scene", "note_unchecked", "save_scene",
]
