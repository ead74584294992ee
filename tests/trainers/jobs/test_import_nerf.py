"""`r2l-train import-nerf`: a nerf-pytorch checkpoint becomes the scene's teacher, ready to distil."""

import torch

from r2l_viewer.core.checkpoint import load_scene
from r2l_viewer.core.models import NerfConfig, VanillaNerf
from trainers.cli.train import main


def _nerf_pytorch_tar(path):
    gen = torch.Generator().manual_seed(5)
    shapes = VanillaNerf(NerfConfig()).coarse.state_dict()
    coarse = {k: torch.randn(v.shape, generator=gen) * 0.05 for k, v in shapes.items()}
    torch.save({"global_step": 1, "network_fn_state_dict": coarse,
                "network_fine_state_dict": {k: v * 2 for k, v in coarse.items()}}, path)
    return coarse


def test_imported_nerf_is_the_teacher_with_the_scene_bounds(tmp_path, capsys):
    coarse = _nerf_pytorch_tar(tmp_path / "200000.tar")
    out = tmp_path / "scene.ckpt"
    assert main(["import-nerf", str(tmp_path / "200000.tar"), "--data", "demo", "--downscale", "16",
                 "--out", str(out)]) == 0
    scene = load_scene(out)
    assert scene.teacher["kind"] == "nerf" and scene.teacher["complete"] and scene.student is None
    teacher = scene.build_teacher(torch.device("cpu"))
    assert (teacher.config.near, teacher.config.far) == (2.0, 6.0)
    assert torch.equal(teacher.coarse.state_dict()["pts_linears.0.weight"], coarse["pts_linears.0.weight"])
    assert torch.equal(teacher.fine.state_dict()["pts_linears.0.weight"], 2 * coarse["pts_linears.0.weight"])
    assert "r2l-train pseudo" in capsys.readouterr().err
    # a second import does not silently replace the teacher
    assert main(["import-nerf", str(tmp_path / "200000.tar"), "--data", "demo", "--downscale", "16",
                 "--out", str(out)]) == 2
    assert "already has a teacher" in capsys.readouterr().err


def test_a_file_that_is_not_a_nerf_pytorch_checkpoint_is_a_one_line_error(tmp_path, capsys):
    (tmp_path / "bad.tar").write_bytes(b"not a checkpoint")
    assert main(["import-nerf", str(tmp_path / "bad.tar"), "--data", "demo", "--downscale", "16",
                 "--out", str(tmp_path / "s.ckpt")]) == 2
    err = capsys.readouterr().err.strip()
    assert "bad.tar: not a readable nerf-pytorch checkpoint" in err and "\n" not in err
    assert not (tmp_path / "s.ckpt").exists()
