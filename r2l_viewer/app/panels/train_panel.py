"""Train panel: start teacher training, distillation and finetuning on a background thread and watch them learn."""

from __future__ import annotations

import time

from PyQt6.QtCore import pyqtSignal
from PyQt6.QtWidgets import (
    QGridLayout, QLabel, QPlainTextEdit, QProgressBar, QPushButton, QSizePolicy, QVBoxLayout, QWidget,
)

from r2l_viewer.core.config import ConfigError
from trainers.events import DONE, LOG, PROGRESS, SAVED, STOPPED, VALIDATION
from trainers.jobs.pipeline import finished
from trainers.storage.workspace import RunContext, Workspace

from r2l_viewer.app.dialogs import ask
from r2l_viewer.app.panels.job_text import in_viewer_words
from r2l_viewer.app.workers.job_thread import JobThread, report_failure
from r2l_viewer.app.panels.plots import TrainingPlots
from r2l_viewer.app.panels.train_settings import TrainSettings

JOB_BUTTONS = {"teacher": "Train teacher", "distill": "Distill", "finetune": "Finetune"}
IDLE_FORMAT = "no job running"
REPLACE_QUESTIONS = {
    "teacher": "This scene already has a teacher. Train a new one in its place? "
               "The student was distilled from the old one.",
    "distill": "This scene already has a {label}. Distill a new student in its place? "
               "The current one is overwritten when the new one is saved.",
}


def format_duration(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


class TrainPanel(QWidget):
    """Buttons, preset and settings, progress with ETA, live curves and a log. One job at a time."""

    job_ended = pyqtSignal(str)  # "done", "stopped" or "failed"
    message = pyqtSignal(str)  # a passing note for the status bar (a refused job), not the panel's status

    def __init__(self, session, parent=None):
        super().__init__(parent)
        self.session = session
        self.thread: JobThread | None = None
        self.run_options: dict = {}  # extra RunContext settings (data, downscale, seed) for scripted use and tests
        self.stage = ""
        self.preparing = False  # a job is setting up: no progress event yet for its stage
        self._reloaded = False
        self._before_job: tuple = ()
        self.settings = TrainSettings(session)
        self.forms, self.preset_box = self.settings.forms, self.settings.preset_box
        self.buttons = {name: QPushButton(text) for name, text in JOB_BUTTONS.items()}
        self.stop_button = QPushButton("Stop")
        self.progress = QProgressBar()
        self.progress.setFormat(IDLE_FORMAT)
        self.status = QLabel("idle")
        self.status.setWordWrap(True)
        self.plots = TrainingPlots()
        self.log = QPlainTextEdit(readOnly=True)
        self.log.setMaximumBlockCount(2000)
        self.log.setMinimumHeight(60)
        for grows in (self.plots, self.log):  # they take the height left, from their minimum up, never scroll it
            grows.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Ignored)
        self._layout()
        self._connect()

    # ---- layout -------------------------------------------------------------------------------------------
    def _layout(self) -> None:
        buttons = QGridLayout()  # two by two: the panel stays narrow enough for a small screen
        for index, button in enumerate([*self.buttons.values(), self.stop_button]):
            buttons.addWidget(button, index // 2, index % 2)
        layout = QVBoxLayout(self)
        layout.addWidget(self.settings.preset_row)
        layout.addLayout(buttons)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addWidget(self.settings)
        layout.addWidget(self.plots, 2)
        layout.addWidget(self.log, 1)

    def _connect(self) -> None:
        for name, button in self.buttons.items():
            button.clicked.connect(lambda _=False, n=name: self.start(n))
        self.stop_button.clicked.connect(self.stop)
        self.stop_button.setEnabled(False)

    # ---- settings -----------------------------------------------------------------------------------------
    def current_preset(self):
        return self.settings.current_preset()

    def confirm_replacing(self, name: str) -> bool | None:
        """force=True once the user agreed to replace the scene's teacher or student, False when there is none to
        replace, None when the user said no."""
        checkpoint = self.session.checkpoint
        existing = checkpoint.teacher if name == "teacher" else checkpoint.student if name == "distill" else None
        if existing is None:
            return False
        stage = existing.get("stage") if name == "distill" else None
        label = f"student ({stage})" if stage else name
        return True if ask(self, REPLACE_QUESTIONS[name].format(label=label)) else None

    def confirm_resuming(self, name: str) -> bool:
        """True when an interrupted run of this job is saved and the user chose to continue it."""
        try:
            state = Workspace(self.session.path).load_state(name)
        except (OSError, ValueError):
            return False  # unreadable: nothing to continue
        if state is None:
            return False
        total = state.get("config", {}).get("steps", "?")
        return ask(self, f"An interrupted {name} run is saved at step {state.get('step')} of {total}. Continue it "
                         "with its settings? (No starts over.)")

    # ---- running ------------------------------------------------------------------------------------------
    @property
    def busy(self) -> bool:
        return self.thread is not None

    def start(self, name: str) -> bool:
        """Start a job (with its prerequisites); refused with a message while another one runs."""
        if self.busy:
            note = f"refused {name}: {' then '.join(self.thread.names)} is still running; stop it first"
            self.append_log(note)
            self.message.emit(note)
            return False
        try:
            preset = self.current_preset()
        except ConfigError as exc:
            self.say(f"settings: {exc}", error=True)
            return False
        resume = self.confirm_resuming(name)
        force = False if resume else self.confirm_replacing(name)
        if force is None:
            return False
        self.settings.show_job(name)
        try:
            path, note = self.session.job_path()
            ctx = RunContext(Workspace(path), device=str(self.session.device), force=force, resume=resume,
                             given=frozenset(), **self.run_options)  # (resuming: with the saved run's settings)
            names = ["pseudo", "distill"] if name == "distill" and self._needs_pseudo_data(preset, ctx) else [name]
        except Exception as exc:  # no writable place for the checkpoint, it became unreadable, or a bug
            self.say(f"cannot start {name}: {report_failure(exc)}", error=True)
            return False
        if note:
            self.append_log(note)
        self._launch(JobThread(names, preset, ctx, self.session.device))
        return True

    @staticmethod
    def _needs_pseudo_data(preset, ctx) -> bool:
        return not preset.distill.online and not finished("pseudo", ctx)

    def _launch(self, thread: JobThread) -> None:
        self.thread = thread
        thread.event.connect(self._on_event)
        thread.snapshot.connect(self._on_snapshot)
        thread.failed.connect(self._on_failed)
        thread.ended.connect(self._on_ended)
        thread.reloaded.connect(self._on_reloaded)
        thread.finished.connect(self._on_thread_finished)
        session = self.session
        self._before_job, self._reloaded = (session.teacher, session.student, session.student_label), False
        self.stage, self.started = "", time.monotonic()
        self.stop_button.setEnabled(True)
        self.settings.unfold(False)  # they cannot change a running job: its curves get the room
        self._prepare(thread.names[0], "loading the scene and the data")
        self.append_log(f"--- {' + '.join(thread.names)} ({self.preset_box.currentText()} preset) into "
                        f"{thread.ctx.workspace.checkpoint}")
        thread.start()

    def stop(self) -> None:
        if self.thread is not None:
            self.thread.stop()
            self.say("stopping: saving at the end of the current step")

    # ---- events -------------------------------------------------------------------------------------------
    def _prepare(self, stage: str, message: str) -> None:
        """A job sets up (loads data, builds models) before its first step: a busy bar and what it is doing."""
        self.preparing = True
        self.progress.setRange(0, 0)
        self.progress.setFormat(f"preparing {stage}")
        if not self._stopping():
            self.say(f"preparing {stage}: {message}")

    def _stopping(self) -> bool:
        return self.thread is not None and self.thread.ctx.stop.is_set()

    def _on_event(self, event) -> None:
        if event.stage != self.stage:
            self.stage = event.stage
            self.plots.reset(event.stage)
            if event.kind != PROGRESS:
                self._prepare(event.stage, event.message or "setting up")
        if event.kind == PROGRESS:
            self._show_progress(event)
        elif event.kind == VALIDATION:
            self.plots.add_validation(event.step, event.metrics.get("val_psnr"))
            scores = ", ".join(f"{k} {v:.2f}" for k, v in event.metrics.items())
            self.append_log(f"{event.stage} step {event.step}: {scores}")
        elif event.kind in (LOG, SAVED, DONE, STOPPED):
            self.append_log(f"{event.stage}: {in_viewer_words(event.message)}")
            if event.kind == LOG and self.preparing:
                self._prepare(event.stage, in_viewer_words(event.message))
            if event.kind == DONE:  # (the step it ended at: a settled teacher ends before its last)
                bar = self.progress
                bar.setValue(event.step if 0 < event.step <= bar.maximum() else bar.maximum())

    def _show_progress(self, event) -> None:
        if self.preparing:
            self.preparing = False
            if not self._stopping():
                self.say(f"running {' then '.join(self.thread.names)} on {self.session.device.type.upper()}")
        self.progress.setRange(0, max(event.total, 1))
        self.progress.setValue(event.step)
        self.progress.setFormat(f"{event.stage} %p%  step {event.step}/{event.total}  ETA {format_duration(event.eta_s)}")
        self.plots.add_progress(event.step, event.loss, event.psnr)

    def _on_snapshot(self, stage: str, model) -> None:
        if stage == "teacher":
            self.session.set_teacher(model)
        else:
            self.session.set_student(model, f"student (learning: {stage})")

    def _on_failed(self, message: str) -> None:
        message = in_viewer_words(message)
        self.say(f"failed: {message}", error=True)
        self.append_log(f"error: {message}")

    def _on_ended(self, outcome: str) -> None:
        self.stop_button.setEnabled(False)
        if self.preparing:  # it ended before its first step: no busy bar left spinning
            self.preparing = False
            self.progress.setRange(0, 1)
            self.progress.setValue(0)
            self.progress.setFormat(f"{outcome} before the first step")
        else:  # the bar keeps where it got to, without an ETA that no longer runs
            bar = self.progress
            self.progress.setFormat(f"{self.stage} %p%  step {bar.value()}/{bar.maximum()}  {outcome}")
        if outcome != "failed":
            self.say(f"{outcome} after {format_duration(time.monotonic() - self.started)}; saved to "
                     f"{self.thread.ctx.workspace.checkpoint.name}")
        self.job_ended.emit(outcome)

    def _on_reloaded(self, loaded) -> None:
        self._reloaded = True
        self.session.replace(loaded)

    def _on_thread_finished(self) -> None:
        """The job thread is done. The view shows the checkpoint as saved (the thread reloads it whatever the
        outcome); if that reload failed, the models from before the job, not a half-trained snapshot."""
        self.thread = None
        if not self._reloaded and self._before_job:
            teacher, student, label = self._before_job
            self.session.set_teacher(teacher)
            self.session.set_student(student, label)
        self._before_job = ()

    def say(self, text: str, error: bool = False) -> None:
        self.status.setText(text)
        self.status.setStyleSheet("color: #c0392b;" if error else "")

    def append_log(self, text: str) -> None:
        self.log.appendPlainText(f"{time.strftime('%H:%M:%S')}  {text}")
