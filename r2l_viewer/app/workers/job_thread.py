"""A background QThread that runs pipeline jobs, forwards their events as signals and snapshots the model."""

from __future__ import annotations

import time
import traceback

from PyQt6.QtCore import QThread, pyqtSignal

from r2l_viewer.core.errors import UserError
from r2l_viewer.core.models import model_from_record
from trainers.events import PROGRESS, STOPPED
from trainers.jobs.pipeline import make_job

from r2l_viewer.app.session import open_scene

BUG_NOTE = "a bug, not something you did: please report it with the traceback printed in the terminal"
SNAPSHOT_SECONDS = 3.0  # how often the model being trained is copied out for the live view


def users_to_fix(exc: BaseException) -> bool:
    """Whether an error is the user's to fix (a UserError, or a file the system refused), not a bug."""
    return isinstance(exc, (UserError, OSError))


def one_line(exc: BaseException) -> str:
    """An error as one line: a UserError's own message; any other error's type and first line, and for a bug a
    request to report it (its traceback goes to the terminal: see `report_failure`)."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    if isinstance(exc, UserError) and text:
        return text
    line = f"{type(exc).__name__}: {text}".rstrip(": ")
    return line if users_to_fix(exc) else f"{line} ({BUG_NOTE})"


def report_failure(exc: BaseException) -> str:
    """The line the panel shows for a failed job; for a bug the traceback is printed to the terminal first."""
    if not users_to_fix(exc):
        traceback.print_exception(exc)
    return one_line(exc)


class JobThread(QThread):
    """Runs jobs `names` in order with `preset`'s settings; `stop()` asks the running one to save and stop."""

    event = pyqtSignal(object)  # trainers.events.Event
    snapshot = pyqtSignal(str, object)  # stage, a fresh model with the weights at that moment
    failed = pyqtSignal(str)
    ended = pyqtSignal(str)  # "done", "stopped" or "failed"
    reloaded = pyqtSignal(object)  # LoadedScene after the jobs saved into the checkpoint

    def __init__(self, names: list[str], preset, ctx, device, snapshot_seconds: float | None = None):
        super().__init__()
        self.names, self.preset, self.ctx, self.device = names, preset, ctx, device
        self.snapshot_seconds = SNAPSHOT_SECONDS if snapshot_seconds is None else snapshot_seconds
        self.outcome = ""

    def stop(self) -> None:
        self.ctx.stop.set()

    def run(self) -> None:
        outcome = "done"
        try:
            for name in self.names:
                if self._run_job(name) == STOPPED:
                    outcome = "stopped"
                    break
        except Exception as exc:  # every failure is shown in the panel; the app keeps running
            self.failed.emit(report_failure(exc))
            outcome = "failed"
        self.outcome = outcome
        self.ended.emit(outcome)
        self._reload()  # whatever the outcome: the view must show what is saved, not the last training snapshot

    def _run_job(self, name: str) -> str:
        job = make_job(name, self.preset, self.ctx)
        last_kind, last_snapshot = "", time.monotonic()
        for event in job.run():
            self.event.emit(event)
            last_kind = event.kind
            if event.kind == PROGRESS and time.monotonic() - last_snapshot > self.snapshot_seconds:
                self._snapshot(job)
                last_snapshot = time.monotonic()
        return last_kind

    def _snapshot(self, job) -> None:
        record = job.model_snapshot()
        if record is not None:
            self.snapshot.emit(job.stage, model_from_record(record, self.device))

    def _reload(self) -> None:
        if not self.ctx.workspace.checkpoint.exists():
            return  # nothing was ever saved: the panel puts back the models from before the job
        try:
            self.reloaded.emit(open_scene(self.ctx.workspace.checkpoint, self.device))
        except Exception as exc:
            self.failed.emit(f"could not reload {self.ctx.workspace.checkpoint.name}: {one_line(exc)}")
