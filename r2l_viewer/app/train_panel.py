"""Train panel: start teacher training, distillation and finetuning on a background thread and watch them learn."""

from __future__ import annotations

import time

from PyQt6.QtCore import pyqtSignal
from PyQt6.QtWidgets import (
    QComboBox, QGroupBox, QHBoxLayout, QLabel, QMessageBox, QPlainTextEdit, QProgressBar, QPushButton, QTabWidget,
    QSizePolicy, QVBoxLayout, QWidget,
)

from r2l_viewer.core.config import ConfigError
from trainers.events import DONE, LOG, PROGRESS, SAVED, STOPPED, VALIDATION
from trainers.pipeline import finished
from trainers.presets import PRESETS, get_preset
from trainers.workspace import RunContext, Workspace

from .job_thread import JobThread, one_line
from .plots import TrainingPlots
from .settings_form import SettingsForm

JOB_BUTTONS = {"teacher": "Train teacher", "distill": "Distill", "finetune": "Finetune"}


def format_duration(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


class TrainPanel(QWidget):
    """Buttons, preset and settings, progress with ETA, live curves and a log. One job at a time."""

    job_ended = pyqtSignal(str)  # "done", "stopped" or "failed"

    def __init__(self, session, parent=None):
        super().__init__(parent)
        self.session = session
        self.thread: JobThread | None = None
        self.run_options: dict = {}  # extra RunContext settings (data, downscale, seed) for scripted use and tests
        self.stage = ""
        self.preset_box = QComboBox()
        self.preset_box.addItems(list(PRESETS))
        self.preset_box.setCurrentText("tiny" if session.device.type == "cpu" else "standard")
        self.preset_note = QLabel()
        self.preset_note.setWordWrap(True)
        preset = get_preset(self.preset_box.currentText())
        self.forms = {name: SettingsForm(getattr(preset, name)) for name in ("teacher", "distill", "pseudo", "finetune")}
        self.buttons = {name: QPushButton(text) for name, text in JOB_BUTTONS.items()}
        self.stop_button = QPushButton("Stop")
        self.progress = QProgressBar()
        self.progress.setFormat("no job running")
        self.status = QLabel("idle")
        self.status.setWordWrap(True)
        self.plots = TrainingPlots()
        self.log = QPlainTextEdit(readOnly=True)
        self.log.setMaximumBlockCount(2000)
        self.log.setMinimumHeight(60)
        self._layout()
        self._connect()
        self.load_preset(self.preset_box.currentText())

    # ---- layout -------------------------------------------------------------------------------------------
    def _layout(self) -> None:
        top = QHBoxLayout()
        top.addWidget(QLabel("Preset:"))
        top.addWidget(self.preset_box)
        top.addWidget(self.preset_note, 1)
        buttons = QHBoxLayout()
        for button in [*self.buttons.values(), self.stop_button]:
            buttons.addWidget(button)
        tabs = QTabWidget()
        tabs.addTab(self.forms["teacher"], "Teacher")
        distill = QWidget()
        column = QVBoxLayout(distill)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.forms["distill"])
        pseudo_box = QGroupBox("Pseudo data on disk (rendered first when 'online' is off and none exists)")
        QVBoxLayout(pseudo_box).addWidget(self.forms["pseudo"])
        column.addWidget(pseudo_box)
        tabs.addTab(distill, "Distill")
        tabs.addTab(self.forms["finetune"], "Finetune")
        tabs.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        self.settings_tabs = tabs
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(buttons)
        layout.addWidget(tabs)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addWidget(self.plots, 2)
        layout.addWidget(self.log, 1)

    def _connect(self) -> None:
        self.preset_box.currentTextChanged.connect(self.load_preset)
        for name, button in self.buttons.items():
            button.clicked.connect(lambda _=False, n=name: self.start(n))
        self.stop_button.clicked.connect(self.stop)
        self.stop_button.setEnabled(False)

    # ---- settings -----------------------------------------------------------------------------------------
    def load_preset(self, name: str) -> None:
        preset = get_preset(name)
        for job, form in self.forms.items():
            form.set_config(getattr(preset, job))
        self.forms["distill"].set_value("online", not self._has_pseudo_data())
        self.preset_note.setText(preset.summary)

    def _has_pseudo_data(self) -> bool:
        try:
            return finished("pseudo", RunContext(Workspace(self.session.path)))
        except Exception:
            return False

    def current_preset(self):
        """The chosen preset with the forms' values (ConfigError when a value is out of range)."""
        preset = get_preset(self.preset_box.currentText())
        for job, form in self.forms.items():
            setattr(preset, job, form.config())
        return preset

    def confirm(self, question: str) -> bool:
        answer = QMessageBox.question(self, "R2L Viewer", question)
        return answer == QMessageBox.StandardButton.Yes

    # ---- running ------------------------------------------------------------------------------------------
    @property
    def busy(self) -> bool:
        return self.thread is not None

    def start(self, name: str) -> bool:
        """Start a job (with its prerequisites); refused with a message while another one runs."""
        if self.busy:
            self.say(f"refused: {', '.join(self.thread.names)} is still running; stop it first", error=True)
            return False
        try:
            preset = self.current_preset()
        except ConfigError as exc:
            self.say(f"settings: {exc}", error=True)
            return False
        force = name == "distill"  # the button asks for a new student in place of the one shown (as before)
        if name == "teacher" and self.session.checkpoint.teacher is not None:
            if not self.confirm("This scene already has a teacher. Train a new one in its place? "
                                "The student was distilled from the old one."):
                return False
            force = True
        self.settings_tabs.setCurrentIndex(list(JOB_BUTTONS).index(name))
        try:
            path, note = self.session.job_path()
            ctx = RunContext(Workspace(path), device=str(self.session.device), force=force, **self.run_options)
            names = ["pseudo", "distill"] if name == "distill" and self._needs_pseudo_data(preset, ctx) else [name]
        except (OSError, ValueError) as exc:  # no writable place for the checkpoint, or it became unreadable
            self.say(f"cannot start {name}: {one_line(exc)}", error=True)
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
        thread.reloaded.connect(self.session.replace)
        thread.finished.connect(self._on_thread_finished)
        self.stage, self.started = "", time.monotonic()
        self.progress.setValue(0)
        self.stop_button.setEnabled(True)
        self.say(f"running {' then '.join(thread.names)} on {self.session.device.type.upper()}")
        self.append_log(f"--- {' + '.join(thread.names)} ({self.preset_box.currentText()} preset) into "
                        f"{thread.ctx.workspace.checkpoint}")
        thread.start()

    def stop(self) -> None:
        if self.thread is not None:
            self.thread.stop()
            self.say("stopping: saving at the end of the current step")

    def shutdown(self, timeout_ms: int = 15_000) -> None:
        """Stop a running job and wait for it (the window is closing)."""
        if self.thread is not None:
            self.thread.stop()
            self.thread.wait(timeout_ms)

    # ---- events -------------------------------------------------------------------------------------------
    def _on_event(self, event) -> None:
        if event.stage != self.stage:
            self.stage = event.stage
            self.plots.reset(event.stage)
        if event.kind == PROGRESS:
            self.progress.setRange(0, max(event.total, 1))
            self.progress.setValue(event.step)
            self.progress.setFormat(f"{event.stage} %p%  step {event.step}/{event.total}  ETA {format_duration(event.eta_s)}")
            self.plots.add_progress(event.step, event.loss, event.psnr)
        elif event.kind == VALIDATION:
            self.plots.add_validation(event.step, event.metrics.get("val_psnr"))
            scores = ", ".join(f"{k} {v:.2f}" for k, v in event.metrics.items())
            self.append_log(f"{event.stage} step {event.step}: {scores}")
        elif event.kind in (LOG, SAVED, DONE, STOPPED):
            self.append_log(f"{event.stage}: {event.message}")
            if event.kind == DONE:
                self.progress.setValue(self.progress.maximum())

    def _on_snapshot(self, stage: str, model) -> None:
        if stage == "teacher":
            self.session.set_teacher(model)
        else:
            self.session.set_student(model, f"student (learning: {stage})")

    def _on_failed(self, message: str) -> None:
        self.say(f"failed: {message}", error=True)
        self.append_log(f"error: {message}")

    def _on_ended(self, outcome: str) -> None:
        self.stop_button.setEnabled(False)
        if outcome != "failed":
            self.say(f"{outcome} after {format_duration(time.monotonic() - self.started)}; saved to "
                     f"{self.thread.ctx.workspace.checkpoint.name}")
        self.job_ended.emit(outcome)

    def _on_thread_finished(self) -> None:
        self.thread = None

    def say(self, text: str, error: bool = False) -> None:
        self.status.setText(text)
        self.status.setStyleSheet("color: #c0392b;" if error else "")

    def append_log(self, text: str) -> None:
        self.log.appendPlainText(f"{time.strftime('%H:%M:%S')}  {text}")
