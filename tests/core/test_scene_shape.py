"""Which kind of scene a capture is, from its cameras: the shared captures, lego, fern and synthetic rigs."""

from __future__ import annotations

import math

import pytest
import torch

from r2l_viewer.core.cameras import look_at
from r2l_viewer.core.datasets import load_dataset
from r2l_viewer.core.datasets.scene_shape import camera_shape, choose_kind

UP = torch.tensor([0.0, 0.0, 1.0])


def ring(degrees: float, count: int = 12, height: float = 1.0) -> torch.Tensor:
    """Cameras on an arc of `degrees` around the origin, looking at it."""
    poses = []
    for i in range(count):
        angle = math.radians(degrees * i / max(count - 1, 1))
        eye = torch.tensor([3.0 * math.cos(angle), 3.0 * math.sin(angle), height])
        poses.append(look_at(eye, torch.zeros(3), UP))
    return torch.stack(poses)


def forward_grid() -> torch.Tensor:
    """A 4x3 grid of cameras in a plane, all looking down -y (a forward-facing rig)."""
    return torch.stack([look_at(torch.tensor([x, 0.0, z]), torch.tensor([x, 5.0, z]), UP)
                        for x in (-0.3, -0.1, 0.1, 0.3) for z in (-0.2, 0.0, 0.2)])


@pytest.mark.parametrize("poses, layout", [(ring(360.0 * 11 / 12), "all-around"), (ring(90.0, 8), "arc"),
                                           (ring(180.0), "arc"), (forward_grid(), "forward")])
def test_synthetic_rigs_are_classified(poses, layout):
    assert camera_shape(poses).layout == layout


def test_the_kind_follows_the_layout_and_the_images():
    around, arc, forward = camera_shape(ring(330.0)), camera_shape(ring(90.0, 8)), camera_shape(forward_grid())
    assert choose_kind(around, cut_out=True)[0] == "object"
    assert choose_kind(around, cut_out=False)[0] == "unbounded"
    assert choose_kind(arc, cut_out=False)[0] == "unbounded"
    assert choose_kind(forward, cut_out=False)[0] == "forward"
    kind, why = choose_kind(forward, cut_out=False, override="unbounded")
    assert kind == "unbounded" and "--scene-kind unbounded" in why


def test_real_scenes_are_classified(lego_dir, fern_dir, captures_dir):
    assert camera_shape(load_dataset(lego_dir, 8, ("train",)).split("train").poses).layout == "all-around"
    fern = load_dataset(fern_dir, 8, ("train",)).meta
    fruit = load_dataset(captures_dir / "fruit", 16, ("train",)).meta
    forward_c = load_dataset(captures_dir / "forward_c", 32, ("train",)).meta
    assert (fern.kind, fruit.kind, forward_c.kind) == ("forward", "unbounded", "forward")
    assert "circle" in fruit.extra["scene_kind_reason"] and "forward-facing" in forward_c.extra["scene_kind_reason"]
    assert fruit.contraction is not None and fruit.ndc is None and forward_c.ndc is not None


def llff_folder(folder, poses: torch.Tensor, size=(12, 16)):
    """An LLFF scene (poses_bounds.npy, images/) with the given OpenGL camera-to-world poses."""
    import imageio.v3 as iio
    import numpy as np

    h, w = size
    c2w = poses[:, :3, :].numpy()
    llff = np.concatenate([-c2w[:, :, 1:2], c2w[:, :, 0:1], c2w[:, :, 2:4],
                           np.tile([[[h], [w], [20.0]]], (len(poses), 1, 1))], axis=2)
    bounds = np.tile([[1.0, 6.0]], (len(poses), 1))
    (folder / "images").mkdir(parents=True)
    np.save(folder / "poses_bounds.npy", np.concatenate([llff.reshape(len(poses), -1), bounds], axis=1))
    for i in range(len(poses)):
        iio.imwrite(folder / "images" / f"{i:03d}.png", np.full((h, w, 3), 40 + 10 * i, dtype=np.uint8))
    return folder


def test_a_360_degree_capture_stored_as_llff_is_unbounded_not_ndc(tmp_path):
    """A milk-carton-like capture: cameras all round, in poses_bounds.npy (nerf-pytorch's --spherify --no_ndc)."""
    meta = load_dataset(llff_folder(tmp_path / "carton", ring(360.0 * 15 / 16, 16)), 1).meta
    assert meta.kind == "unbounded" and meta.ndc is None and meta.contraction is not None
    assert meta.azimuth_range == (-180.0, 180.0)
    forward = load_dataset(llff_folder(tmp_path / "grid", forward_grid()), 1).meta
    assert forward.kind == "forward" and forward.ndc is not None
