"""The viewer with damaged scenes: File > Open refuses one with the same line the commands print and keeps the open
scene; a student whose pixels are not finite is neither shown nor saved, and the window says why in one line."""

from r2l_viewer.core.checkpoint import DAMAGED

from tests.damaged_scenes import damage_part, small_scene, with_overflowing_student


def test_opening_a_damaged_scene_shows_the_line_and_keeps_the_open_one(qtbot, make_window, scene_without_teacher,
                                                                       tmp_path):
    window = make_window(scene_without_teacher)
    damaged = small_scene(tmp_path / "damaged.ckpt")
    named = damage_part(damaged, "student")
    assert not window.open_path(damaged)
    assert window.statusBar().currentMessage() == f"not opened: {DAMAGED.format(origin=damaged, part=named)}"
    assert window.session.path == scene_without_teacher


def test_a_student_with_non_finite_pixels_is_not_shown_or_saved(qtbot, make_window, tmp_path, monkeypatch):
    window = make_window(with_overflowing_student(small_scene(tmp_path / "overflow.ckpt")))
    qtbot.waitUntil(lambda: "non-finite values (NaN or Inf)" in window.statusBar().currentMessage(), timeout=60_000)
    message = window.statusBar().currentMessage()
    assert "the student's" in message and "neither written nor shown" in message and "\n" not in message
    assert window.live.last_frame is None
    window.save_view()
    assert window.statusBar().currentMessage() == "nothing rendered yet"
