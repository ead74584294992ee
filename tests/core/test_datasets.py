"""Datasets: the real lego (Blender) and fern (LLFF) scenes, the procedural demo, and clear errors for bad input."""

import itertools
import json

import imageio.v3 as iio
import numpy as np
import pytest
import torch

from r2l_viewer.core.assets import demo_checkpoint_path
from r2l_viewer.core.cameras import Intrinsics, spherical_pose
from r2l_viewer.core.checkpoint import load_scene
from r2l_viewer.core.datasets import DatasetError, load_dataset, render_demo_view
from r2l_viewer.core.datasets.demo import BOUNDING_RADIUS, BOXES, SPHERES, render_demo_views
from r2l_viewer.core.datasets.forward_facing import NDC_BOX_PAD, ndc_box
from r2l_viewer.core.rays import NdcSpace, camera_rays, to_ndc


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
    ds = load_dataset(fern_dir)  # LLFF's usual 1/8 of the photos: fern's images_8
    assert {k: len(v) for k, v in ds.splits.items()} == {"train": 15, "val": 2, "test": 3}
    assert ds.split("test").names == ["image000", "image008", "image016"]
    assert ds.meta.extra["image_folder"] == "images_8" and ds.meta.extra["downscale"] == 8
    intr = ds.meta.intrinsics
    assert (intr.height, intr.width) == (378, 504)
    assert intr.focal == pytest.approx(3260.5 / 8, rel=0.01)
    assert ds.meta.ndc is not None and ds.meta.near < ds.meta.far
    poses = ds.split("train").poses
    assert torch.allclose(poses[:, :3, 3].mean(0), torch.zeros(3), atol=0.2)  # recentred
    # LLFF's [down, right, back] axes become OpenGL's [right, up, back]: right ~ +x, up ~ +y, back ~ +z, det +1
    assert (poses[:, 0, 0] > 0.95).all() and (poses[:, 1, 1] > 0.95).all() and (poses[:, 2, 2] > 0.95).all()
    assert torch.allclose(torch.det(poses[:, :3, :3]), torch.ones(len(poses)), atol=1e-4)


@pytest.mark.parametrize("folder, downscale", [("fern", 24), ("forward_c", 7)])
def test_the_ndc_box_holds_every_training_ray_from_near_to_infinity(fern_dir, captures_dir, folder, downscale):
    path = fern_dir if folder == "fern" else captures_dir / folder
    ds = load_dataset(path, downscale, ("train",))
    train, ndc = ds.split("train"), NdcSpace.from_dict(ds.meta.ndc)
    lo, hi = torch.tensor(ds.meta.box_min), torch.tensor(ds.meta.box_max)
    assert lo[2] == -1.0 and hi[2] == 1.0 and (lo[:2] <= -1.0).all() and (hi[:2] >= 1.0).all()
    escaped = []
    for i in range(len(train.poses)):
        rays = camera_rays(train.poses[i], train.intrinsics_of(i))
        origins, directions = to_ndc(*(t.reshape(-1, 3) for t in rays), ndc)
        ends = torch.cat([origins, origins + directions])  # t = 0 (the near plane) and t = 1 (infinity)
        assert ((ends >= lo - 1e-4) & (ends <= hi + 1e-4)).all()
        escaped.append(float((ends[:, :2].abs() > 1.0).any(-1).float().mean()))
    assert max(escaped) > 0.02  # the unit square would have cut these views' edges off


def test_demo_scene_is_exact_and_needs_no_files():
    ds = load_dataset("demo", downscale=16, splits=("train", "test"))
    train = ds.split("train")
    assert train.images.shape == (100, 25, 25, 3) and len(ds.split("test")) == 20 and "val" not in ds.splits
    rgba = render_demo_view(train.poses[0], train.intrinsics)
    assert torch.allclose(rgba[..., :3] * rgba[..., 3:] + (1 - rgba[..., 3:]), train.images[0])
    assert 0.05 < float(rgba[..., 3].mean()) < 0.9  # the object fills part of the view, background the rest
    assert len(torch.unique((train.images[0] * 10).round().reshape(-1, 3), dim=0)) > 8  # colourful


def test_demo_is_100_pixels_square_unless_asked_and_renders_views_together_as_alone():
    ds = load_dataset("demo", splits=("val",))
    val = ds.split("val")
    assert val.images.shape == (10, 100, 100, 3) and ds.meta.extra["downscale"] == 4
    assert val.intrinsics.focal == pytest.approx(138.89, abs=0.01)  # the NeRF Synthetic field of view
    together = render_demo_views(val.poses[:3], val.intrinsics.scaled(0.3))
    for pose, image in zip(val.poses[:3], together):
        assert torch.equal(render_demo_view(pose, val.intrinsics.scaled(0.3)), image)


def test_the_bundled_demo_checkpoint_holds_the_demo_datasets_cameras():
    """The viewer shows a dataset camera's real image only when the checkpoint's cameras are the dataset's."""
    stored = load_scene(demo_checkpoint_path()).cameras
    ds = load_dataset("demo", 50, splits=tuple(stored))
    for split, poses in stored.items():
        assert torch.allclose(ds.split(split).poses, poses, atol=1e-6), split


def test_demo_bounding_sphere_holds_every_object():
    corners = [torch.tensor(c).norm() for lo, hi, _ in BOXES for c in itertools.product(*zip(lo, hi))]
    extents = [torch.tensor(c).norm() + r for c, r, _ in SPHERES]
    assert max(corners + extents) < BOUNDING_RADIUS  # rays missing it are background without further tracing


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




def _yaw(degrees: float) -> np.ndarray:
    a = np.radians(degrees)
    return np.array([[np.cos(a), 0.0, np.sin(a)], [0.0, 1.0, 0.0], [-np.sin(a), 0.0, np.cos(a)]])


LLFF_SIZE, LLFF_FOCAL = (16, 24), 20.0
FOLDER_GREY = {"images": 51, "images_2": 153, "images_4": 204}  # a different grey per folder tells which was read


def _tiny_llff(folder, count=10, folders=("images", "images_2")):
    """An LLFF scene: `count` cameras (OpenGL rotations: identity, except the 2nd and 3rd yawed by +-5 degrees)
    stored as LLFF [down, right, back | position | H W focal] rows, and a folder of grey PNGs per factor."""
    h, w = LLFF_SIZE
    rows = []
    for i in range(count):
        rotation = _yaw({1: 5.0, 2: -5.0}.get(i, 0.0))
        position = np.array([0.1 * (i % 4) - 0.15, 0.05 * (i // 4) - 0.05, 0.0])
        llff = np.stack([-rotation[:, 1], rotation[:, 0], rotation[:, 2], position, [h, w, LLFF_FOCAL]], axis=1)
        rows.append(np.concatenate([llff.reshape(-1), [2.0 + 0.1 * i, 10.0]]))
    folder.mkdir(parents=True)
    np.save(folder / "poses_bounds.npy", np.array(rows))
    for name in folders:
        factor = int(name.split("_")[1]) if "_" in name else 1
        (folder / name).mkdir()
        for i in range(count):
            grey = np.full((h // factor, w // factor, 3), FOLDER_GREY[name], np.uint8)
            iio.imwrite(folder / name / f"img_{i:03d}.png", grey)
    return folder


@pytest.mark.parametrize("downscale,folder,size", [
    (1, "images", (16, 24)),
    (2, "images_2", (8, 12)),
    (4, "images_2", (4, 6)),  # no images_4: images_2 shrunk by 2, not the full photos shrunk by 4
    (3, "images", (5, 8)),  # 2 does not divide 3: from the full photos
    (None, "images_2", (2, 3)),  # LLFF's default 1/8
])
def test_llff_downscale_is_relative_to_the_photos_and_reads_the_nearest_folder(tmp_path, downscale, folder, size):
    ds = load_dataset(_tiny_llff(tmp_path / "scene"), downscale)
    images = ds.split("train").images
    assert tuple(images.shape[1:3]) == size
    assert torch.allclose(images, torch.full_like(images, FOLDER_GREY[folder] / 255), atol=1e-6)
    assert ds.meta.extra["image_folder"] == folder and ds.meta.extra["downscale"] == (downscale or 8)
    assert ds.meta.intrinsics.focal == pytest.approx(LLFF_FOCAL * size[1] / LLFF_SIZE[1])
    assert (ds.meta.ndc["height"], ds.meta.ndc["width"]) == size


def test_llff_prefers_the_folder_made_for_the_factor(tmp_path):
    ds = load_dataset(_tiny_llff(tmp_path / "scene", folders=("images", "images_2", "images_4")), 4)
    assert ds.meta.extra["image_folder"] == "images_4"
    assert float(ds.split("val").images.mean()) == pytest.approx(FOLDER_GREY["images_4"] / 255, abs=1e-6)


def test_llff_never_enlarges_a_smaller_folder(tmp_path):
    scene = _tiny_llff(tmp_path / "scene", folders=("images_2",))
    with pytest.raises(DatasetError) as e:
        load_dataset(scene, 1)
    assert str(scene) in _message(e) and "images_2" in _message(e) and "multiple of 2" in _message(e)


def test_llff_axes_become_opengl_right_up_back(tmp_path):
    ds = load_dataset(_tiny_llff(tmp_path / "scene"), 2, splits=("train", "val", "test"))
    poses = torch.cat([ds.split(s).poses for s in ("test", "train", "val")])
    order = [int(n.split("_")[1]) for s in ("test", "train", "val") for n in ds.split(s).names]
    poses = poses[torch.tensor(order).argsort()]
    assert torch.allclose(torch.det(poses[:, :3, :3]), torch.ones(10), atol=1e-5)
    assert torch.allclose(poses[0, :3, :3], torch.eye(3), atol=1e-5)  # identity in, identity out
    assert torch.allclose(poses[1, :3, :3], torch.from_numpy(_yaw(5.0)).float(), atol=1e-5)
    assert torch.allclose(poses[2, :3, :3], torch.from_numpy(_yaw(-5.0)).float(), atol=1e-5)
    step = poses[1, :3, 3] - poses[0, :3, 3]  # camera 1 sits 0.1 to the right (+x) of camera 0, scaled with the bounds
    assert torch.allclose(step, torch.tensor([0.1 / (2.0 * 0.75), 0.0, 0.0]), atol=1e-5)


def test_llff_train_val_and_test_are_disjoint(tmp_path):
    ds = load_dataset(_tiny_llff(tmp_path / "scene", count=20), 2)
    names = {s: ds.split(s).names for s in ("train", "val", "test")}
    assert names["test"] == ["img_000", "img_008", "img_016"]  # the usual every-8th hold-out
    assert names["val"] == ["img_004", "img_012"]
    assert len(names["train"]) == 15
    assert sorted(sum(names.values(), [])) == [f"img_{i:03d}" for i in range(20)]


def test_llff_with_wrong_image_count(tmp_path):
    scene = _tiny_llff(tmp_path / "scene", folders=("images_2",))
    (scene / "images_2" / "img_003.png").unlink()
    with pytest.raises(DatasetError) as e:
        load_dataset(scene, 2)
    assert "images_2: 9 images but poses_bounds.npy has 10 poses" in _message(e)


def test_the_ndc_box_takes_each_training_cameras_own_field_of_view():
    camera = Intrinsics.from_focal(40, 60, 60.0)
    wide = Intrinsics.from_focal(40, 60, 30.0)  # half the focal length: twice the tangent at the image's edge
    poses, ndc = torch.eye(4).repeat(2, 1, 1), NdcSpace(40, 60, 60.0, 1.0)
    narrow_box = ndc_box(poses, [camera, camera], ndc)
    wide_box = ndc_box(poses, [camera, wide], ndc)
    assert narrow_box[1][0] == pytest.approx(1.0 + NDC_BOX_PAD, abs=0.02)  # the camera NDC is made for: the unit square
    assert wide_box[1][0] == pytest.approx(2.0 + NDC_BOX_PAD, abs=0.05)
    assert wide_box[0][0] == pytest.approx(-2.0 - NDC_BOX_PAD, abs=0.05) and wide_box[0][2] == -1.0
