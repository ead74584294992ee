"""The Render video dialog: which path, model, output, size, frame rate and file; runs r2l-render's job on a
background thread with a progress bar and Stop (a stopped render leaves no file)."""

from __future__ import annotations

import time
from pathlib import Path

from PyQt6.QtCore import pyqtSignal
from PyQt6.QtWidgets import (
    QComboBox, QDialog, QDoubleSpinBox, QFileDialog, QFormLayout, QHBoxLayout, QLabel, QLineEdit, QProgressBar,
    QPushButton, QSpinBox, QVBoxLayout, QWidget,
)

from r2l_viewer.core.camera_path import CameraPath, CameraPathError
from r2l_viewer.core.camera_path_json import load_camera_path
from r2l_viewer.core.config import field_help
from r2l_viewer.core.standard_paths import standard_path, standard_path_name
from trainers.configs import VideoConfig
from trainers.events import DONE, PROGRESS, STOPPED
from trainers.video.job import RenderVideo
from trainers.storage.workspace import RunContext, Workspace

from r2l_viewer.app.dialogs import ask
from r2l_viewer.app.workers.job_thread import report_failure
from r2l_viewer.app.saving import view_folders
from r2l_viewer.app.panels.train_panel import format_duration
from r2l_viewer.app.workers.video_thread import VideoThread


def row(*widgets: QWidget) -> QWidget:
    holder = QWidget()
    layout = QHBoxLayout(holder)
    layout.setContentsMargins(0, 0, 0, 0)
    for widget in widgets:
        layout.addWidget(widget, 1 if isinstance(widget, (QLineEdit, QComboBox)) else 0)
    return holder


class RenderVideoDialog(QDialog):
    """A non-blocking dialog over the window; `thread` is the running render (None when idle)."""

    ended = pyqtSignal(str)  # "done", "stopped" or "failed"

    def __init__(self, session, panel, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Render video")
        self.session, self.panel = session, panel
        self.thread: VideoThread | None = None
        self.path_choice, self.path_file = QComboBox(), QLineEdit()
        self.model, self.output = QComboBox(), QComboBox()
        self.model.addItems(["student", "teacher", "both"])
        self.output.addItems(["rgb", "depth"])
        self.width_box, self.height_box = QSpinBox(minimum=8, maximum=8192), QSpinBox(minimum=8, maximum=8192)
        self.fps = QDoubleSpinBox(decimals=1, minimum=0.1, maximum=240.0, suffix=" fps")
        self.out = QLineEdit()
        self.progress, self.status = QProgressBar(), QLabel("")
        self.status.setWordWrap(True)
        self.buttons = {name: QPushButton(text) for name, text in (
            ("render", "Render"), ("stop", "Stop"), ("close", "Close"), ("browse_path", "Browse..."),
            ("browse_out", "Browse..."))}
        self._layout()
        self._connect()
        self.refresh()

    def _layout(self) -> None:
        form = QFormLayout()
        form.addRow("camera path", self.path_choice)
        form.addRow("path file", row(self.path_file, self.buttons["browse_path"]))
        form.addRow("model", self.model)
        form.addRow("output", self.output)
        form.addRow("size", row(self.width_box, QLabel("x"), self.height_box))
        form.addRow("frame rate", self.fps)
        form.addRow("save as", row(self.out, self.buttons["browse_out"]))
        for widget, name in ((self.path_choice, "path"), (self.model, "model"), (self.output, "output"),
                             (self.fps, "fps"), (self.out, "out")):
            widget.setToolTip(field_help(VideoConfig, name))
        buttons = row(self.buttons["render"], self.buttons["stop"], self.buttons["close"])
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addWidget(buttons)
        self.progress.setFormat("idle")
        self.progress.setValue(0)

    def _connect(self) -> None:
        self.path_choice.currentIndexChanged.connect(lambda _: self._path_changed())
        self.buttons["browse_path"].clicked.connect(self.browse_path)
        self.buttons["browse_out"].clicked.connect(self.browse_out)
        self.buttons["render"].clicked.connect(self.start)
        self.buttons["stop"].clicked.connect(self.stop)
        self.buttons["close"].clicked.connect(self.close)
        self.buttons["stop"].setEnabled(False)

    # ---- choices ------------------------------------------------------------------------------------------
    def refresh(self) -> None:
        """Fill the choices for the scene and the panel's path as they are now (called each time it opens)."""
        meta, panel_path = self.session.meta, self.panel.path
        orbit = standard_path_name(meta)
        playable = panel_path.file_frames is not None or len(panel_path.keyframes) >= 2
        self.path_choice.blockSignals(True)
        self.path_choice.clear()
        self.path_choice.addItem(f"The scene's {orbit}", "orbit")
        frames = f"{panel_path.frame_count()} frames" if playable else "fewer than two keyframes"
        self.path_choice.addItem(f"The Path tab's camera path ({frames})", "panel")
        self.path_choice.addItem("A nerfstudio camera-path file", "file")
        self.path_choice.model().item(1).setEnabled(playable)
        self.path_choice.setCurrentIndex(1 if playable else 0)
        self.path_choice.blockSignals(False)
        self.model.setCurrentText("student" if self.session.student is not None else "teacher")
        if not self.out.text():
            self.out.setText(str(self._default_output()))
        self._path_changed()

    def _default_output(self) -> Path:
        folder = self.session.path.parent if self.session.is_writable() else view_folders()[0]
        return folder / time.strftime(f"{self.session.path.stem}-%Y%m%d-%H%M%S.mp4")

    def chosen_path(self) -> CameraPath:
        """The camera path chosen now; CameraPathError for an unusable file."""
        choice = self.path_choice.currentData()
        if choice == "panel":
            return self.panel.path
        if choice == "file":
            if not self.path_file.text().strip():
                raise CameraPathError("choose a camera-path .json file (Browse...)")
            return load_camera_path(self.path_file.text().strip())
        return standard_path(self.session.meta, self.session.checkpoint.cameras)

    def _path_changed(self) -> None:
        """The size and frame rate follow the chosen path (they can be changed after)."""
        self.path_file.setEnabled(self.path_choice.currentData() == "file")
        self.buttons["browse_path"].setEnabled(self.path_choice.currentData() == "file")
        try:
            path = self.chosen_path()
        except CameraPathError as exc:
            self.say(str(exc), error=self.path_choice.currentData() != "file" or bool(self.path_file.text()))
            return
        self.width_box.setValue(path.width)
        self.height_box.setValue(path.height)
        self.fps.setValue(path.fps)
        self.say(f"{path.frame_count()} frames at {path.width}x{path.height}")

    def browse_path(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self, "Camera path", str(self.session.path.parent),
                                              "nerfstudio camera paths (*.json);;All files (*)")
        if name:
            self.path_file.setText(name)
            self._path_changed()

    def browse_out(self) -> None:
        name, _ = QFileDialog.getSaveFileName(self, "Save the video as", self.out.text(), "mp4 videos (*.mp4)")
        if name:
            self.out.setText(name if Path(name).suffix else f"{name}.mp4")

    def config(self, overwrite: bool) -> VideoConfig:
        choice = self.path_choice.currentData()
        return VideoConfig(path=self.path_file.text().strip() if choice == "file" else "orbit",
                           out=self.out.text().strip(), model=self.model.currentText(),
                           output=self.output.currentText(), size=(self.width_box.value(), self.height_box.value()),
                           fps=self.fps.value(), overwrite=overwrite)

    # ---- running ------------------------------------------------------------------------------------------
    @property
    def busy(self) -> bool:
        return self.thread is not None

    def start(self) -> bool:
        if self.busy:
            return False
        out = Path(self.out.text().strip())
        overwrite = out.exists() and bool(self.out.text().strip())
        if overwrite and not ask(self, f"{out} exists. Replace it (once the new video is complete)?"):
            return False
        try:
            camera_path = self.panel.path if self.path_choice.currentData() == "panel" else None
            ctx = RunContext(Workspace(self.session.path), device=str(self.session.device))
            job = RenderVideo(self.config(overwrite), ctx, camera_path)
        except Exception as exc:  # a bad setting or file (one line), or a bug (its traceback in the terminal too)
            self.say(report_failure(exc), error=True)
            return False
        self.thread = VideoThread(job)
        self.thread.event.connect(self._on_event)
        self.thread.failed.connect(lambda text: self.say(f"failed: {text}", error=True))
        self.thread.ended.connect(self._on_ended)
        self.thread.finished.connect(self._on_finished)
        self._running(True)
        self.progress.setRange(0, 0)
        self.progress.setFormat("preparing")
        self.say("loading the scene and checking the path")
        self.thread.start()
        return True

    def stop(self) -> None:
        if self.thread is not None:
            self.thread.stop()
            self.say("stopping after the current frame; the unfinished video is deleted")

    def _running(self, running: bool) -> None:
        self.buttons["render"].setEnabled(not running)
        self.buttons["stop"].setEnabled(running)

    def _on_event(self, event) -> None:
        if event.kind == PROGRESS:
            self.progress.setRange(0, max(event.total, 1))
            self.progress.setValue(event.step)
            self.progress.setFormat(f"frame {event.step}/{event.total}  ETA {format_duration(event.eta_s)}")
        elif event.kind in (DONE, STOPPED) or event.message:
            self.say(event.message)

    def _on_ended(self, outcome: str) -> None:
        if self.progress.maximum() == 0:  # it ended before its first frame
            self.progress.setRange(0, 1)
            self.progress.setValue(0)
        self.progress.setFormat(f"{outcome}  %p%")

    def _on_finished(self) -> None:
        outcome = self.thread.outcome
        self.thread = None
        self._running(False)
        self.ended.emit(outcome)

    def say(self, text: str, error: bool = False) -> None:
        self.status.setText(text)
        self.status.setStyleSheet("color: #c0392b;" if error else "")

    def closeEvent(self, event) -> None:
        """Closing the dialog stops a render (its file is deleted) and waits for the thread to end."""
        if self.thread is not None:
            self.thread.stop()
            self.thread.wait()
        super().closeEvent(event)
