"""User mistakes are one line and exit code 2; anything else is a bug: its traceback, a line asking for a report, and
exit code 1 (a ValueError from deep inside torch or numpy is not the user's fault)."""

import pytest

from r2l_viewer.core.checkpoint import CheckpointError
from r2l_viewer.core.config import ConfigError
from r2l_viewer.core.datasets import DatasetError
from r2l_viewer.core.device import DeviceError
from r2l_viewer.core.errors import BUG_REPORT, UserError
from r2l_viewer.core.models import ModelRecordError
from r2l_viewer.core.models.nerf import NerfWeightsError
from r2l_viewer.core.camera_path import CameraPathError
from r2l_viewer.core.checksums import ChecksumMismatch
from r2l_viewer.core.finite import NonFiniteError
from r2l_viewer.core.image_files import ImageWriteError
from trainers.cli.bench import main as bench_main
from trainers.cli.eval import main as eval_main
from trainers.cli.render import main as render_main
from trainers.cli.train import main as train_main
from trainers.distributed import RankLost
from trainers.errors import JobError


def test_every_project_error_is_a_user_error():
    for kind in (CheckpointError, ConfigError, DatasetError, DeviceError, ModelRecordError, NerfWeightsError,
                 CameraPathError, JobError, RankLost, ChecksumMismatch, NonFiniteError, ImageWriteError):
        assert issubclass(kind, UserError), kind


def a_bug(*args, **kwargs):
    raise ValueError("math domain error")  # as numpy or torch would raise it: no fault of the user's


CLIS = [
    (train_main, ["describe", "--preset", "tiny"], "trainers.cli.train.describe_preset", "r2l-train"),
    (eval_main, ["scene.ckpt"], "trainers.cli.eval.evaluate", "r2l-eval"),
    (render_main, ["scene.ckpt", "--out", "video.mp4"], "trainers.cli.render.render", "r2l-render"),
    (bench_main, ["--quick"], "trainers.cli.bench.run_bench", "r2l-bench"),
]


@pytest.mark.parametrize("main,argv,target,program", CLIS)
def test_a_bug_shows_its_traceback_and_asks_for_a_report(main, argv, target, program, monkeypatch, capsys):
    monkeypatch.setattr(target, a_bug)
    assert main(argv) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err[0] == "Traceback (most recent call last):" and "ValueError: math domain error" in err
    assert err[-1] == f"{program}: {BUG_REPORT}"


@pytest.mark.parametrize("main,argv,target,program", CLIS)
def test_a_user_error_is_one_line(main, argv, target, program, monkeypatch, capsys):
    def refuse(*args, **kwargs):
        raise UserError("the folder holds no images; give the dataset's folder")

    monkeypatch.setattr(target, refuse)
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"{program}: error: the folder holds no images; give the dataset's folder"]


def test_a_folder_that_is_no_dataset_is_the_users_mistake(tmp_path, capsys):
    assert train_main(["check-data", str(tmp_path)]) == 2  # DatasetError, raised by the real loader
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("r2l-train: error: ") and str(tmp_path) in err[0], err
