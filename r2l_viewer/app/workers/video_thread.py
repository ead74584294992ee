"""A background QThread that runs the video job (trainers/video/job.py) and forwards its events as signals."""

from __future__ import annotations

from PyQt6.QtCore import QThread, pyqtSignal

from trainers.events import DONE, STOPPED

from r2l_viewer.app.workers.job_thread import report_failure


class VideoThread(QThread):
    """Runs one RenderVideo job; `stop()` makes it stop after the current chunk of rays, deleting its file."""

    event = pyqtSignal(object)  # trainers.events.Event
    failed = pyqtSignal(str)
    ended = pyqtSignal(str)  # "done", "stopped" or "failed"

    def __init__(self, job, parent=None):
        super().__init__(parent)
        self.job = job
        self.outcome = ""

    def stop(self) -> None:
        self.job.ctx.stop.set()

    def run(self) -> None:
        outcome = "failed"
        try:
            for event in self.job.run():
                self.event.emit(event)
                if event.kind in (DONE, STOPPED):
                    outcome = "done" if event.kind == DONE else "stopped"
        except Exception as exc:  # every failure is a line in the dialog; the app keeps running
            self.failed.emit(report_failure(exc))
        self.outcome = outcome
        self.ended.emit(outcome)
