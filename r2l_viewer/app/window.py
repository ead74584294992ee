"""The main window: the live canvas on the left; Compare, Train and Info tabs on the right; menus, keys, closing."""

from __future__ import annotations

from pathlib import Path

from PyQt6.QtCore import QTimer, Qt, pyqtSignal
from PyQt6.QtGui import QAction, QActionGroup
from PyQt6.QtWidgets import QFileDialog, QMainWindow, QSplitter, QTabWidget

from r2l_viewer.core.checkpoint import CheckpointError
from r2l_viewer.core.image_files import ImageWriteError

from r2l_viewer.app.canvas.canvas import make_canvas
from r2l_viewer.app.panels.compare_panel import ComparePanel
from r2l_viewer.app.workers.compare_worker import CompareRequest, CompareWorker, compare_intrinsics
from r2l_viewer.app.bindings import binding, key_sequence, status_hint
from r2l_viewer.app.dialogs import ask, show_about, show_keys_help
from r2l_viewer.app.panels.info_panel import InfoPanel
from r2l_viewer.app.canvas.live_view import LiveView
from r2l_viewer.app.panels.model_info import architecture
from r2l_viewer.app.panels.path_panel import CameraPathPanel
from r2l_viewer.app.saving import save_pixmap_png, view_folders
from r2l_viewer.app.recent_files import RecentFiles
from r2l_viewer.app.session import BUNDLED_DEMO, SceneSession, open_scene
from r2l_viewer.app.panels.train_panel import TrainPanel
from r2l_viewer.app.video_dialog import RenderVideoDialog
from r2l_viewer.app.panels.widgets import ElidedLabel, scrolling

def dropped_checkpoint(mime) -> Path | None:
    """The one local .ckpt file a drag carries, else None."""
    urls = mime.urls() if mime.hasUrls() else []
    if len(urls) != 1 or not urls[0].isLocalFile():
        return None
    path = Path(urls[0].toLocalFile())
    return path if path.suffix == ".ckpt" else None


PANEL_WIDTH = 440  # the side panel's width when the window opens; the canvas takes what the window gains
PANEL_MIN_WIDTH = 300
PANEL_MAX_SHARE = 0.42  # a narrowing window takes the panel down to this share of its width before the canvas
DEFAULT_CANVAS = (600, 600)
DECORATION = (16, 48)  # room left on the screen for the window frame and title bar
CLOSE_POLL_MS = 50  # while closing waits for threads to end
THREAD_WAIT_MS = 300  # how long closing waits in place for the render threads before polling instead


class MainWindow(QMainWindow):
    """Builds the views on one SceneSession and wires them together. `close()` ends every thread first: it asks
    before stopping a running job and closes (emitting `closed`) once the job has saved and its thread ended."""

    closed = pyqtSignal()

    def __init__(self, session: SceneSession, device_text: str, size: tuple[int, int] | None = None,
                 fit_to_screen: bool = True, view: dict | None = None):
        super().__init__()
        self.session, self.device_text = session, device_text
        self.closing = False  # close was asked for and accepted: threads are being ended
        self.panel_placed = False  # the splitter got its first sizes (once shown)
        self.is_closed = False
        self.help_box = None
        self.canvas = make_canvas()
        self.live = LiveView(session, self.canvas, device_text, size, view=view)
        self.compare = ComparePanel()
        self.compare_worker = CompareWorker(session.meta)
        self.train = TrainPanel(session)
        self.info = InfoPanel(session, device_text, self.compare.latencies)
        self.path_panel = CameraPathPanel(session, self.live)
        self.video_dialog: RenderVideoDialog | None = None
        self._layout(size or DEFAULT_CANVAS, fit_to_screen)
        self.recent = RecentFiles()
        if session.path.resolve() != BUNDLED_DEMO.resolve():  # (the demo is what opens without a scene)
            self.recent.add(session.path)
        self._make_menus()
        self._wire()
        self.setAcceptDrops(True)
        self._show_title()
        self._models_changed()
        self.close_timer = QTimer(self, interval=CLOSE_POLL_MS, timeout=self.close)
        self.compare_worker.start()

    def _layout(self, canvas_size: tuple[int, int], fit_to_screen: bool) -> None:
        self.tabs = QTabWidget()
        for widget, title in ((scrolling(self.compare), "Compare"), (scrolling(self.train), "Train"),
                              (self.info, "Info"), (scrolling(self.path_panel), "Path")):
            self.tabs.addTab(widget, title)
        self.tabs.setMinimumWidth(PANEL_MIN_WIDTH)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(self.canvas)
        self.splitter.addWidget(self.tabs)
        for index, stretch in ((0, 1), (1, 0)):  # a resized window resizes the canvas, not the panel
            self.splitter.setStretchFactor(index, stretch)
            self.splitter.setCollapsible(index, False)
        self.setCentralWidget(self.splitter)
        self.hint = ElidedLabel(status_hint("orbit"))
        self.statusBar().addWidget(self.hint, 1)  # temporary messages cover it; it comes back after them
        self._size_window(canvas_size, fit_to_screen)

    def _size_window(self, canvas_size: tuple[int, int], fit_to_screen: bool) -> None:
        """Room for the canvas size asked for and the panel, within the screen unless told otherwise (a
        --screenshot shows the window at its own size, whatever the virtual screen)."""
        canvas_w, canvas_h = canvas_size
        width, height = canvas_w + PANEL_WIDTH + 12, max(canvas_h + 56, 660)
        screen = self.screen()
        if fit_to_screen and screen is not None:
            room = screen.availableGeometry()
            width, height = min(width, room.width() - DECORATION[0]), min(height, room.height() - DECORATION[1])
        self.resize(width, height)

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if not self.panel_placed:
            self.panel_placed = True
            self._place_panel(PANEL_WIDTH)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if self.panel_placed:
            self._place_panel(self.splitter.sizes()[1])

    def _place_panel(self, wanted: int) -> None:
        """Give the side panel `wanted` pixels, but no more than its share of a narrow window (the canvas first)."""
        total = sum(self.splitter.sizes())
        panel = max(PANEL_MIN_WIDTH, min(wanted, round(total * PANEL_MAX_SHARE)))
        if panel != self.splitter.sizes()[1]:
            self.splitter.setSizes([total - panel, panel])

    def _make_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        self.add_bound_action(file_menu, "open", self.open_dialog)
        self.recent_menu = file_menu.addMenu("Open recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
        file_menu.addSeparator()
        self.add_bound_action(file_menu, "save_view", self.save_view)
        self.add_bound_action(file_menu, "save_window", self.save_window_dialog)
        file_menu.addAction("Render video...").triggered.connect(self.open_video_dialog)
        self.add_bound_action(file_menu, "quit", self.close)
        view_menu = self.menuBar().addMenu("&View")
        self.add_bound_action(view_menu, "reset", self.live.reset)
        self.add_bound_action(view_menu, "previous_camera", lambda: self.live.step_camera(-1))
        self.add_bound_action(view_menu, "next_camera", lambda: self.live.step_camera(+1))
        view_menu.addSeparator()
        self._make_view_actions(view_menu)
        view_menu.addSeparator()
        self.add_bound_action(view_menu, "heatmap", self.compare.heatmap.toggle)
        self.add_bound_action(view_menu, "add_keyframe", self.path_panel.add_current_view)
        help_menu = self.menuBar().addMenu("&Help")
        self.add_bound_action(help_menu, "help", self.show_help)
        about = help_menu.addAction("About R2L Viewer")
        about.triggered.connect(self.show_about)

    def _make_view_actions(self, menu) -> None:
        """Render mode (one of three), split view and fly navigation: checkable, following the live view."""
        modes = menu.addMenu("Render mode")
        group = QActionGroup(self)
        self.mode_actions = {}
        for mode in ("colour", "depth", "error"):
            action = self.add_bound_action(modes, f"mode_{mode}", lambda _=False, m=mode: self.live.set_mode(m))
            action.setCheckable(True)
            group.addAction(action)
            self.mode_actions[mode] = action
        self.split_action = self.add_bound_action(menu, "split", self.live.set_split)
        self.fly_action = self.add_bound_action(menu, "fly", self.live.set_fly)
        for action in (self.split_action, self.fly_action):
            action.setCheckable(True)
        self._show_view_state()

    def add_bound_action(self, menu, name: str, slot) -> QAction:
        """A menu action named, and given its key, by its row in the bindings table (r2l_viewer/app/bindings.py)."""
        action = QAction(binding(name).title, self)
        action.setShortcut(key_sequence(name))
        action.triggered.connect(slot)
        menu.addAction(action)
        return action

    def _show_view_state(self) -> None:
        """Tick the mode, split and fly actions as the live view has them; the status bar names its keys."""
        view = self.live.view
        for mode, action in self.mode_actions.items():
            action.setChecked(mode == view.mode)
        self.split_action.setChecked(view.split)
        self.fly_action.setChecked(self.live.fly is not None)
        self.hint.set_full_text(status_hint("fly" if self.live.fly is not None else "orbit"))

    def _wire(self) -> None:
        live, session = self.live, self.session
        live.camera_moved.connect(self.compare.camera_moved)
        live.camera_moved.connect(self.compare_worker.cancel)
        live.frame_shown.connect(self._follow_live_student)
        live.full_frame_shown.connect(self.request_compare)
        live.message.connect(self.show_message)
        live.view_changed.connect(self._show_view_state)
        self.compare_worker.compared.connect(self.compare.show_result)
        self.compare_worker.coarse_teacher.connect(self._show_coarse_teacher)
        self.compare_worker.compare_failed.connect(self.show_message)
        self.train.message.connect(self.show_message)
        self.path_panel.message.connect(self.show_message)
        self.path_panel.render_requested.connect(self.open_video_dialog)
        for gesture in (self.canvas.pointer.orbit, self.canvas.pointer.pan, self.canvas.pointer.zoom):
            gesture.connect(self.path_panel.stop_playing)  # the user takes the camera back from a playing path
        session.student_changed.connect(self._snapshot_or_models_changed)
        session.teacher_changed.connect(self._snapshot_or_models_changed)
        session.scene_changed.connect(self._scene_changed)
        session.opened.connect(self._scene_opened)

    def _show_coarse_teacher(self, result) -> None:
        if self.compare_worker.is_current(result):
            self.compare.show_coarse_teacher(result)

    def _follow_live_student(self, frame) -> None:
        """Between compare results the student pane follows the live view (when that shows the student)."""
        if not frame.full and frame.key == ("student", "rgb"):
            self.compare.show_live_student(frame.rgb)

    def _snapshot_or_models_changed(self) -> None:
        """While a job trains, follow its snapshots at the moving resolution (leaving the CPU to training)."""
        self._models_changed(full=not self.train.busy)

    def _models_changed(self, full: bool = True) -> None:
        session = self.session
        self.compare_worker.set_models(session.teacher, session.student)
        teacher = session.checkpoint.teacher
        self.compare.set_model_names(f"Teacher ({teacher['kind']})" if teacher else "Teacher",
                                     session.student_label.capitalize(),
                                     (architecture(session.teacher), architecture(session.student)))
        self.compare.show_missing(session.teacher is not None, session.student is not None)
        size = compare_intrinsics(session.meta.intrinsics)
        self.compare.set_compare_size(size.width, size.height)
        self.live.refresh(full)

    def _scene_changed(self) -> None:
        self.compare_worker.set_meta(self.session.meta)
        self._models_changed()

    def _scene_opened(self) -> None:
        """Another scene: the compare figures and timings of the old one go."""
        self.compare.camera_moved()
        self.compare.latencies.clear("teacher", "student")

    def request_compare(self, *_) -> None:
        """Teacher and student for the camera now shown (called once a full-resolution frame is up)."""
        intrinsics = compare_intrinsics(self.session.meta.intrinsics).zoomed(self.live.camera.focal_scale)
        self.compare_worker.request(CompareRequest(self.live.pose(), intrinsics, self.live.camera_ref))

    # ---- opening scenes -----------------------------------------------------------------------------------
    def open_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open scene", str(self.session.path.parent),
                                              "Scene checkpoints (*.ckpt);;All files (*)")
        if path:
            self.open_path(path)

    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        paths = [p for p in self.recent.paths() if p != self.session.path.resolve()]
        for path in paths:
            action = self.recent_menu.addAction(f"{path.name}  ({path.parent})")
            action.triggered.connect(lambda _=False, p=path: self.open_path(p))
        if not paths:
            self.recent_menu.addAction("(no other scene opened lately)").setEnabled(False)

    def open_path(self, path) -> bool:
        """Open another scene checkpoint in this window; a failure is one line in the status bar."""
        if self.train.busy:
            self.show_message(f"cannot open {Path(path).name} while a job is running: stop it first", 20_000)
            return False
        try:
            loaded = open_scene(path, self.session.device)
        except CheckpointError as exc:
            self.show_message(f"not opened: {exc}", 20_000)
            return False
        self.compare_worker.cancel()
        self.session.open(loaded)
        self.recent.add(loaded.path)
        self._show_title()
        unchecked = " (it has no checksums, so damage to it cannot be detected)" if loaded.checkpoint.unchecked else ""
        self.show_message(f"opened {loaded.path}{unchecked}")
        return True

    def _show_title(self) -> None:
        self.setWindowTitle(f"R2L Viewer: {self.session.meta.name} ({self.session.path.name})")

    def dragEnterEvent(self, event) -> None:
        if dropped_checkpoint(event.mimeData()) is not None:
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        path = dropped_checkpoint(event.mimeData())
        if path is not None:
            event.acceptProposedAction()
            self.open_path(path)

    def open_video_dialog(self) -> None:
        """The Render video dialog (one per window; it keeps its settings between openings)."""
        if self.video_dialog is None:
            self.video_dialog = RenderVideoDialog(self.session, self.path_panel, self)
            self.video_dialog.ended.connect(lambda outcome: self.show_message(f"video render {outcome}: "
                                                                              f"{self.video_dialog.status.text()}"))
        elif not self.video_dialog.busy:
            self.video_dialog.refresh()
        self.video_dialog.show()
        self.video_dialog.raise_()

    # ---- saving and messages ------------------------------------------------------------------------------
    def save_view(self) -> None:
        try:
            path = self.live.save_frame()
        except OSError as exc:
            self.show_message(str(exc), 20_000)
            return
        self.show_message("nothing rendered yet" if path is None else f"saved the view as {path}")

    def save_window_dialog(self) -> None:
        start = view_folders()[0] / "r2l-window.png"
        path, _ = QFileDialog.getSaveFileName(self, "Save window", str(start), "PNG images (*.png)")
        if path:
            self.save_window(path)

    def save_window(self, path: str) -> bool:
        path = path if Path(path).suffix else f"{path}.png"
        try:
            save_pixmap_png(self.grab(), path)
        except ImageWriteError as exc:
            self.show_message(f"could not save the window as {path}: {exc.reason}", 20_000)
            return False
        self.show_message(f"saved the window as {path}")
        return True

    def show_message(self, text: str, timeout_ms: int = 8000) -> None:
        self.statusBar().showMessage(text, timeout_ms)

    def show_help(self) -> None:
        self.help_box = show_keys_help(self)

    def show_about(self) -> None:
        self.help_box = show_about(self, self.device_text)

    # ---- closing ------------------------------------------------------------------------------------------
    def closeEvent(self, event) -> None:
        if not self._threads_ended():
            event.ignore()
            return
        self.close_timer.stop()
        self.is_closed = True
        super().closeEvent(event)
        self.closed.emit()

    def _threads_ended(self) -> bool:
        """Ask every thread to end; True once none runs. A running job is stopped only if the user agrees; until
        its thread ends (it saves first) closing polls instead of blocking the window."""
        if self.train.busy:
            if not self.closing:
                if not ask(self, "A job is running. Stop it (it saves what it has learnt so far) and close?"):
                    return False
                self.closing = True
                self.train.stop()
                self.show_message("stopping the job before closing: it saves and ends at its next step...", 0)
                self.close_timer.start()
            return False
        if self.video_dialog is not None and self.video_dialog.busy:
            self.video_dialog.stop()  # (the unfinished video is deleted)
            self.close_timer.start()
            return False
        self.closing = True
        self.path_panel.stop_playing()
        self.live.request_stop()
        self.compare_worker.request_stop()
        threads = (self.live.worker, self.compare_worker)
        for thread in threads:
            thread.wait(THREAD_WAIT_MS)
        if any(thread.isRunning() for thread in threads):
            self.close_timer.start()
            return False
        return True

    def wait_for_threads(self) -> None:
        """Stop and join every thread, blocking (after the event loop ended without the window closing)."""
        if self.train.thread is not None:
            self.train.thread.stop()
            self.train.thread.wait()
        if self.video_dialog is not None and self.video_dialog.thread is not None:
            self.video_dialog.thread.stop()
            self.video_dialog.thread.wait()
        self.live.request_stop()
        self.compare_worker.request_stop()
        self.live.worker.wait()
        self.compare_worker.wait()
