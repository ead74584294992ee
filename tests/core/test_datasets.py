"""Datasets: the real lego (Blender) and fern (LLFF) scenes, the procedural demo, and clear errors for bad input."""

import json

import imageio.v3 as iio
import numpy as np
import pytest
import torch

from r2l_viewer.core.cameras import Intrinsics, spherical_pose
from r2l_viewer.core.datasets import DatasetError, load_dataset, render_demo_view
from r2l_viewer.core.rays import camera_rays


def test_lego_full_resolution(lego_dir):
    ds = load_dataset(lego_dir)
    assert {k: len(v) for k, v in ds.splits.items()} == {"train": 100, "val": 100, "test": 200}
    assert ds.meta.intrinsics.focal == pytest.approx(555.555, abs=1e-3)
    assert ds.split("train").images.shape == (100, 400, 400, 3)
    assert (ds.meta.near, ds.meta.far, ds.meta.background) == (2.0, 6.0, (1.0, 1.0, 1.0))
    # every test camera's centre ray passes within 0.5 of the origin
    test = ds.split("test")
    for c2w in test.poses:
        o, d = camera_rays(c2w, test.intrinsics)
        h, w = test.intrinsics.height // 2, test.intrinsics.width // 2
        origin, direction = o[h, w], d[h, w] / d[h, w].norm()
        closest = origin - (origin @ direction) * direction
        assert closest.norm() < 0.5


def test_lego_downscaled_is_area_averaged_on_white(lego_dir, lego_small):
    assert lego_small.meta.intrinsics.focal == pytest.approx(138.89, abs=1e-2)
    images = lego_small.split("train").images
    assert images.shape == (100, 100, 100, 3)
    assert 0.0 <= float(images.min()) and float(images.max()) <= 1.0
    assert float(images[:, 0, 0].mean()) == pytest.approx(1.0, abs=1e-3)  # corners are background: white
    full = load_dataset(lego_dir, downscale=1, splits=("val",)).split("val").images[0]
    block = full[:4, 200:204].mean(dim=(0, 1))
    small = load_dataset(lego_dir, downscale=4, splits=("val",)).split("val").images[0, 0, 50]
    assert torch.allclose(block, small, atol=1e-5)


def test_lego_orbit_is_derived_from_its_cameras(lego_small):
    meta = lego_small.meta
    assert meta.orbit_radius == pytest.approx(4.03, abs=0.01)
    assert torch.tensor(meta.orbit_center).norm() < 0.05
    assert meta.elevation_range[0] >= 0 and meta.elevation_range[1] <= 90


def test_fern_loads_with_ndc_and_held_out_views(fern_dir):
    ds = load_dataset(fern_dir)
    assert {k: len(v) for k, v in ds.splits.items()} == {"train": 17, "val": 3, "test": 3}
    intr = ds.meta.intrinsics
    assert (intr.height, intr.width) == (378, 504)
    assert intr.focal == pytest.approx(3260.5 / 8, rel=0.01)
    assert ds.meta.ndc is not None and ds.meta.near < ds.meta.far
    poses = ds.split("train").poses
    assert torch.allclose(poses[:, :3, 3].mean(0), torch.zeros(3), atol=0.2)  # recentred
    # LLFF's [down, right, back] axes become OpenGL's [right, up, back]: right ~ +x, up ~ +y, back ~ +z, det +1
    assert (poses[:, 0, 0] > 0.95).all() and (poses[:, 1, 1] > 0.95).all() and (poses[:, 2, 2] > 0.95).all()
    assert torch.allclose(torch.det(poses[:, :3, :3]), torch.ones(len(poses)), atol=1e-4)


def test_demo_scene_is_exact_and_needs_no_files():
    ds = load_dataset("demo", downscale=8)
    train = ds.split("train")
    assert train.images.shape == (100, 50, 50, 3) and len(ds.split("test")) == 20
    rgba = render_demo_view(train.poses[0], train.intrinsics)
    assert torch.allclose(rgba[..., :3] * rgba[..., 3:] + (1 - rgba[..., 3:]), train.images[0])
    assert 0.05 < float(rgba[..., 3].mean()) < 0.9  # the object fills part of the view, background the rest
    assert len(torch.unique((train.images[0] * 10).round().reshape(-1, 3), dim=0)) > 8  # colourful


def test_demo_object_is_centred():
    intr = Intrinsics.from_fov_x(40, 40, 0.69)
    alpha = render_demo_view(spherical_pose(0, 89, 4.0), intr)[..., 3]
    ys, xs = torch.nonzero(alpha > 0.5, as_tuple=True)
    assert abs(float(ys.float().mean()) - 19.5) < 4 and abs(float(xs.float().mean()) - 19.5) < 4


def _tiny_blender(folder, size=8, frames=2):
    for split in ("train", "val", "test"):
        (folder / split).mkdir(parents=True)
        data = {"camera_angle_x": 0.69, "frames": []}
        for i in range(frames):
            iio.imwrite(folder / split / f"r_{i}.png", np.full((size, size, 4), 128, np.uint8))
            pose = spherical_pose(i * 90.0, 30.0, 4.0).tolist()
            data["frames"].append({"file_path": f"./{split}/r_{i}", "transform_matrix": pose})
        (folder / f"transforms_{split}.json").write_text(json.dumps(data))
    return folder


def test_tiny_blender_scene_loads(tmp_path):
    ds = load_dataset(_tiny_blender(tmp_path / "s"))
    assert ds.split("train").images.shape == (2, 8, 8, 3)
    expected = 128 / 255 * 128 / 255 + (1 - 128 / 255)  # half-transparent grey over white
    assert float(ds.split("train").images[0, 0, 0, 0]) == pytest.approx(expected, abs=1e-6)


def _message(excinfo) -> str:
    text = str(excinfo.value)
    assert "\n" not in text
    return text


def test_missing_folder(tmp_path):
    with pytest.raises(DatasetError) as e:
        load_dataset(tmp_path / "nope")
    assert "no such folder" in _message(e)


def test_folder_that_is_no_scene(tmp_path):
    with pytest.raises(DatasetError) as e:
        load_dataset(tmp_path)
    assert "not a scene folder" in _message(e)


def test_missing_split_json(tmp_path):
    scene = _tiny_blender(tmp_path / "s")
    (scene / "transforms_val.json").unlink()
    with pytest.raises(DatasetError) as e:
        load_dataset(scene)
    assert "transforms_val.json" in _message(e) and "not found" in _message(e)


def test_malformed_json(tmp_path):
    scene = _tiny_blender(tmp_path / "s")
    (scene / "transforms_train.json").write_text('{"camera_angle_x": 0.6, "frames": [')
    with pytest.raises(DatasetError) as e:
        load_dataset(scene)
    assert "transforms_train.json" in _message(e) and "malformed JSON" in _message(e)


def test_missing_image(tmp_path):
    scene = _tiny_blender(tmp_path / "s")
    (scene / "test" / "r_1.png").unlink()
    with pytest.raises(DatasetError) as e:
        load_dataset(scene)
    assert "r_1.png" in _message(e) and "not found" in _message(e)


def test_image_of_wrong_size(tmp_path):
    scene = _tiny_blender(tmp_path / "s")
    iio.imwrite(scene / "train" / "r_1.png", np.zeros((6, 8, 4), np.uint8))
    with pytest.raises(DatasetError) as e:
        load_dataset(scene)
    assert "r_1.png" in _message(e) and "8x6" in _message(e)


def test_corrupt_image(tmp_path):
    scene = _tiny_blender(tmp_path / "s")
    (scene / "val" / "r_0.png").write_bytes(b"not a png")
    with pytest.raises(DatasetError) as e:
        load_dataset(scene)
    assert "r_0.png" in _message(e) and "cannot be read" in _message(e)


def test_llff_with_wrong_image_count(tmp_path, fern_dir):
    scene = tmp_path / "fern"
    (scene / "images_8").mkdir(parents=True)
    np.save(scene / "poses_bounds.npy", np.load(fern_dir / "poses_bounds.npy"))
    iio.imwrite(scene / "images_8" / "a.png", np.zeros((8, 8, 3), np.uint8))
    with pytest.raises(DatasetError) as e:
        load_dataset(scene)
    assert "1 images but poses_bounds.npy has 20 poses" in _message(e)


def _edit_transforms(scene, split, edit):
    """Apply `edit` to a split's parsed JSON (in place, or returning a replacement) and write it back."""
    path = scene / f"transforms_{split}.json"
    data = json.loads(path.read_text())
    data = edit(data) or data
    path.write_text(json.dumps(data))


def _set_frame(i, key, value):
    return lambda data: data["frames"][i].__setitem__(key, value)


RAGGED = [[1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, 0.0, 0.0, 1.0]]
STRINGS = [["1", "0", "0", "0"]] * 4


@pytest.mark.parametrize("edit,expected", [
    (_set_frame(1, "transform_matrix", RAGGED), ["frame 1", "'transform_matrix'", "4 rows of 4 numbers", "row 2"]),
    (_set_frame(0, "transform_matrix", STRINGS), ["frame 0", "'transform_matrix'", "row 0, entry 0 is the string '1'"]),
    (_set_frame(1, "transform_matrix", None), ["frame 1", "'transform_matrix'", "null"]),
    (_set_frame(1, "file_path", None), ["frame 1", "'file_path'", "null"]),
    (lambda data: data["frames"][0].pop("file_path") and None, ["frame 0", "has no 'file_path'"]),
    (lambda data: data.__setitem__("camera_angle_x", "wide"), ["'camera_angle_x'", "radians", "'wide'"]),
    (lambda data: data.__setitem__("camera_angle_x", True), ["'camera_angle_x'", "true"]),
    (lambda data: data.__setitem__("frames", {"r_0": {}}), ["'frames' must be a list", "an object"]),
    (lambda data: data.__setitem__("frames", [3]), ["frame 0 is the number 3"]),
    (lambda data: data.__setitem__("frames", []), ["has no frames"]),
    (lambda data: [data], ["expected an object", "a list"]),
])
def test_malformed_transforms_name_the_file_the_frame_and_the_problem(tmp_path, edit, expected):
    scene = _tiny_blender(tmp_path / "s")
    _edit_transforms(scene, "train", edit)
    with pytest.raises(DatasetError) as e:
        load_dataset(scene)
    text = _message(e)
    assert str(scene / "transforms_train.json") in text
    for part in expected:
        assert part in text


def test_splits_with_different_image_sizes_are_refused(tmp_path):
    scene = _tiny_blender(tmp_path / "s", size=8)
    for i in range(2):
        iio.imwrite(scene / "val" / f"r_{i}.png", np.full((4, 4, 4), 128, np.uint8))
    with pytest.raises(DatasetError) as e:
        load_dataset(scene)
    text = _message(e)
    assert str(scene / "transforms_val.json") in text and "4x4" in text and "8x8" in text
    assert len(load_dataset(scene, splits=("val",)).split("val").images) == 2  # alone, the split is consistent
