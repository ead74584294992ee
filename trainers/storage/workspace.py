"""Where a run's files live (the scene checkpoint and its companions) and what every job is given to run."""

from __future__ import annotations

import errno
import json
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import torch

from r2l_viewer.core.checkpoint import CheckpointError, SceneCheckpoint, atomic_save, load_payload, load_scene, save_scene
from r2l_viewer.core.datasets import Dataset, DatasetError, default_downscale, load_dataset
from r2l_viewer.core.device import resolve_device

from trainers.errors import JobError
from trainers.events import LOG, PROGRESS, Event

LOG_PROGRESS_SECONDS = 5.0  # progress records go into the metrics log at most this often (per stage)


def describe_os_error(exc: OSError) -> str:
    """An OSError as a short phrase naming the file: 'disk full writing X' or 'X: Permission denied'."""
    name = exc.filename or ""
    if exc.errno == errno.ENOSPC:
        return f"disk full writing {name}".rstrip()
    reason = exc.strerror or str(exc)
    return f"{name}: {reason}" if name else reason


@dataclass
class Workspace:
    """The scene checkpoint and, beside it, `<stem>.metrics.jsonl`, `<stem>.resume/` and `<stem>.pseudo/`."""

    checkpoint: Path
    quiet: bool = False  # write no metrics log (the ranks of a torchrun run other than rank 0)
    _last_progress_log: dict = field(default_factory=dict, repr=False)
    _log_failed: bool = field(default=False, repr=False)

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

    @property
    def pseudo_new_dir(self) -> Path:
        """Where a new pseudo-data set is built before it replaces the one in `pseudo_dir`."""
        return self._beside(".pseudo.new")

    def resume_path(self, job: str) -> Path:
        return self.resume_dir / f"{job}.pt"

    def check_writable(self) -> None:
        """Fail now, with what to do, when the checkpoint's folder cannot be created or written."""
        folder = self.checkpoint.parent
        if self.checkpoint.is_dir():
            raise JobError(f"{self.checkpoint}: is a folder; give --out a file name such as {self.checkpoint / 'scene.ckpt'}")
        probe = folder / f".{self.checkpoint.name}.{os.getpid()}.write-test"  # one per process: ranks probe at once
        try:
            folder.mkdir(parents=True, exist_ok=True)
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as exc:
            raise JobError(f"cannot write into {folder} ({exc.strerror or exc}); choose another --out") from None

    def log(self, event: Event) -> str | None:
        """Append one event to the JSON-lines metrics log. A failure does not stop the job: the first one is
        returned as a message (then the log is off); later calls return None."""
        if self._log_failed or self.quiet:
            return None
        record = {"time": time.strftime("%Y-%m-%dT%H:%M:%S")} | event.to_record()
        try:
            self.metrics_log.parent.mkdir(parents=True, exist_ok=True)
            with open(self.metrics_log, "a") as f:
                f.write(json.dumps(record) + "\n")
        except OSError as exc:
            self._log_failed = True
            return f"cannot write the metrics log ({describe_os_error(exc)}); the job goes on without it"
        return None

    def record(self, event: Event) -> str | None:
        """Log an event, progress events at most every LOG_PROGRESS_SECONDS per stage (and always the last
        step); returns a message when the log could not be written."""
        if event.kind == PROGRESS and event.step != event.total:
            now = time.monotonic()
            if now - self._last_progress_log.get(event.stage, float("-inf")) < LOG_PROGRESS_SECONDS:
                return None
            self._last_progress_log[event.stage] = now
        return self.log(event)

    def emit(self, event: Event) -> Iterator[Event]:
        """Yield an event once it is in the metrics log (see `record`), then a note if the log cannot be written."""
        problem = self.record(event)
        yield event
        if problem:
            yield Event(event.stage, LOG, event.step, event.total, message=problem)

    def save_state(self, job: str, state: dict) -> None:
        atomic_save(self.resume_path(job), state)

    def load_state(self, job: str) -> dict | None:
        path = self.resume_path(job)
        return load_payload(path) if path.exists() else None

    def drop_state(self, job: str) -> None:
        """Delete a job's resume state, and the resume folder once it is empty."""
        self.resume_path(job).unlink(missing_ok=True)
        try:
            self.resume_dir.rmdir()
        except OSError:
            pass  # absent, or still holding another job's state


def _one_process():
    from trainers.distributed import Ranks  # (here: it loads torch.distributed only when a job runs)

    return Ranks()


def data_key(data: str) -> str:
    """A dataset source as recorded for resume checks: 'demo', or the folder's absolute path."""
    return data if data == "demo" else str(Path(data).expanduser().resolve())


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
    scene_kind: str = "auto"  # 'auto', 'object', 'unbounded' or 'forward' (see core/datasets/scene_shape.py)
    given: frozenset | None = None  # settings the user gave ('distill.steps', 'seed'); None: all of them
    stop: threading.Event = field(default_factory=threading.Event)
    ranks: object = field(default_factory=_one_process)  # a trainers.distributed.Ranks: this process's place in a
    # torchrun run (rank 0 of 1 without torchrun)
    _datasets: dict = field(default_factory=dict, repr=False)

    def __post_init__(self):
        if self.downscale is not None and (isinstance(self.downscale, bool) or int(self.downscale) != self.downscale
                                           or self.downscale < 1):
            raise JobError(f"downscale {self.downscale!r}: give a whole number of at least 1")

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
        self.check_scene_kind(scene)
        return scene

    def check_scene_kind(self, scene: SceneCheckpoint) -> None:
        """A later job keeps the kind of scene the teacher models; asking for another is refused."""
        if self.scene_kind not in ("auto", scene.meta.kind):
            raise JobError(f"{self.workspace.checkpoint}: its teacher models the scene as {scene.meta.kind!r}; "
                           f"--scene-kind {self.scene_kind} would need a new teacher (use another --out, or --force "
                           "on the teacher)")

    def save_scene(self, scene: SceneCheckpoint) -> None:
        save_scene(self.workspace.checkpoint, scene)

    def data_source(self) -> tuple[str, int | None]:
        """The dataset and downscale to use: as given, else as recorded in the scene checkpoint, else None (the
        format's usual size)."""
        given = self.data is not None and self.downscale is not None
        scene = self.scene() if not given and self.workspace.checkpoint.exists() else None
        data = self.data or (scene.meta.source if scene else None)
        if data is None:
            raise JobError("no dataset given: pass --data DIR (a Blender, LLFF or nerfstudio scene folder, or 'demo')")
        if self.data is None and data != "demo" and not Path(data).exists():
            raise DatasetError(f"{data}: no such folder; it is the dataset {self.workspace.checkpoint.name} was "
                               "trained on, as recorded in it: if the dataset moved, give its new place with --data DIR")
        recorded = scene.meta.extra.get("downscale") if scene else None
        downscale = self.downscale or (int(recorded) if recorded else None)
        return data, downscale

    def run_settings(self) -> dict:
        """The settings besides a job's config that its results depend on: seed, dataset and downscale."""
        data, downscale = self.data_source()
        factor = default_downscale(data) if downscale is None else int(downscale)
        return {"seed": int(self.seed), "data": data_key(str(data)), "downscale": factor}

    def dataset(self, splits=("train", "val")) -> Dataset:
        """The run's dataset (loaded once per split set)."""
        data, downscale = self.data_source()
        recorded = self.scene() if self.workspace.checkpoint.exists() and not self.force else None
        kind = self.scene_kind
        if recorded is not None:
            self.check_scene_kind(recorded)
            kind = recorded.meta.kind
        key = (data, downscale, tuple(splits), kind)
        if key not in self._datasets:
            dataset = load_dataset(data, downscale, splits, kind)  # records the factor it used in meta.extra
            self._datasets[key] = dataset
        return self._datasets[key]


__all__ = ["CheckpointError", "RunContext", "Workspace", "describe_os_error"]
