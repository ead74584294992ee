"""`r2l-train` under torchrun's environment: commands that run in one process refuse, said once by rank 0; a
Ctrl-C that reaches a process twice (from the terminal and forwarded by torchrun) is one stop request."""

import os
import signal

import pytest

from trainers.cli.train import StopOnSignals, main
from trainers.storage.workspace import RunContext, Workspace


@pytest.mark.parametrize("argv", [["teacher", "--data", "demo"], ["all", "--data", "demo"],
                                  ["import-nerf", "w.tar", "--data", "demo"], ["export", "scene.ckpt", "--onnx", "s.onnx"]],
                         ids=lambda argv: argv[0])
def test_single_process_commands_refuse_under_torchrun(tmp_path, capsys, monkeypatch, argv):
    monkeypatch.setenv("WORLD_SIZE", "4")
    monkeypatch.setenv("RANK", "0")
    out = ["--out", str(tmp_path / "scene.ckpt")] if argv[0] != "export" else []
    assert main(argv + out) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"r2l-train: error: `{argv[0]}` runs in one process only: under "
                                               "torchrun it would run 4 copies side by side"), err
    assert "torchrun --nproc_per_node N -m trainers.cli distill" in err[0]
    monkeypatch.setenv("RANK", "3")
    assert main(argv + out) == 2 and capsys.readouterr().err == ""  # rank 0 has said it
    assert not (tmp_path / "scene.ckpt").exists()


def test_inspection_commands_run_under_torchrun(capsys, monkeypatch):
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("RANK", "1")
    assert main(["describe", "--preset", "tiny", "--json"]) == 0 and '"student"' in capsys.readouterr().out


def _signal_twice(grace: float) -> RunContext:
    ctx = RunContext(Workspace("scene.ckpt"))
    with StopOnSignals(ctx, repeat_grace=grace, announce=False):
        os.kill(os.getpid(), signal.SIGINT)
        os.kill(os.getpid(), signal.SIGINT)
    return ctx


def test_a_repeated_signal_within_the_grace_is_the_same_stop():
    assert _signal_twice(grace=5.0).stop.is_set()
    with pytest.raises(KeyboardInterrupt):  # without torchrun a second Ctrl-C aborts, as before
        _signal_twice(grace=0.0)
