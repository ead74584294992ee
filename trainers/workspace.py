"""Where a run's files live (the scene checkpoint and its companions) and what every job is given to run."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch

from r2l_viewer.core.checkpoint import CheckpointError, SceneCheckpoint, atomic_save, load_payload, load_scene, save_scene
from r2l_viewer.core.datasets import Dataset, load_dataset
from r2l_viewer.core.device import resolve_device

from .events import Event


class JobError(ValueError):
    """A job cannot run as asked; the message says why and what to do."""


@dataclass
class Workspace:
    """The scene checkpoint and, beside it, `<stem>.metrics.jsonl`, `<stem>.resume/` and `<stem>.pseudo/`."""

    checkpoint: Path

    def __post_init__(self):
        self.checkpoint = Path(self.checkpoint)

    def _beside(self, suffix: str) -> Path:
        return self.checkpoint.with_name(self.checkpoint.stem + suffix)

    @property
    def metrics_log(self) -> Path:
        return self._beside(".metrics.jsonl")

    @property
    def resume_dir(self) -> Path:
        return self._beside(".resume")

    @property
    def pseudo_dir(self) -> Path:
        return self._beside(".pseudo")

    def resume_path(self, job: str) -> Path:
        return self.resume_dir / f"{job}.pt"

    def log(self, event: Event) -> None:
        """Append one event to the JSON-lines metrics log."""
        self.metrics_log.parent.mkdir(parents=True, exist_ok=True)
        record = {"time": time.strftime("%Y-%m-%dT%H:%M:%S")} | event.to_record()
        with open(self.metrics_log, "a") as f:
            f.write(json.dumps(record) + "\n")

    def save_state(self, job: str, state: dict) -> None:
        atomic_save(self.resume_path(job), state)

    def load_state(self, job: str) -> dict | None:
        path = self.resume_path(job)
        return load_payload(path) if path.exists() else None

    def drop_state(self, job: str) -> None:
        self.resume_path(job).unlink(missing_ok=True)


@dataclass
class RunContext:
    """What a job needs besides its config: files, data, device, seed, resume and the stop flag."""

    workspace: Workspace
    data: str | None = None
    downscale: int | None = None
    device: str = "auto"
    seed: int = 0
    resume: bool = False
    force: bool = False
    stop: threading.Event = field(default_factory=threading.Event)
    _datasets: dict = field(default_factory=dict, repr=False)

    @property
    def torch_device(self) -> torch.device:
        return resolve_device(self.device)

    def scene(self) -> SceneCheckpoint | None:
        """The scene checkpoint, or None when it does not exist yet."""
        path = self.workspace.checkpoint
        return load_scene(path) if path.exists() else None

    def require_scene(self, needs: str) -> SceneCheckpoint:
        """The scene checkpoint, which must hold `needs` ('teacher' or 'student')."""
        scene = self.scene()
        if scene is None:
            raise JobError(f"{self.workspace.checkpoint}: no such scene checkpoint; train a teacher first (r2l-train teacher)")
        if getattr(scene, needs) is None:
            hint = "r2l-train teacher" if needs == "teacher" else "r2l-train distill"
            raise JobError(f"{self.workspace.checkpoint}: has no {needs}; run `{hint}` on it first")
        return scene

    def save_scene(self, scene: SceneCheckpoint) -> None:
        save_scene(self.workspace.checkpoint, scene)

    def data_source(self) -> tuple[str, int | None]:
        """The dataset and downscale to use: as given, else as recorded in the scene checkpoint, else None (the
        format's usual size)."""
        scene = self.scene() if self.workspace.checkpoint.exists() else None
        data = self.data or (scene.meta.source if scene else None)
        if data is None:
            raise JobError("no dataset given: pass --data DIR (a Blender or LLFF scene folder, or 'demo')")
        recorded = scene.meta.extra.get("downscale") if scene else None
        downscale = self.downscale or (int(recorded) if recorded else None)
        return data, downscale

    def dataset(self, splits=("train", "val")) -> Dataset:
        """The run's dataset (loaded once per split set)."""
        data, downscale = self.data_source()
        key = (data, downscale, tuple(splits))
        if key not in self._datasets:
            dataset = load_dataset(data, downscale, splits)  # records the factor it used in meta.extra
            self._datasets[key] = dataset
        return self._datasets[key]


__all__ = ["CheckpointError", "JobError", "RunContext", "Workspace"]
