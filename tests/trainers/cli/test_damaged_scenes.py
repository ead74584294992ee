"""Every command that opens a scene (r2l-eval, r2l-render, r2l-train export, the viewer) refuses a damaged one with
the same line and exit 2: one flipped byte in any part, NaN in a weight, a render whose pixels are not finite."""

from pathlib import Path

import pytest

from r2l_viewer.app.main import main as viewer_main
from r2l_viewer.app.session import open_scene
from r2l_viewer.core.checkpoint import DAMAGED, CheckpointError
from trainers.cli.eval import main as eval_main
from trainers.cli.render import main as render_main
from trainers.cli.train import main as train_main

from tests.damaged_scenes import damage_part, with_nan, with_overflowing_student


def _eval(path: Path, out: Path) -> int:
    return eval_main([str(path), "--data", "demo", "--downscale", "12", "--limit", "1", "--warmup", "0", "--quiet",
                      "--save", str(out / "saved")])


def _render(path: Path, out: Path) -> int:
    return render_main([str(path), "--out", str(out / "frames"), "--size", "16x16", "--device", "cpu", "--quiet"])


def _export(path: Path, out: Path) -> int:
    return train_main(["export", str(path), "--onnx", str(out / "student.onnx")])


def _viewer(path: Path, out: Path) -> int:
    return viewer_main([str(path), "--device", "cpu"])


COMMANDS = {"r2l-eval": _eval, "r2l-render": _render, "r2l-train export": _export, "r2l-viewer": _viewer}


def _refused_with(command: str, path: Path, tmp_path: Path, capsys) -> str:
    """Run `command` on `path`: it exits 2, writes nothing, and says one line on stderr; that line."""
    capsys.readouterr()
    assert COMMANDS[command](path, tmp_path) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert _files(tmp_path) == ["scene.ckpt"]  # no image, frame or graph, not even a partial one
    return err.rstrip("\n")


def _files(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if not p.is_dir())


@pytest.mark.parametrize("part", ["teacher", "student", "metadata", "cameras"])
@pytest.mark.parametrize("command", list(COMMANDS))
def test_a_flipped_byte_is_refused_alike_by_every_command(damageable_scene, tmp_path, capsys, command, part):
    named = damage_part(damageable_scene, part)
    line = DAMAGED.format(origin=damageable_scene, part=named)
    assert _refused_with(command, damageable_scene, tmp_path, capsys) == f"{command.split()[0]}: error: {line}"


@pytest.mark.parametrize("part", ["teacher", "student", "metadata"])
def test_the_viewers_open_gives_the_same_line(damageable_scene, part):
    named = damage_part(damageable_scene, part)
    with pytest.raises(CheckpointError) as e:
        open_scene(damageable_scene, "cpu")  # what File > Open, Open recent and a dropped file call
    assert str(e.value) == DAMAGED.format(origin=damageable_scene, part=named)


@pytest.mark.parametrize("command", list(COMMANDS))
def test_nan_in_a_student_weight_is_refused_alike_by_every_command(damageable_scene, tmp_path, capsys, command):
    with_nan(damageable_scene, "student", "grids.planes.0")
    line = _refused_with(command, damageable_scene, tmp_path, capsys)
    expected = f"{damageable_scene}: the student's weights hold non-finite values (NaN or Inf) in grids.planes.0"
    assert line.startswith(f"{command.split()[0]}: error: {expected}"), line


@pytest.mark.parametrize("command", ["r2l-eval", "r2l-render"])
def test_a_render_with_non_finite_pixels_stops_before_any_image_is_written(damageable_scene, tmp_path, capsys, command):
    with_overflowing_student(damageable_scene)
    line = _refused_with(command, damageable_scene, tmp_path, capsys)
    assert f"{damageable_scene}: " in line and "non-finite values (NaN or Inf)" in line and "neither written" in line, line
