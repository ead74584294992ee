"""Fly keys on the canvas: while W A S D Q E are held (read from the bindings table), a timer steps the camera."""

from __future__ import annotations

import time

from PyQt6.QtCore import QEvent, QObject, Qt, QTimer, pyqtSignal

from r2l_viewer.app.bindings import fly_keys

TICK_MS = 30  # how often held keys move the camera
MAX_STEP_S = 0.1  # a late tick (a busy GUI thread) moves at most this long, never a jump
BLOCKING_MODIFIERS = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier


class FlyKeys(QObject):
    """While `enabled`, takes the fly keys pressed on `widget` (before the window's shortcuts: S moves back there
    instead of saving) and emits `step(forward, right, up, seconds, fast)` every tick while any is held."""

    step = pyqtSignal(float, float, float, float, bool)

    def __init__(self, widget):
        super().__init__(widget)
        self.widget = widget
        self.enabled = False
        self.motions = fly_keys()
        self.held: set = set()
        self.fast = False
        self.last_tick = 0.0
        self.timer = QTimer(self, interval=TICK_MS, timeout=self._tick)
        widget.installEventFilter(self)

    def set_enabled(self, enabled: bool) -> None:
        self.enabled = enabled
        if not enabled:
            self.release_all()

    def release_all(self) -> None:
        self.held.clear()
        self.fast = False
        self.timer.stop()

    def _is_fly_key(self, event) -> bool:
        return event.key() in self.motions and not (event.modifiers() & BLOCKING_MODIFIERS)

    def eventFilter(self, obj, event) -> bool:
        kind = event.type()
        if not self.enabled:
            return False
        if kind == QEvent.Type.ShortcutOverride and self._is_fly_key(event):
            event.accept()  # the key comes to this widget as a key press instead of triggering a menu shortcut
            return True
        if kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
            return self._key(event, kind == QEvent.Type.KeyPress)
        if kind == QEvent.Type.FocusOut:
            self.release_all()  # a key released elsewhere would otherwise fly on forever
        return False

    def _key(self, event, pressed: bool) -> bool:
        if event.key() == Qt.Key.Key_Shift:
            self.fast = pressed
            return False
        if event.key() not in self.motions or (pressed and not self._is_fly_key(event)):
            return False
        if event.isAutoRepeat():
            return True
        self.fast = bool(event.modifiers() & Qt.KeyboardModifier.ShiftModifier)
        if pressed:
            self._press(event.key())
        else:
            self.held.discard(event.key())
            if not self.held:
                self.timer.stop()
        return True

    def _press(self, key) -> None:
        if not self.held:
            self.last_tick = time.perf_counter()
            self.timer.start()
        self.held.add(key)

    def _tick(self) -> None:
        now = time.perf_counter()
        seconds, self.last_tick = min(now - self.last_tick, MAX_STEP_S), now
        forward = sum(self.motions[k][0] for k in self.held)
        right = sum(self.motions[k][1] for k in self.held)
        up = sum(self.motions[k][2] for k in self.held)
        if forward or right or up:
            self.step.emit(float(forward), float(right), float(up), seconds, self.fast)
