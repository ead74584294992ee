"""The app's lines for failed work: a user's mistake as its one-line message; a bug with its traceback in the
terminal and a request to report it; and the distill settings say why they chose online mode."""

import errno

from r2l_viewer.app.workers.job_thread import BUG_NOTE, one_line, report_failure
from r2l_viewer.app.session import SceneSession, open_scene
from r2l_viewer.app.panels.train_settings import TrainSettings
from r2l_viewer.core.errors import UserError

from tests.app.conftest import CPU


def test_a_user_error_is_its_own_line_and_a_bug_asks_for_a_report(capsys):
    assert one_line(UserError("the folder holds no images")) == "the folder holds no images"
    assert report_failure(OSError(errno.ENOSPC, "No space left on device")) == \
        "OSError: [Errno 28] No space left on device"
    assert capsys.readouterr().err == ""  # neither is a bug: no traceback
    try:
        raise ValueError("math domain error")  # as numpy or torch raise it: not the user's doing
    except ValueError as exc:
        line = report_failure(exc)
    assert line == f"ValueError: math domain error ({BUG_NOTE})"
    err = capsys.readouterr().err
    assert err.startswith("Traceback (most recent call last):") and "ValueError: math domain error" in err


def test_online_distillation_chosen_because_the_scene_is_unreadable_says_so(scene_copy, qtbot):
    session = SceneSession(open_scene(scene_copy, CPU), CPU)
    scene_copy.write_bytes(b"not a checkpoint")  # broken on disk after it was opened
    settings = TrainSettings(session)
    qtbot.addWidget(settings)
    assert settings.forms["distill"].config().online is True
    note = settings.preset_note.text()
    assert "distillation set to online: could not check the pseudo data on disk: " in note
    assert str(scene_copy.name) in note and BUG_NOTE not in note  # an unreadable file: the user's to fix


def test_with_a_readable_scene_the_note_is_the_presets_summary(scene_copy, qtbot):
    settings = TrainSettings(SceneSession(open_scene(scene_copy, CPU), CPU))
    qtbot.addWidget(settings)
    assert "distillation set to online" not in settings.preset_note.text()
