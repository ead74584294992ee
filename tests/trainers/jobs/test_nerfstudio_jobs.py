"""Every job, check-data and r2l-eval take a nerfstudio capture, its lens model included."""

import dataclasses
import json

import torch

from r2l_viewer.core.cameras import Intrinsics, spherical_pose
from r2l_viewer.core.checkpoint import load_scene
from r2l_viewer.core.datasets import Split
from r2l_viewer.core.rays import camera_rays
from tests.nerfstudio_scenes import edit_transforms, lego_as_nerfstudio
from trainers.cli.eval import main as r2l_eval
from trainers.training.views import SplitViews

from tests.trainers.conftest import context, run_to_end, tiny_preset
from tests.trainers.cli.test_inspection_cli import r2l_train

LENS = {"camera_model": "OPENCV", "k1": 0.02, "k2": -0.01, "p1": 0.001, "p2": 0.0}


def test_split_views_sample_rays_through_each_views_own_camera():
    cameras = [Intrinsics(6, 8, 7.0, 7.5, 4.2, 2.9, (0.1, -0.05, 0.0, 0.0, 0.01, 0.0)),
               Intrinsics(6, 8, 9.0, 9.0, 3.8, 3.1)]
    poses = torch.stack([spherical_pose(10.0, 20.0, 3.0), spherical_pose(100.0, 40.0, 3.0)])
    split = Split(torch.rand(2, 6, 8, 3), poses, cameras[0], frame_intrinsics=cameras)
    batch = SplitViews(split).sample(64, torch.Generator().manual_seed(3))
    flat = torch.randint(0, 2 * 48, (64,), generator=torch.Generator().manual_seed(3))  # the pixels it drew
    image, y, x = flat // 48, (flat % 48) // 8, flat % 8
    for k in range(64):
        origins, directions = camera_rays(poses[image[k]], cameras[image[k]])
        assert torch.allclose(batch.directions[k], directions[y[k], x[k]], atol=1e-6)
        assert torch.allclose(batch.origins[k], origins[y[k], x[k]])
        assert torch.equal(batch.rgb[k], split.images[image[k], y[k], x[k]])


def test_the_pipeline_and_r2l_eval_run_on_a_nerfstudio_capture(lego_dir, tmp_path, capsys):
    capture = lego_as_nerfstudio(lego_dir, tmp_path / "capture")
    edit_transforms(capture, lambda data: data.update(LENS))
    info = json.loads(r2l_train("check-data", capture, "--downscale", "8", "--json").stdout)
    assert info["format"] == "nerfstudio" and info["camera_model"] == "OPENCV" and (info["width"], info["height"]) == (50, 50)
    assert info["distortion"] == [0.02, -0.01, 0.0, 0.0, 0.001, 0.0] and info["images"]["train"] == 17
    preset = tiny_preset()
    preset.teacher = dataclasses.replace(preset.teacher, steps=60, upsample_steps=(30,))
    preset.distill = dataclasses.replace(preset.distill, steps=40, val_every=20)
    ctx = lambda: context(tmp_path, data=str(capture), downscale=8)  # noqa: E731
    for job in ("teacher", "pseudo", "distill", "finetune"):
        run_to_end(job, preset, ctx())
    scene = load_scene(tmp_path / "scene.ckpt")
    assert scene.meta.format == "nerfstudio" and scene.meta.intrinsics.distortion == (0.02, -0.01, 0.0, 0.0, 0.001, 0.0)
    assert scene.student["stage"] == "finetuned" and scene.meta.extra["world_scale"] > 0
    code = r2l_eval([str(tmp_path / "scene.ckpt"), "--split", "test", "--warmup", "0", "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    result = json.loads(out)
    assert result["teacher"]["images"] == 3 and result["student"]["resolution"] == [50, 50]
    assert result["teacher"]["psnr"] > 13.0  # a plain white image scores 10.4 dB on these views: it learnt lego
