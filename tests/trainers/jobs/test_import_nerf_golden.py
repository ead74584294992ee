"""Golden test: an imported nerf-pytorch teacher renders the pixels nerf-pytorch renders (an independent transcription
of its code, tests/nerf_pytorch_reference.py), for a Blender and an LLFF (NDC) camera, with the settings it wrote."""

import dataclasses
import json

import imageio.v3 as iio
import numpy as np
import pytest
import torch

from r2l_viewer.core.cameras import spherical_pose
from r2l_viewer.core.checkpoint import load_scene
from r2l_viewer.core.datasets import load_dataset
from r2l_viewer.core.models import VanillaNerf
from r2l_viewer.core.render import render_image
from tests.nerf_pytorch_reference import NerfPytorchNet, embedder
from tests.nerf_pytorch_reference import render_image as reference_image
from trainers.cli.train import main
from trainers.configs import PseudoConfig
from trainers.jobs.finetune import depth_maps
from trainers.training.views import render_pseudo_view
from trainers.training.views import SplitViews

NERF_PYTORCH_ARGS = {  # every argument nerf-pytorch writes to args.txt, at its defaults
    "basedir": "./logs/", "chunk": 32768, "config": "configs/x.txt", "datadir": "./data/x", "dataset_type": "llff",
    "expname": "x", "factor": 8, "ft_path": None, "half_res": False, "i_embed": 0, "i_img": 500, "i_print": 100,
    "i_testset": 50000, "i_video": 50000, "i_weights": 10000, "lindisp": False, "llffhold": 8, "lrate": 0.0005,
    "lrate_decay": 250, "multires": 10, "multires_views": 4, "N_importance": 0, "N_rand": 4096, "N_samples": 64,
    "netchunk": 65536, "netdepth": 8, "netdepth_fine": 8, "netwidth": 256, "netwidth_fine": 256, "no_batching": False,
    "no_ndc": False, "no_reload": False, "perturb": 1.0, "precrop_frac": 0.5, "precrop_iters": 0,
    "raw_noise_std": 0.0, "render_factor": 0, "render_only": False, "render_test": False, "shape": "greek",
    "spherify": False, "testskip": 8, "use_viewdirs": False, "white_bkgd": False,
}
CASES = {
    "blender": {"dataset_type": "blender", "white_bkgd": True, "use_viewdirs": True, "N_samples": 16,
                "N_importance": 24, "netdepth": 6, "netwidth": 32, "netdepth_fine": 7, "netwidth_fine": 24,
                "multires": 5, "multires_views": 2, "raw_noise_std": 1.0, "half_res": True},
    "llff": {"dataset_type": "llff", "use_viewdirs": True, "N_samples": 12, "N_importance": 12, "netdepth": 6,
             "netwidth": 32, "netdepth_fine": 6, "netwidth_fine": 32, "multires": 4, "multires_views": 2,
             "raw_noise_std": 1.0, "lindisp": True},  # nerf-pytorch ignores lindisp in NDC
}


def tiny_blender(folder, size=10):
    for split in ("train", "val", "test"):
        (folder / split).mkdir(parents=True)
        frames = []
        for i in range(2):
            iio.imwrite(folder / split / f"r_{i}.png", np.full((size, size, 4), 200, np.uint8))
            pose = spherical_pose(40.0 + 90 * i, 30.0, 4.0).tolist()
            frames.append({"file_path": f"./{split}/r_{i}", "transform_matrix": pose})
        (folder / f"transforms_{split}.json").write_text(json.dumps({"camera_angle_x": 0.69, "frames": frames}))
    return folder


def tiny_llff(folder, size=(12, 16), focal=14.0):
    """Nine forward-facing cameras (LLFF rows [down, right, back | position | H W focal], bounds 1..6)."""
    h, w = size
    rows = []
    for k in range(9):
        position = [0.2 * (k % 3 - 1), 0.15 * (k // 3 - 1), 0.05 * k]
        pose = np.stack([[0, -1, 0], [1, 0, 0], [0, 0, 1], position, [h, w, focal]], axis=1)  # OpenGL identity
        rows.append(np.concatenate([pose.reshape(-1), [1.0, 6.0]]))
    (folder / "images").mkdir(parents=True)
    np.save(folder / "poses_bounds.npy", np.array(rows))
    for k in range(9):
        iio.imwrite(folder / "images" / f"{k:03d}.png", np.full((h, w, 3), 30 + 20 * k, np.uint8))
    return folder


def nerf_pytorch_run(folder, args: dict, settings_file="args.txt"):
    """A nerf-pytorch log folder: a .tar of two seeded networks and the args.txt (or config.txt) it writes."""
    torch.manual_seed(7)
    _, in_pos = embedder(args["multires"], args["i_embed"])
    _, in_dir = embedder(args["multires_views"], args["i_embed"]) if args["use_viewdirs"] else (None, 0)
    out = 5 if args["N_importance"] > 0 else 4
    fn = NerfPytorchNet(args["netdepth"], args["netwidth"], in_pos, in_dir, out, args["use_viewdirs"])
    fine = NerfPytorchNet(args["netdepth_fine"], args["netwidth_fine"], in_pos, in_dir, out, args["use_viewdirs"])
    folder.mkdir()
    torch.save({"global_step": 5000, "network_fn_state_dict": fn.state_dict(),
                "network_fine_state_dict": fine.state_dict(), "optimizer_state_dict": {}}, folder / "005000.tar")
    if settings_file == "args.txt":
        text = "".join(f"{k} = {args[k]}\n" for k in sorted(args))
    else:  # a configargparse file as the user wrote it: only what differs from the defaults, comments allowed
        text = "# my run\n" + "".join(f"{k} = {v}\n" for k, v in args.items() if NERF_PYTORCH_ARGS.get(k) != v)
    (folder / settings_file).write_text(text)
    return folder / "005000.tar", (fn.eval(), fine.eval())


def imported_teacher(tmp_path, data, tar, *extra):
    out = tmp_path / "scene.ckpt"
    assert main(["import-nerf", str(tar), "--data", str(data), "--downscale", "1", "--out", str(out), *extra]) == 0
    scene = load_scene(out)
    return scene, scene.build_teacher("cpu")


def expected_and_rendered(scene, teacher, nets, args):
    meta, pose = scene.meta, scene.cameras["val"][0]
    near, far = (0.0, 1.0) if meta.ndc and not args["no_ndc"] else (meta.near, meta.far)
    i = meta.intrinsics
    expected = reference_image(i.height, i.width, i.fx, pose, nets, args, near, far)
    return expected, render_image(teacher, pose, i).rgb


@pytest.mark.parametrize("case", ["blender", "llff"])
def test_an_imported_teacher_renders_what_nerf_pytorch_renders(tmp_path, case):
    args = NERF_PYTORCH_ARGS | CASES[case]
    data = (tiny_blender if case == "blender" else tiny_llff)(tmp_path / "data")
    tar, nets = nerf_pytorch_run(tmp_path / "logs", args)
    scene, teacher = imported_teacher(tmp_path, data, tar)
    assert (scene.meta.ndc is not None) == (case == "llff")
    expected, rendered = expected_and_rendered(scene, teacher, nets, args)
    assert expected.shape[:2] == (scene.meta.intrinsics.height, scene.meta.intrinsics.width) and min(expected.shape[:2]) >= 10
    assert expected.std() > 0.02  # the seeded networks draw a picture, not a flat colour
    assert torch.allclose(rendered, expected, atol=1e-5, rtol=0), float((rendered - expected).abs().max())
    recorded = scene.teacher["nerf_pytorch"]
    assert recorded["N_samples"] == args["N_samples"] and recorded["N_importance"] == args["N_importance"]
    assert scene.teacher["nerf_pytorch_settings_from"] == ["args.txt"]
    # through pixel centres (the convention of everything else here) the same network is visibly off
    centred = VanillaNerf(dataclasses.replace(teacher.config, pixel_offset=0.5))
    centred.load_state_dict(teacher.state_dict())
    off = render_image(centred, scene.cameras["val"][0], scene.meta.intrinsics).rgb - expected
    assert float(off.abs().max()) > 1e-3


def test_a_config_file_without_view_directions_and_command_line_overrides(tmp_path):
    """Only config.txt (nerf-pytorch's defaults fill the rest): no view directions (one output layer of 5), samples
    linear in disparity; --nerf-arg wins over the file."""
    args = NERF_PYTORCH_ARGS | {"dataset_type": "blender", "white_bkgd": True, "lindisp": True, "N_samples": 10,
                                "N_importance": 40, "netdepth": 6, "netwidth": 16, "netdepth_fine": 6,
                                "netwidth_fine": 16, "multires": 3}
    tar, nets = nerf_pytorch_run(tmp_path / "logs", args, "config.txt")
    scene, teacher = imported_teacher(tmp_path, tiny_blender(tmp_path / "data"), tar, "--nerf-arg", "N_importance=8")
    args["N_importance"] = 8
    assert teacher.config.view_directions is False and teacher.config.fine_samples == 8
    assert scene.teacher["nerf_pytorch_settings_from"] == ["config.txt", "command line"]
    expected, rendered = expected_and_rendered(scene, teacher, nets, args)
    assert torch.allclose(rendered, expected, atol=1e-5, rtol=0), float((rendered - expected).abs().max())


def test_a_bad_setting_is_a_one_line_error(tmp_path, capsys):
    tar, _ = nerf_pytorch_run(tmp_path / "logs", NERF_PYTORCH_ARGS | CASES["blender"])
    data = tiny_blender(tmp_path / "data")
    out = tmp_path / "scene.ckpt"
    assert main(["import-nerf", str(tar), "--data", str(data), "--out", str(out), "--nerf-arg", "N_samples=many"]) == 2
    err = capsys.readouterr().err.strip()
    assert "N_samples = 'many' is not a whole number" in err and "\n" not in err and not out.exists()


def test_pseudo_views_and_depth_targets_of_an_imported_teacher_are_nerf_pytorchs_pixels(tmp_path):
    """What the student learns from: a pseudo view (random pose, zoomed focal) is the image nerf-pytorch renders
    for that camera; the depth targets of the training views come through the same pixel corners."""
    args = NERF_PYTORCH_ARGS | CASES["blender"]
    data = tiny_blender(tmp_path / "data")
    tar, nets = nerf_pytorch_run(tmp_path / "logs", args)
    scene, teacher = imported_teacher(tmp_path, data, tar)
    rgb, _, pose, focal = render_pseudo_view(teacher, scene.meta, PseudoConfig(), seed=3, index=1)
    i = scene.meta.intrinsics
    assert focal > i.fx  # a zoomed view: pseudo data's focal is the scene's times U[1, 2)
    expected = reference_image(i.height, i.width, focal, pose, nets, args, scene.meta.near, scene.meta.far)
    assert torch.allclose(rgb, expected, atol=1e-5, rtol=0), float((rgb - expected).abs().max())
    views = SplitViews(load_dataset(data, None, ("train",)).split("train"))
    maps = depth_maps(teacher, views, "cpu", None)
    corner_depth = render_image(teacher, views.poses[1], i).depth
    assert torch.allclose(maps[1].float(), corner_depth, rtol=1e-3, atol=0)  # (float16, as pseudo data holds them)
