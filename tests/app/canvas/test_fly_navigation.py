"""Fly navigation in the window: F toggles it, held W A S D Q E move the camera the expected way (faster with Shift),
the mouse looks around, S flies back instead of saving, and every key is in the one bindings table F1 lists."""

from __future__ import annotations

import torch
from PyQt6.QtCore import Qt
from PyQt6.QtTest import QTest

from r2l_viewer.app.bindings import BINDINGS, FLY_FAST, FLY_MOTIONS, fly_keys
from r2l_viewer.app.canvas.fly_keys import FlyKeys

from ..helpers import changed_image, drag, wait_at_rest

HOLD_MS = 250


def hold(qtbot, window, key, modifier=Qt.KeyboardModifier.NoModifier) -> torch.Tensor:
    """Hold `key` on the canvas for HOLD_MS; how far the fly camera went (a world vector)."""
    start = torch.tensor(window.live.fly.position)
    QTest.keyPress(window.canvas, key, modifier)
    qtbot.wait(HOLD_MS)
    QTest.keyRelease(window.canvas, key, modifier)
    return torch.tensor(window.live.fly.position) - start


def test_f_toggles_fly_and_the_fly_keys_move_the_camera_the_expected_way(qtbot, make_window, demo_checkpoint,
                                                                         tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # where S would save a view
    window = make_window(demo_checkpoint)
    wait_at_rest(qtbot, window)
    before, orbit_pose = window.live.last_frame.rgb, window.live.pose()
    QTest.keyClick(window, Qt.Key.Key_F)
    fly = window.live.fly
    assert fly is not None and window.fly_action.isChecked() and "W A S D Q E move" in window.hint.full_text
    assert torch.allclose(window.live.pose(), orbit_pose, atol=1e-5), "flying starts from the view shown"
    qtbot.waitUntil(window.canvas.hasFocus, timeout=5_000)
    pose = fly.c2w()
    up = torch.tensor(window.session.meta.orbit_up)
    expected = {Qt.Key.Key_W: -pose[:3, 2], Qt.Key.Key_S: pose[:3, 2], Qt.Key.Key_A: -pose[:3, 0],
                Qt.Key.Key_D: pose[:3, 0], Qt.Key.Key_E: up, Qt.Key.Key_Q: -up}
    for key, direction in expected.items():
        moved = hold(qtbot, window, key)
        assert moved.norm() > 0.05 * fly.speed * HOLD_MS / 1000, key
        assert float(moved @ direction) / float(moved.norm()) > 0.99, (key, moved)
    assert list(tmp_path.glob("r2l-view-*.png")) == [], "S flew back; it must not save a view while flying"
    slow = hold(qtbot, window, Qt.Key.Key_W).norm()
    fast = hold(qtbot, window, Qt.Key.Key_W, Qt.KeyboardModifier.ShiftModifier).norm()
    assert fast > 2 * slow, (slow, fast)
    assert torch.allclose(fly.c2w()[:3, :3], pose[:3, :3], atol=1e-5), "moving never turns the view"
    wait_at_rest(qtbot, window)
    assert changed_image(window.live.last_frame.rgb, before) and "fly" in " ".join(window.canvas.overlay)

    right, position = fly.right(), fly.position
    drag(window.canvas, (60, 80), (100, 80))
    assert float(fly.forward() @ right) > 0.1 and fly.position == position, "dragging right looks right"
    speed = fly.speed
    window.live.zoom(1)
    assert fly.speed > speed

    flown = window.live.pose()
    QTest.keyClick(window, Qt.Key.Key_F)
    assert window.live.fly is None and not window.fly_action.isChecked() and "drag orbit" in window.hint.full_text
    assert torch.allclose(window.live.pose(), flown, atol=1e-5), "orbiting continues from where the flight ended"
    QTest.keyClick(window.canvas, Qt.Key.Key_S)
    assert len(list(tmp_path.glob("r2l-view-*.png"))) == 1, "back in orbit, S saves the view again"


def test_every_key_comes_from_the_bindings_table(qtbot, make_window, demo_checkpoint):
    window = make_window(demo_checkpoint)
    shortcuts = {}
    menus = [a.menu() for a in window.menuBar().actions()]
    while menus:
        menu = menus.pop()
        for action in menu.actions():
            if action.menu() is not None:
                menus.append(action.menu())
            elif not action.shortcut().isEmpty():
                shortcuts[action.shortcut().toString()] = action.text()
    keyed = {row.keys: row for row in BINDINGS if row.is_key and row.name not in FLY_MOTIONS and row.name != FLY_FAST}
    assert set(shortcuts) == set(keyed), "a menu key missing from the table, or a table key without an action"
    assert all(shortcuts[keys] == row.title for keys, row in keyed.items())
    assert sorted(FLY_MOTIONS.values()) == sorted(fly_keys().values()), "a fly motion without its key"
    assert set(FlyKeys(window.canvas).motions) == set(fly_keys())
    QTest.keyClick(window, Qt.Key.Key_F1)
    text = window.help_box.text()
    assert all(row.keys in text and row.what in text for row in BINDINGS)
    window.help_box.close()
