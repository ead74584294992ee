"""The opened scene as the app's model: checkpoint, device, teacher and student; views subscribe to its signals."""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import torch
from PyQt6.QtCore import QObject, pyqtSignal

from r2l_viewer.core.assets import demo_checkpoint_path
from r2l_viewer.core.checkpoint import CheckpointError, SceneCheckpoint, load_scene
from r2l_viewer.core.models import ModelRecordError
from r2l_viewer.core.model_text import stage_text

BUNDLED_DEMO = demo_checkpoint_path()


@dataclass
class LoadedScene:
    """A checkpoint and its models built on a device (either model may be None)."""

    path: Path
    checkpoint: SceneCheckpoint
    teacher: torch.nn.Module | None
    student: torch.nn.Module | None


def open_scene(path: str | Path, device: torch.device) -> LoadedScene:
    """Load a checkpoint and build its models; a CheckpointError (one line) when either step fails."""
    checkpoint = load_scene(path)
    try:
        teacher, student = checkpoint.build_teacher(device), checkpoint.build_student(device)
    except ModelRecordError as exc:  # its message already names the file
        raise CheckpointError(str(exc)) from None
    return LoadedScene(Path(path), checkpoint, teacher, student)


def cache_folder() -> Path:
    """Where the viewer keeps its files: $R2L_VIEWER_CACHE, else $XDG_CACHE_HOME/r2l-viewer or ~/.cache/r2l-viewer."""
    if os.environ.get("R2L_VIEWER_CACHE"):
        return Path(os.environ["R2L_VIEWER_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "r2l-viewer"


def new_copy_folder(stem: str) -> Path:
    """A fresh folder in the cache for this session's copy of `stem`, named by the time (never an old one)."""
    base = cache_folder() / time.strftime(f"{stem}-%Y%m%d-%H%M%S")
    folder, n = base, 1
    while folder.exists():
        n += 1
        folder = base.with_name(f"{base.name}-{n}")
    folder.mkdir(parents=True)
    return folder


class SceneSession(QObject):
    """What is open: the checkpoint path (where jobs save), the models shown, the device. Signals on change."""

    scene_changed = pyqtSignal()  # a (re)loaded checkpoint: everything may differ
    opened = pyqtSignal()  # another checkpoint was opened (before scene_changed): views start afresh on it
    student_changed = pyqtSignal()  # new student weights (a training snapshot or a reload)
    teacher_changed = pyqtSignal()

    def __init__(self, loaded: LoadedScene, device: torch.device, parent=None):
        super().__init__(parent)
        self.device = device
        self._apply(loaded)

    def _apply(self, loaded: LoadedScene) -> None:
        self.path = loaded.path
        self.checkpoint = loaded.checkpoint
        self.teacher = loaded.teacher
        self.student = loaded.student
        self.student_label = self._stage_label()

    def _stage_label(self) -> str:
        record = self.checkpoint.student
        return f"student ({stage_text(record) or '?'})" if record else "student"

    @property
    def meta(self):
        return self.checkpoint.meta

    def replace(self, loaded: LoadedScene) -> None:
        """Show a freshly loaded checkpoint (after a job saved into it)."""
        self._apply(loaded)
        self.scene_changed.emit()

    def open(self, loaded: LoadedScene) -> None:
        """Show another checkpoint (File > Open, a dropped file): jobs save into it from now on."""
        self._apply(loaded)
        self.opened.emit()
        self.scene_changed.emit()

    def set_student(self, model, label: str) -> None:
        self.student, self.student_label = model, label
        self.student_changed.emit()

    def set_teacher(self, model) -> None:
        self.teacher = model
        self.teacher_changed.emit()

    def live_model(self) -> tuple[torch.nn.Module | None, str]:
        """The model the canvas renders: the student, else the teacher (slow), else nothing."""
        if self.student is not None:
            return self.student, self.student_label
        if self.teacher is not None:
            return self.teacher, "teacher (no student yet)"
        return None, ""

    def dataset_cameras(self) -> list[tuple[str, int, torch.Tensor]]:
        """(split, index, pose) of every dataset camera in the checkpoint, split by split."""
        return [(split, i, pose) for split, poses in self.checkpoint.cameras.items() for i, pose in enumerate(poses)]

    def is_writable(self) -> bool:
        folder = self.path.parent
        return self.path.resolve() != BUNDLED_DEMO.resolve() and os.access(folder, os.W_OK) and (
            not self.path.exists() or os.access(self.path, os.W_OK))

    def job_path(self) -> tuple[Path, str | None]:
        """The checkpoint jobs save into, and a note when it is a copy. The bundled demo (or a file we cannot
        write) stays as it is: the session's first job copies it into a new folder of the cache, so the results
        of earlier sessions are never overwritten; later jobs of the session continue in that copy."""
        if self.is_writable():
            return self.path, None
        copy = new_copy_folder(self.path.stem) / self.path.name
        shutil.copyfile(self.path, copy)
        why = ("the bundled demo stays as shipped" if self.path.resolve() == BUNDLED_DEMO.resolve()
               else f"{self.path.name} cannot be written here")
        note = (f"{why}, so this training goes into a new copy: {copy} (open it later with File > Open, or: "
                f"r2l-viewer {copy})")
        self.path = copy
        return copy, note
