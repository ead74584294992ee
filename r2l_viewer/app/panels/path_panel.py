"""The Camera path panel: keyframes from the current view (K), listed to go to, delete and reorder; played back in
the canvas; loaded and saved as nerfstudio camera-path JSON; the scene's standard orbit as a ready path."""

from __future__ import annotations

import math
import time
from pathlib import Path

from PyQt6.QtCore import QTimer, pyqtSignal
from PyQt6.QtWidgets import (
    QCheckBox, QDoubleSpinBox, QFileDialog, QFormLayout, QGridLayout, QLabel, QListWidget, QPushButton, QVBoxLayout,
    QWidget,
)

from r2l_viewer.core.camera_path import CameraPath, CameraPathError, Keyframe, vertical_fov
from r2l_viewer.core.camera_path_json import load_camera_path, save_camera_path
from r2l_viewer.core.cameras import pose_angles
from r2l_viewer.core.standard_paths import standard_path

PLAY_INTERVAL_MS = 33  # playback sets the camera about 30 times a second (the canvas renders what it can keep up with)
JSON_FILTER = "nerfstudio camera paths (*.json);;All files (*)"


def focal_scale_for(fov: float, native_fov: float) -> float:
    """The viewer's zoom (focal length as a multiple of the scene's) that shows a vertical field of view."""
    return math.tan(math.radians(native_fov) / 2.0) / math.tan(math.radians(fov) / 2.0)


class CameraPathPanel(QWidget):
    """Edits one CameraPath (`self.path`) and plays it through the live view's camera. `message` carries notes for
    the status bar; `render_requested` asks the window for the Render video dialog."""

    message = pyqtSignal(str)
    render_requested = pyqtSignal()

    def __init__(self, session, live, parent=None):
        super().__init__(parent)
        self.session, self.live = session, live
        self.path = self._empty_path()
        self._showing = False  # the boxes are being set from the path, not edited by the user
        self.play_started: float | None = None
        self.timer = QTimer(self, interval=PLAY_INTERVAL_MS, timeout=self._play_tick)
        self.keyframes = QListWidget()
        self.keyframes.itemDoubleClicked.connect(lambda _: self.go_to_selected())
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.loop = QCheckBox("Loop (back to the first keyframe)")
        self.transition = QDoubleSpinBox(decimals=2, minimum=0.05, maximum=60.0, singleStep=0.5, suffix=" s")
        self.fps = QDoubleSpinBox(decimals=1, minimum=1.0, maximum=240.0, singleStep=1.0, suffix=" fps")
        self.buttons = {name: QPushButton(text) for name, text in (
            ("add", "Add view (K)"), ("go", "Go to"), ("delete", "Delete"), ("up", "Move up"), ("down", "Move down"),
            ("play", "Play"), ("orbit", "Standard orbit"), ("clear", "Clear"), ("load", "Load JSON..."),
            ("save", "Save JSON..."), ("render", "Render video..."))}
        self._layout()
        self._connect()
        session.opened.connect(self.start_afresh)
        self._show_path()

    def _layout(self) -> None:
        grid = QGridLayout()
        for index, name in enumerate(("add", "go", "delete", "up", "down", "clear")):
            grid.addWidget(self.buttons[name], index // 2, index % 2)
        timing = QFormLayout()
        timing.addRow("between keyframes", self.transition)
        timing.addRow("frame rate", self.fps)
        files = QGridLayout()
        for index, name in enumerate(("play", "orbit", "load", "save")):
            files.addWidget(self.buttons[name], index // 2, index % 2)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.keyframes, 1)
        layout.addLayout(grid)
        layout.addWidget(self.loop)
        layout.addLayout(timing)
        layout.addLayout(files)
        layout.addWidget(self.buttons["render"])
        self.transition.setToolTip("seconds the camera takes from one keyframe to the next")
        self.fps.setToolTip("frames per second of playback and of the rendered video")

    def _connect(self) -> None:
        actions = {"add": self.add_current_view, "go": self.go_to_selected, "delete": self.delete_selected,
                   "up": lambda: self.move_selected(-1), "down": lambda: self.move_selected(+1),
                   "play": self.toggle_play, "orbit": self.use_standard_path, "clear": self.clear,
                   "load": self.load_dialog, "save": self.save_dialog, "render": self.render_requested.emit}
        for name, action in actions.items():
            self.buttons[name].clicked.connect(action)
        self.loop.toggled.connect(lambda on: self._set_timing(loop=on))
        self.transition.valueChanged.connect(lambda value: self._set_timing(transition=value))
        self.fps.valueChanged.connect(lambda value: self._set_timing(fps=value))

    # ---- the path -----------------------------------------------------------------------------------------
    def _empty_path(self) -> CameraPath:
        intrinsics = self.session.meta.intrinsics
        return CameraPath([], intrinsics.width, intrinsics.height)

    def start_afresh(self) -> None:
        """Another scene was opened: its own, empty path."""
        self.stop_playing()
        self.set_path(self._empty_path())

    def set_path(self, path: CameraPath, note: str = "") -> None:
        self.path = path
        self._show_path()
        if note:
            self.message.emit(note)

    def native_fov(self) -> float:
        return vertical_fov(self.session.meta.intrinsics)

    def current_keyframe(self) -> Keyframe:
        """The view the canvas shows now, as a keyframe."""
        camera = self.live.camera
        return Keyframe(camera.c2w().double(), vertical_fov(self.session.meta.intrinsics.zoomed(camera.focal_scale)))

    def add_current_view(self) -> None:
        row = self.keyframes.currentRow()
        at = row + 1 if row >= 0 else None  # after the selected keyframe, else at the end
        self.set_path(self.path.add(self.current_keyframe(), at))
        self.keyframes.setCurrentRow(len(self.path.keyframes) - 1 if at is None else at)
        self.message.emit(f"keyframe {self.keyframes.currentRow() + 1} added: {len(self.path.keyframes)} in the path")

    def go_to_selected(self) -> None:
        row = self.keyframes.currentRow()
        if row < 0:
            self.message.emit("select a keyframe first")
            return
        self.stop_playing()
        self.show_view(self.path.keyframes[row].c2w, self.path.keyframes[row].fov)

    def delete_selected(self) -> None:
        row = self.keyframes.currentRow()
        if row >= 0:
            self.set_path(self.path.remove(row))
            self.keyframes.setCurrentRow(min(row, len(self.path.keyframes) - 1))

    def move_selected(self, offset: int) -> None:
        row = self.keyframes.currentRow()
        if row >= 0:
            self.set_path(self.path.move(row, offset))
            self.keyframes.setCurrentRow(min(max(row + offset, 0), len(self.path.keyframes) - 1))

    def clear(self) -> None:
        self.stop_playing()
        self.set_path(self._empty_path())

    def use_standard_path(self) -> None:
        checkpoint = self.session.checkpoint
        path = standard_path(checkpoint.meta, checkpoint.cameras, fps=self.path.fps)
        self.set_path(path, f"the scene's standard path: {path.frame_count()} frames, one keyframe per frame")

    def _set_timing(self, **changes) -> None:
        if getattr(self, "_showing", False):
            return
        self.set_path(self.path.edited(self.path.keyframes, **changes))

    # ---- files --------------------------------------------------------------------------------------------
    def load_dialog(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self, "Load a camera path", str(self.session.path.parent), JSON_FILTER)
        if name:
            self.load(name)

    def load(self, filename: str | Path) -> bool:
        try:
            path = load_camera_path(filename)
        except CameraPathError as exc:
            self.message.emit(f"not loaded: {exc}")
            return False
        self.stop_playing()
        self.set_path(path, f"loaded {Path(filename).name}: {path.frame_count()} frames, {len(path.keyframes)} "
                            "keyframes")
        return True

    def save_dialog(self) -> None:
        start = self.session.path.with_name(f"{self.session.path.stem}-path.json")
        name, _ = QFileDialog.getSaveFileName(self, "Save the camera path", str(start), JSON_FILTER)
        if name:
            self.save(name if Path(name).suffix else f"{name}.json")

    def save(self, filename: str | Path) -> bool:
        try:
            self.path.check_playable()
            saved = save_camera_path(self.path, filename)
        except CameraPathError as exc:
            self.message.emit(f"not saved: {exc}")
            return False
        except OSError as exc:
            self.message.emit(f"not saved: {filename}: {exc.strerror or exc}")
            return False
        self.message.emit(f"saved the camera path as {saved} (nerfstudio camera-path JSON)")
        return True

    # ---- playback -----------------------------------------------------------------------------------------
    @property
    def playing(self) -> bool:
        return self.play_started is not None

    def toggle_play(self) -> None:
        self.stop_playing() if self.playing else self.play()

    def play(self) -> bool:
        try:
            self.path.check_playable()
        except CameraPathError as exc:
            self.message.emit(str(exc))
            return False
        self.play_started = time.monotonic()
        self.buttons["play"].setText("Stop")
        self.timer.start()
        self._play_tick()
        return True

    def stop_playing(self) -> None:
        if self.playing:
            self.timer.stop()
            self.play_started = None
            self.buttons["play"].setText("Play")

    def _play_tick(self) -> None:
        seconds = time.monotonic() - self.play_started
        end = self.path.seconds if self.path.file_frames is not None else self.path.duration
        frame = self.path.at(seconds)
        self.show_view(frame.c2w, frame.fov)
        if not self.path.loop and seconds >= end:
            self.stop_playing()

    def show_view(self, c2w, fov: float) -> None:
        """Show a pose with its field of view in the canvas (the orbit continues from it)."""
        self.live.show_pose(c2w.float(), focal_scale_for(fov, self.native_fov()))

    # ---- showing ------------------------------------------------------------------------------------------
    def _show_path(self) -> None:
        self._showing = True  # (setting the boxes must not count as the user's edit)
        path, row = self.path, self.keyframes.currentRow()
        self.keyframes.clear()
        meta = self.session.meta
        for index, key in enumerate(path.keyframes):
            azimuth, elevation, radius = pose_angles(key.c2w.float(), meta.orbit_center, meta.orbit_up)
            self.keyframes.addItem(f"{index + 1}.  az {azimuth:.0f}°  el {elevation:.0f}°  r {radius:.2f}  "
                                   f"fov {key.fov:.1f}°")
        self.keyframes.setCurrentRow(min(row, len(path.keyframes) - 1))
        self.loop.setChecked(path.loop)
        self.transition.setValue(path.transition)
        self.fps.setValue(path.fps)
        self._showing = False
        playable = path.file_frames is not None or len(path.keyframes) >= 2
        for name in ("play", "save", "render"):
            self.buttons[name].setEnabled(playable or name == "render")
        self.summary.setText(self._summary())

    def _summary(self) -> str:
        path = self.path
        if not path.keyframes:
            return "No keyframes yet: show a view and press K (or Add view), at least twice; or take the standard " \
                   "orbit."
        if len(path.keyframes) < 2:
            return "1 keyframe: add at least one more."
        source = " (the frames of the loaded file)" if path.file_frames is not None else ""
        return (f"{len(path.keyframes)} keyframes, {path.frame_count()} frames{source}, {path.seconds:.1f} s at "
                f"{path.fps:g} fps, {path.width}x{path.height}{', loop' if path.loop else ''}")
