"""Options and output locations are checked before any job runs; OS errors become one line that says what to do."""

import dataclasses
import errno

import pytest

from r2l_viewer.core.config import ConfigError, validate
from r2l_viewer.app.main import build_parser as viewer_parser
from trainers.cli.bench import main as bench_main
from trainers.cli.train import main
from trainers.cli.eval import main as eval_main
from trainers.configs import TeacherConfig
from trainers.jobs.distill import Distill
from trainers.events import DONE, LOG
from trainers.jobs.pipeline import run_all, run_job
from trainers.errors import JobError

from tests.trainers.conftest import context, scene_and_preset, tiny_preset


def _error_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    return err[0]


@pytest.mark.parametrize("flag,value,expected", [
    ("--pseudo.focal_scale", "5", "--pseudo.focal_scale = 5.0 has 1 value(s); give exactly 2"),
    ("--pseudo.elevation", "10", "--pseudo.elevation = 10.0 has 1 value(s); give exactly 2"),
    ("--pseudo.focal_scale", "2,1", "--pseudo.focal_scale = 2.0,1.0: the values must not decrease"),
    ("--pseudo.radius_scale", "0,0", "--pseudo.radius_scale = 0.0 is below its minimum 0.1"),
    ("--pseudo.elevation", "-100,10", "is below its minimum -90"),
    ("--teacher.upsample_steps", "-5", "--teacher.upsample_steps = -5 is below its minimum 1"),
    ("--teacher.upsample_steps", "300,200", "the values must increase"),
])
def test_tuple_options_are_checked_before_any_job_runs(tmp_path, capsys, flag, value, expected):
    out = tmp_path / "s.ckpt"
    assert main(["all", "--data", "demo", "--out", str(out), f"{flag}={value}"]) == 2
    line = _error_line(capsys)
    assert line.startswith("r2l-train: error: --") and expected in line
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_whole_numbers_are_required_where_the_setting_counts_steps(tmp_path, capsys):
    with pytest.raises(SystemExit) as e:
        main(["teacher", "--out", str(tmp_path / "s.ckpt"), "--teacher.upsample_steps", "10.5"])
    assert e.value.code == 2 and "expected whole numbers" in capsys.readouterr().err


@pytest.mark.parametrize("value", ["0", "-2", "1.5"])
def test_downscale_must_be_a_whole_number_from_one(tmp_path, capsys, value):
    with pytest.raises(SystemExit) as e:
        main(["teacher", "--data", "demo", "--downscale", value, "--out", str(tmp_path / "s.ckpt")])
    assert e.value.code == 2 and "expected a whole number of at least 1" in capsys.readouterr().err
    with pytest.raises(JobError, match="downscale"):
        context(tmp_path, downscale=0)


def test_all_checks_every_jobs_settings_before_the_first(tmp_path):
    preset = tiny_preset()
    preset.pseudo.focal_scale = (2.0, 1.0)
    with pytest.raises(ConfigError, match="--pseudo.focal_scale"):
        next(run_all(preset, context(tmp_path)))
    assert list(tmp_path.iterdir()) == []
    preset.pseudo = dataclasses.replace(preset.pseudo, focal_scale=(1.0, 2.0), elevation=(30.0,))
    with pytest.raises(ConfigError, match="PseudoConfig.elevation"):
        list(run_job("pseudo", preset, context(tmp_path)))
    validate(TeacherConfig(upsample_steps=()))  # no growth at all is allowed


def test_an_unwritable_output_is_reported_before_any_work(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("")
    for out in ("/proc/nope/s.ckpt", str(blocker / "s.ckpt")):
        assert main(["teacher", "--data", "demo", "--out", out]) == 2
        line = _error_line(capsys)
        assert line.startswith("r2l-train: error: cannot write into ") and line.endswith("choose another --out")


def test_an_os_error_during_training_saves_the_state_and_says_what_to_do(taught_scene, tmp_path, monkeypatch):
    folder, preset = scene_and_preset(taught_scene, tmp_path)
    preset.distill = dataclasses.replace(preset.distill, steps=8, batch_rays=256)
    real_step = Distill.train_step

    def failing(self, step):
        if step == 5:
            raise OSError(errno.EIO, "Input/output error", "scene.pseudo/shard_00000/rgb.npy")
        return real_step(self, step)

    monkeypatch.setattr(Distill, "train_step", failing)
    with pytest.raises(JobError) as error:
        list(run_job("distill", preset, context(folder)))
    message = str(error.value)
    assert "shard_00000/rgb.npy: Input/output error; saved at step 5" in message and "--resume" in message
    monkeypatch.undo()
    events = list(run_job("distill", preset, context(folder, resume=True)))
    assert any(e.kind == LOG and "resuming at step 5" in e.message for e in events) and events[-1].kind == DONE


def test_a_metrics_log_that_cannot_be_written_does_not_stop_the_job(taught_scene, tmp_path, monkeypatch):
    folder, preset = scene_and_preset(taught_scene, tmp_path)
    (folder / "scene.metrics.jsonl").unlink(missing_ok=True)
    (folder / "scene.metrics.jsonl").mkdir()  # opening it for appending fails
    preset.distill = dataclasses.replace(preset.distill, steps=3, batch_rays=256)
    events = list(run_job("distill", preset, context(folder)))
    notes = [e.message for e in events if e.kind == LOG and "metrics log" in e.message]
    assert len(notes) == 1 and "the job goes on without it" in notes[0] and events[-1].kind == DONE


@pytest.mark.parametrize("run,argv,prog", [
    (main, ["distill", "--out", "s.ckpt", "--bogus"], "r2l-train"),
    (main, ["distill", "--out", "s.ckpt", "--distill.online", "maybe"], "r2l-train distill"),
    (main, [], "r2l-train"),
    (eval_main, ["s.ckpt", "--split", "everything"], "r2l-eval"),
    (bench_main, ["--frames"], "r2l-bench"),
    (viewer_parser().parse_args, ["--size", "big"], "r2l-viewer"),
])
def test_usage_errors_are_the_error_and_a_hint_not_the_whole_usage(capsys, run, argv, prog):
    with pytest.raises(SystemExit) as e:
        run(argv)
    assert e.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and err[0].startswith(f"{prog}: error: "), err
    assert err[1] == f"{prog}: `{prog} --help` lists the options"


def test_a_setting_out_of_range_is_named_by_its_flag(tmp_path, capsys):
    assert main(["teacher", "--data", "demo", "--out", str(tmp_path / "s.ckpt"), "--teacher.steps", "0"]) == 2
    assert _error_line(capsys) == "r2l-train: error: --teacher.steps = 0 is below its minimum 1"
