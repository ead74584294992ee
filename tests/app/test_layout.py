"""The window at small sizes: it fits a 1024x700 screen with any tab open, the canvas keeps most of the width,
panels scroll, the overlay and the status hint are cut with '…' instead of clipped, log-axis labels stay apart."""

from __future__ import annotations

from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import QScrollArea

from r2l_viewer.app.bindings import BINDINGS
from r2l_viewer.app.panels.plots import MIN_LABEL_GAP_PX, format_tick, log_ticks


def show_tabs(qtbot, window):
    """Yield with each tab shown (and the Train tab's Distill settings open, its tallest)."""
    for index in range(window.tabs.count()):
        window.tabs.setCurrentIndex(index)
        window.train.settings.tabs.setCurrentIndex(1)
        qtbot.wait(50)
        yield window.tabs.tabText(index)


def test_the_window_fits_1024x700_with_any_tab_and_the_canvas_keeps_half(qtbot, make_window, demo_checkpoint):
    window = make_window(demo_checkpoint, size=None)
    for tab in show_tabs(qtbot, window):
        hint = window.minimumSizeHint()
        assert hint.width() <= 1024 and hint.height() <= 700, (tab, hint)
    window.resize(1024, 700)
    for tab in show_tabs(qtbot, window):
        assert window.size().width() == 1024 and window.size().height() == 700, tab  # nothing made it grow
        assert window.canvas.width() >= 0.5 * 1024, (tab, window.canvas.width())
    window.resize(800, 600)
    qtbot.wait(50)
    assert window.canvas.width() >= 400 and window.tabs.width() >= 300
    panels = [window.tabs.widget(i) for i in range(window.tabs.count())]
    assert all(isinstance(p, QScrollArea) or p.findChild(QScrollArea) for p in panels), "every panel scrolls"


def test_a_narrow_canvas_elides_the_overlay_instead_of_clipping_it(qtbot, make_window, demo_checkpoint):
    window = make_window(demo_checkpoint)
    qtbot.waitUntil(lambda: bool(window.canvas.overlay), timeout=30_000)
    window.resize(560, 500)
    window.splitter.setSizes([170, 390])
    qtbot.wait(50)
    label, canvas = window.canvas.overlay_label, window.canvas
    assert label.x() + label.width() <= canvas.width(), "the overlay runs past the canvas"
    shown = label.text().splitlines()
    assert len(shown) == len(canvas.overlay) and any(line.endswith("…") for line in shown)


def test_the_status_hint_names_every_key_and_f1_lists_them(qtbot, make_window, demo_checkpoint):
    window = make_window(demo_checkpoint)
    hint = window.hint.full_text
    for key in ("R", "[ ]", "S", "H", "F1"):
        assert f" {key} " in f" {hint} ", key
    assert window.hint.minimumSizeHint().width() == 0, "the hint must not widen the window"
    window.resize(window.minimumSizeHint())
    qtbot.wait(50)
    natural = window.hint.fontMetrics().horizontalAdvance(hint)
    assert natural > window.hint.width(), "the window's minimum width should be narrower than the hint"
    assert window.hint.text().endswith("…") and window.hint.toolTip() == hint
    qtbot.keyClick(window, Qt.Key.Key_F1)
    box = window.help_box
    assert box is not None and box.isVisible() and not box.isModal()
    assert all(row.what in box.text() for row in BINDINGS)
    box.close()


def test_log_axis_labels_are_spaced_and_readable():
    for low, high, pixels in ((-3, -1, 100), (-1.2, -0.9, 100), (0, 1, 90), (-8, 2, 80), (-2.5, -2.45, 120)):
        ticks = log_ticks(low, high, pixels)
        assert len(ticks) >= 2, (low, high)
        gaps = [(b - a) * pixels / (high - low) for a, b in zip(ticks, ticks[1:])]
        assert min(gaps) >= MIN_LABEL_GAP_PX * 0.9, (low, high, gaps)
        labels = [format_tick(t) for t in ticks]
        assert len(set(labels)) == len(labels) and max(map(len, labels)) <= 6, labels
    assert [format_tick(t) for t in log_ticks(-3, -1, 100)] == ["0.001", "0.01", "0.1"]
