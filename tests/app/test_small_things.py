"""Small things a new user saw: no stale ETA after Stop, no '0.0 FPS' after a jump, why the demo is copied, one
history row per stage, no dark bars beside the frame, viewer words in job messages, where S saves."""

from __future__ import annotations

import io

import numpy as np
from PyQt6.QtCore import Qt

from r2l_viewer.app import saving
from r2l_viewer.app.panels.job_text import in_viewer_words
from r2l_viewer.app.panels.model_info import history_rows
from r2l_viewer.app.canvas.pacing import FpsMeter
from r2l_viewer.core import plain_files
from trainers.events import DONE, PROGRESS, Event
from trainers.storage.resume import conflict_error, resumable_note

from ..core.test_full_disk import FULL, DiskWithRoom
from .conftest import BUNDLED, yes
from .helpers import image_array, wait_at_rest
from .panels.test_training import set_tiny_distill, start_long_distill


def test_after_stop_no_eta_is_left_and_starting_again_offers_to_continue(qtbot, make_window, scene_copy, dialogs):
    window = make_window(scene_copy)
    train = window.train
    start_long_distill(qtbot, window, dialogs, ready=lambda t: t.progress.value() > 2 and "ETA" in t.progress.format())
    with qtbot.waitSignal(train.job_ended, timeout=30_000):
        train.stop()
    qtbot.waitUntil(lambda: not train.busy, timeout=30_000)
    assert "ETA" not in train.progress.format() and train.progress.format().endswith("stopped")
    step = window.session.checkpoint.student["step"]
    assert window.session.student_label == f"student (distillation stopped at step {step} of 1000000)"
    qtbot.mouseClick(train.buttons["distill"], Qt.MouseButton.LeftButton)
    assert f"An interrupted distill run is saved at step {step} of 1000000" in dialogs.questions[-1]
    assert train.busy and train.thread.ctx.resume and not train.thread.ctx.force
    with qtbot.waitSignal(train.job_ended, timeout=60_000):
        qtbot.waitUntil(lambda: train.progress.value() > step, timeout=60_000)
        train.stop()
    assert "--" not in train.log.toPlainText().split(f"resuming at step {step}")[-1]


def test_a_full_disk_in_the_panel_is_the_clean_line_in_viewer_words(qtbot, make_window, scene_copy, dialogs,
                                                                   monkeypatch):
    window = make_window(scene_copy)
    dialogs.reply = yes()
    set_tiny_distill(window, steps=4)
    room = scene_copy.stat().st_size // 2
    monkeypatch.setattr(plain_files, "open", lambda name, mode: io.BufferedWriter(DiskWithRoom(name, room)),
                        raising=False)
    with qtbot.waitSignal(window.train.job_ended, timeout=120_000) as ended:
        qtbot.mouseClick(window.train.buttons["distill"], Qt.MouseButton.LeftButton)
    status = window.train.status.text()
    assert ended.args == ["failed"] and FULL in status and "RuntimeError" not in status
    assert "--out" not in status and "--resume" not in status and "start the same job again" in status


def test_job_messages_lose_their_command_line_words():
    messages = [
        "distill: could not save at step 5: disk full; free space (or choose another --out), then run the same "
        "command with --resume",
        "stopped at step 3; not saved, so the interrupted run saved at step 9 is kept: continue it with --resume",
        "distill: disk full; the save at step 4 is kept: fix it, then run the same command with --resume",
        "cannot write into /x (Permission denied); choose another --out",
        "no pseudo data yet: finish it, or distil with --distill.online true",
        "settled: the best validation PSNR rose 0.07 dB over the last 500 steps (under --teacher.settle_db 0.1); "
        "training ends at step 2500 of 3600",
        resumable_note("distill", 5, 40, 20),
        str(conflict_error("distill", [("--seed", 1, 2)])),
    ]
    for message in messages:
        text = in_viewer_words(message)
        assert "--out" not in text and "--resume" not in text and "--distill" not in text, text
        assert "--teacher" not in text, text


def test_a_teacher_that_settled_early_shows_the_step_it_ended_at(qtbot, make_window, demo_checkpoint):
    window = make_window(demo_checkpoint)
    train = window.train
    train._on_event(Event("teacher", PROGRESS, 2490, 3600, loss=0.01, psnr=20.0, lr=0.01, rays_per_s=1.0, eta_s=5.0))
    train._on_event(Event("teacher", DONE, 2500, 3600, message="teacher trained in 10 min (settled at step 2500 of "
                                                                "3600)"))
    assert (train.progress.value(), train.progress.maximum()) == (2500, 3600)  # not a full bar at step 3600


def test_the_frame_rate_is_not_shown_as_zero_after_a_jump(qtbot, make_window, demo_checkpoint):
    meter = FpsMeter()
    meter.tick()
    assert meter.fps is None
    window = make_window(demo_checkpoint)
    wait_at_rest(qtbot, window)
    window.live.fps = meter
    window.live.moving = True
    assert window.live.overlay_lines(window.live.last_frame)[0].startswith("moving ")


def test_the_bundled_demo_is_copied_because_it_stays_as_shipped(qtbot, make_window, demo_checkpoint):
    window = make_window(demo_checkpoint)
    path, note = window.session.job_path()
    assert path != BUNDLED and note.startswith("the bundled demo stays as shipped, so this training goes into a new copy")
    assert "not writable" not in note


def test_info_shows_the_latest_result_of_each_stage_once():
    history = [{"stage": "distill", "step": 10, "time": "2026-11-25T06:17:43", "val_psnr": 26.5},
               {"stage": "finetune", "step": 400, "time": "2026-11-25T06:17:58", "val_psnr": 26.6},
               {"stage": "teacher", "event": "replaced", "old_id": "x"},
               {"stage": "finetune", "step": 1000, "time": "2026-11-27T10:09:06", "val_psnr": 27.3}]
    assert history_rows(history) == [("last distill", "val_psnr 26.50 at step 10, 2026-11-25 06:17"),
                                     ("last finetune", "val_psnr 27.30 at step 1000, 2026-11-27 10:09")]


def test_the_room_beside_the_frame_is_the_scenes_background(qtbot, make_window, demo_checkpoint):
    window = make_window(demo_checkpoint)
    total = sum(window.splitter.sizes())
    window.splitter.setSizes([260, total - 260])  # a canvas much taller than wide: room above and below the frame
    qtbot.waitUntil(lambda: window.canvas.width() < window.canvas.height() - 40, timeout=10_000)
    wait_at_rest(qtbot, window)
    qtbot.waitUntil(lambda: window.canvas.display_rect().top() > 10, timeout=10_000)
    pixels = image_array(window.canvas.frame_image())
    ratio = window.canvas.devicePixelRatioF()
    above = pixels[: int(window.canvas.display_rect().top() * ratio) - 2]
    assert above.size and (above >= 250).all(), "the room above the frame is not the demo's white background"


def test_s_prefers_the_pictures_folder_and_never_a_source_checkout(tmp_path, monkeypatch):
    home = tmp_path / "home"
    (home / "Bilder").mkdir(parents=True)
    (home / ".config").mkdir()
    (home / ".config" / "user-dirs.dirs").write_text('XDG_PICTURES_DIR="$HOME/Bilder"\n')
    checkout = tmp_path / "r2l-viewer"
    (checkout / ".git").mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    monkeypatch.chdir(checkout)
    folders = saving.view_folders()
    assert folders[0] == home / "Bilder" and checkout not in folders
    saved = saving.save_view_png(np.zeros((4, 4, 3), np.uint8))
    assert saved.parent == home / "Bilder"
