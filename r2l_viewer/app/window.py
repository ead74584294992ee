"""The main window: the live canvas on the left; Compare, Train and Info tabs on the right; menus and keys."""

from __future__ import annotations

from PyQt6.QtCore import Qt
from PyQt6.QtGui import QAction, QKeySequence
from PyQt6.QtWidgets import QFileDialog, QMainWindow, QSplitter, QTabWidget

from .canvas import make_canvas
from .compare_panel import ComparePanel
from .compare_worker import CompareRequest, CompareWorker, compare_intrinsics
from .info_panel import InfoPanel
from .live_view import LiveView
from .session import SceneSession
from .train_panel import TrainPanel

PANEL_WIDTH = 500
DEFAULT_CANVAS = (600, 600)


class MainWindow(QMainWindow):
    """Builds the views on one SceneSession and wires them together; `close()` stops every thread."""

    def __init__(self, session: SceneSession, device_text: str, size: tuple[int, int] | None = None):
        super().__init__()
        self.session = session
        self.canvas = make_canvas()
        self.live = LiveView(session, self.canvas, device_text, size)
        self.compare = ComparePanel()
        self.compare_worker = CompareWorker(session.meta)
        self.train = TrainPanel(session)
        self.info = InfoPanel(session, device_text)
        self.tabs = QTabWidget()
        for widget, title in ((self.compare, "Compare"), (self.train, "Train"), (self.info, "Info")):
            self.tabs.addTab(widget, title)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.canvas)
        splitter.addWidget(self.tabs)
        splitter.setStretchFactor(0, 1)
        self.setCentralWidget(splitter)
        canvas_w, canvas_h = size or DEFAULT_CANVAS
        self.resize(canvas_w + PANEL_WIDTH + 12, max(canvas_h + 56, 660))
        splitter.setSizes([canvas_w, PANEL_WIDTH])
        self._make_menus()
        self._wire()
        self._models_changed()
        self.statusBar().showMessage(f"{session.path}  |  {device_text}  |  left-drag orbit, right-drag pan, "
                                     "wheel zoom, R reset, [ ] dataset cameras, S save view")
        self.compare_worker.start()

    def _make_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        self._action(file_menu, "Save view as PNG", "S", self.save_view)
        self._action(file_menu, "Save window as PNG...", "Ctrl+Shift+S", self.save_window_dialog)
        self._action(file_menu, "Quit", QKeySequence.StandardKey.Quit, self.close)
        view_menu = self.menuBar().addMenu("&View")
        self._action(view_menu, "Reset view", "R", self.live.reset)
        self._action(view_menu, "Previous dataset camera", "[", lambda: self.live.step_camera(-1))
        self._action(view_menu, "Next dataset camera", "]", lambda: self.live.step_camera(+1))
        heatmap = self.compare.heatmap
        self._action(view_menu, "Error heat-map", "H", heatmap.toggle)

    def _action(self, menu, text, shortcut, slot) -> QAction:
        action = QAction(text, self)
        action.setShortcut(QKeySequence(shortcut))
        action.triggered.connect(slot)
        menu.addAction(action)
        return action

    def _wire(self) -> None:
        live, session = self.live, self.session
        live.camera_moved.connect(self.compare.camera_moved)
        live.camera_moved.connect(self.compare_worker.cancel)
        live.frame_shown.connect(self._follow_live_student)
        live.full_frame_shown.connect(self.request_compare)
        live.message.connect(self.show_message)
        self.compare_worker.compared.connect(self.compare.show_result)
        self.compare_worker.compare_failed.connect(self.show_message)
        session.student_changed.connect(self._snapshot_or_models_changed)
        session.teacher_changed.connect(self._snapshot_or_models_changed)
        session.scene_changed.connect(self._scene_changed)

    def _follow_live_student(self, frame) -> None:
        """Between compare results the student pane follows the live view (when that shows the student)."""
        if not frame.full and self.session.student is not None:
            self.compare.show_live_student(frame.rgb)

    def _snapshot_or_models_changed(self) -> None:
        """While a job trains, follow its snapshots at the moving resolution (leaving the CPU to training)."""
        self._models_changed(full=not self.train.busy)

    def _models_changed(self, full: bool = True) -> None:
        session = self.session
        self.compare_worker.set_models(session.teacher, session.student)
        teacher = session.checkpoint.teacher
        self.compare.set_model_names(f"Teacher ({teacher['kind']})" if teacher else "Teacher",
                                     session.student_label.capitalize())
        self.compare.show_missing(session.teacher is not None, session.student is not None)
        size = compare_intrinsics(session.meta.intrinsics)
        self.compare.set_compare_size(size.width, size.height)
        self.live.refresh(full)

    def _scene_changed(self) -> None:
        self.compare_worker.set_meta(self.session.meta)
        self._models_changed()

    def request_compare(self, *_) -> None:
        """Teacher and student for the camera now shown (called once a full-resolution frame is up)."""
        intrinsics = compare_intrinsics(self.session.meta.intrinsics)
        self.compare_worker.request(CompareRequest(self.live.camera.c2w(), intrinsics, self.live.camera_ref))

    def save_view(self) -> None:
        if self.live.save_frame() is None:
            self.show_message("nothing rendered yet")

    def save_window_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save window", "r2l-window.png", "PNG images (*.png)")
        if path:
            self.grab().save(path)
            self.show_message(f"saved {path}")

    def show_message(self, text: str) -> None:
        self.statusBar().showMessage(text, 8000)

    def closeEvent(self, event) -> None:
        self.train.shutdown()
        self.live.stop()
        self.compare_worker.stop()
        super().closeEvent(event)
