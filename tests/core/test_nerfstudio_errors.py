"""nerfstudio captures that cannot be used get one line naming the file and the field (or frame) at fault."""

import json
import shutil

import imageio.v3 as iio
import numpy as np
import pytest
import torch

from r2l_viewer.core.cameras import look_at
from r2l_viewer.core.datasets import DatasetError, load_dataset
from tests.nerfstudio_scenes import edit_transforms, ring_capture

CAMERA = {"fl_x": 30.0, "w": 32, "h": 24}


def failure(folder, downscale=1) -> str:
    with pytest.raises(DatasetError) as caught:
        load_dataset(folder, downscale)
    message = str(caught.value)
    assert "\n" not in message
    return message


@pytest.fixture
def capture(tmp_path):
    return ring_capture(tmp_path / "cap", CAMERA)


def drop_focal(data):
    del data["fl_x"]


@pytest.mark.parametrize("change,expected", [
    (drop_focal, "has no 'fl_x' (nor has the file), and no 'camera_angle_x'"),
    (lambda d: d.update(camera_model="OPENCV_FISHEYE"), "'camera_model' the string 'OPENCV_FISHEYE' is not supported"),
    (lambda d: d.update(camera_model="EQUIRECTANGULAR"), "'camera_model' the string 'EQUIRECTANGULAR' is not"),
    (lambda d: d.update(k1="0.1"), "'k1' must be a number, got the string '0.1'"),
    (lambda d: d.update(fl_x=-3), "'fl_x' must be a positive number, got the number -3"),
    (lambda d: d["frames"][2].pop("transform_matrix"), "frame 2 has no 'transform_matrix'"),
    (lambda d: d.update(frames=[]), "'frames' must be a non-empty list"),
    (lambda d: d.update(train_filenames=["images/frame_00001.png", "images/nope.png"], test_filenames=[]),
     "'train_filenames' names 'images/nope.png', which is no frame's file_path"),
    (lambda d: d.update(train_filenames=["images/frame_00001.png"]), "needs 'train_filenames' and 'val_filenames'"),
    (lambda d: d.update(orientation_override="pca"), "'orientation_override' the string 'pca' is not supported"),
    (lambda d: d.update(w=64), "image is 32x24 but transforms.json gives 'w' x 'h' = 64x24"),
])
def test_bad_fields_are_named_with_the_file(capture, change, expected):
    edit_transforms(capture, change)
    message = failure(capture)
    assert message.startswith(str(capture)) and "transforms.json" in message and expected in message


def test_a_frame_whose_image_is_missing_is_left_out_with_one_line_naming_it(capture):
    (capture / "images" / "frame_00003.png").unlink()
    ds = load_dataset(capture, 1)
    assert sum(len(split) for split in ds.splits.values()) == 7
    assert ds.meta.extra["notes"] == ["1 of 8 frames have no image file and are left out: images/frame_00003.png"]
    assert all("frame_00003" not in split.names for split in ds.splits.values())


def test_a_capture_with_no_image_at_all_is_refused(capture):
    shutil.rmtree(capture / "images")
    assert "none of its 8 frames' images was found" in failure(capture)


def test_camera_angle_x_stands_in_for_a_missing_focal_length(capture):
    edit_transforms(capture, lambda d: (drop_focal(d), d.update(camera_angle_x=1.0)))
    intr = load_dataset(capture, 1, ("train",)).meta.intrinsics
    assert intr.fx == pytest.approx(16 / 0.5463, rel=1e-3) and intr.fy == intr.fx and (intr.cx, intr.cy) == (16, 12)


def test_forward_facing_cameras_take_the_ndc_path(fern_dir, tmp_path):
    """fern's cameras (LLFF, all looking one way) written as a nerfstudio capture."""
    fern = load_dataset(fern_dir, 8, ("train",))
    folder = tmp_path / "fern"
    folder.mkdir()
    frames = [{"file_path": str(fern_dir / "images_8" / f"{name}.png"), "transform_matrix": pose.tolist()}
              for name, pose in zip(fern.split("train").names, fern.split("train").poses)]
    (folder / "transforms.json").write_text(json.dumps({"fl_x": 400.0, "w": 504, "h": 378, "frames": frames}))
    meta = load_dataset(folder, 4, ("train",)).meta
    assert meta.kind == "forward" and meta.ndc is not None and "forward-facing" in meta.extra["scene_kind_reason"]


def test_a_walk_along_a_street_looking_one_way_is_forward_facing(capture):
    def walk(data):
        for i, frame in enumerate(data["frames"]):
            eye = torch.tensor([0.5 * i, 0.0, 1.5])
            frame["transform_matrix"] = look_at(eye, eye + torch.tensor([0.0, 1.0, 0.0]), torch.tensor([0.0, 0.0, 1.0])).tolist()
    edit_transforms(capture, walk)
    assert load_dataset(capture, 1, ("train",)).meta.kind == "forward"
    with pytest.raises(DatasetError, match="do not surround one object"):
        load_dataset(capture, 1, ("train",), kind="object")


def test_fisheye_captures_are_refused_clearly(capture):
    edit_transforms(capture, lambda d: d.update(is_fisheye=True))
    assert "'is_fisheye' is true" in failure(capture) and "undistort" in failure(capture)


def test_an_image_of_another_size_is_named(capture):
    iio.imwrite(capture / "images" / "frame_00004.png", np.zeros((10, 12, 3), dtype=np.uint8))
    message = failure(capture)
    assert message.startswith(str(capture / "images" / "frame_00004.png"))
    assert "image is 12x10 but frame_00000.png is 32x24" in message


def test_aabb_scale_1_makes_an_object_in_instant_ngps_unit_cube(capture):
    """instant-ngp: ngp (x, y, z) = scale * nerf (y, z, x) + offset; aabb_scale 1 bounds the scene by [0, 1]^3."""
    edit_transforms(capture, lambda d: d.update(aabb_scale=1, scale=0.5, offset=[0.5, 0.5, 0.25]))
    meta = load_dataset(capture, 1, ("train",)).meta
    assert meta.kind == "object" and "aabb_scale 1" in meta.extra["scene_kind_reason"]
    transform, scale = torch.tensor(meta.extra["world_transform"]), meta.extra["world_scale"]
    corners = torch.tensor([[x, y, z] for x in (-0.5, 1.5) for y in (-1.0, 1.0) for z in (-1.0, 1.0)])  # nerf
    moved = scale * (corners @ transform[:, :3].T + transform[:, 3])
    assert torch.allclose(torch.tensor(meta.box_min), moved.amin(0), atol=1e-4)
    assert torch.allclose(torch.tensor(meta.box_max), moved.amax(0), atol=1e-4)
    edit_transforms(capture, lambda d: d.update(aabb_scale=16))
    assert load_dataset(capture, 1, ("train",)).meta.kind == "unbounded"
