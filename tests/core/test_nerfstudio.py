"""nerfstudio captures: lego rewritten as one matches the Blender loader; OpenCV distortion bends rays as OpenCV says."""

import json
import math

import imageio.v3 as iio
import numpy as np
import pytest
import torch

from r2l_viewer.core.cameras import spherical_pose
from r2l_viewer.core.datasets import dataset_format, default_downscale, load_blender, load_dataset
from r2l_viewer.core.metrics import psnr
from r2l_viewer.core.rays import camera_rays, rays_from_pixels
from tests.nerfstudio_scenes import LEGO_TEST, LEGO_TRAIN, edit_transforms, lego_as_nerfstudio, ring_capture

DOWNSCALE = 8  # lego at 50x50


def to_blender_world(meta, origins, directions):
    """Rays of the loaded capture taken back through the transform the loader recorded (p' = s (R p + t))."""
    transform = torch.tensor(meta.extra["world_transform"])
    rotation, shift, scale = transform[:, :3], transform[:, 3], meta.extra["world_scale"]
    return (origins / scale - shift) @ rotation, directions @ rotation


@pytest.fixture(scope="module")
def lego_blender(lego_dir):
    ds = load_blender(lego_dir, DOWNSCALE, ("train", "test"))
    return {"train": (ds.split("train"), LEGO_TRAIN), "test": (ds.split("test"), LEGO_TEST)}


@pytest.mark.parametrize("suffix,per_frame", [(".png", False), (".jpg", True)])
def test_lego_as_nerfstudio_gives_the_blender_loaders_rays_and_images(lego_dir, lego_blender, tmp_path, suffix,
                                                                       per_frame):
    folder = lego_as_nerfstudio(lego_dir, tmp_path / "lego", suffix, per_frame)
    assert dataset_format(folder) == "nerfstudio"
    ns = load_dataset(folder, DOWNSCALE, ("train", "test"))
    for split, (blender, chosen) in lego_blender.items():
        mine = ns.split(split)
        assert len(mine) == len(chosen) and mine.frame_intrinsics is None
        assert mine.intrinsics.to_dict() == pytest.approx(blender.intrinsics.to_dict())
        for k, i in enumerate(chosen):
            expected = camera_rays(blender.poses[i], blender.intrinsics)
            got = to_blender_world(ns.meta, *camera_rays(mine.poses[k], mine.intrinsics))
            for a, b in zip(got, expected):
                assert torch.allclose(a, b, atol=2e-5)
            if suffix == ".png":
                assert torch.allclose(mine.images[k], blender.images[i], atol=1e-6)
                assert torch.allclose(mine.alphas[k], blender.alphas[i], atol=1e-6)
            else:
                assert mine.alphas is None and psnr(mine.images[k], blender.images[i]) > 35.0


def test_lego_as_nerfstudio_is_scaled_like_nerfstudio_and_boxed_around_the_object(lego_dir, tmp_path):
    ns = load_dataset(lego_as_nerfstudio(lego_dir, tmp_path / "lego"), DOWNSCALE)
    poses = torch.cat([ns.split("train").poses, ns.split("test").poses])
    assert float(poses[:, :3, 3].abs().max()) == pytest.approx(1.0)  # auto_scale_poses: the largest coordinate is 1
    up = poses[:, :3, 1].mean(0)
    assert torch.allclose(up / up.norm(), torch.tensor([0.0, 0.0, 1.0]), atol=1e-5)  # orientation 'up'
    meta, scale = ns.meta, ns.meta.extra["world_scale"]
    half = (torch.tensor(meta.box_max) - torch.tensor(meta.box_min)) / 2 / scale
    assert torch.allclose(half, torch.full((3,), 1.45), atol=0.05)  # Blender's box is 1.5 on a side
    centre, _ = to_blender_world(meta, (torch.tensor(meta.box_max) + torch.tensor(meta.box_min))[None] / 2,
                                 torch.zeros(1, 3))
    assert centre.norm() < 0.1  # around lego's origin
    assert 1.2 < meta.near / scale < 2.0 and 6.0 < meta.far / scale < 7.0  # Blender's 2 and 6, with the box's corners
    assert meta.orbit_radius / scale == pytest.approx(4.03, abs=0.02) and meta.azimuth_range == (-180.0, 180.0)
    assert meta.background == (1.0, 1.0, 1.0) and meta.format == "nerfstudio"
    assert ns.split("val").names == ns.split("test").names  # no val_filenames: val is the test list


OPENCV = {"camera_model": "OPENCV", "fl_x": 300.0, "fl_y": 310.0, "cx": 161.3, "cy": 118.9, "w": 320, "h": 240,
          "k1": -0.21, "k2": 0.05, "k3": -0.01, "p1": 0.001, "p2": -0.0015}


def opencv_pixel(point_world, c2w, cam):
    """Where the OpenCV model puts a world point: u = fx * x'' + cx with x'' = x' (1 + k1 r^2 + k2 r^4 + k3 r^6)
    + 2 p1 x' y' + p2 (r^2 + 2 x'^2), y'' likewise (OpenCV camera axes: x right, y down, z forward)."""
    local = (point_world - c2w[:3, 3]) @ c2w[:3, :3]  # OpenGL camera axes (x right, y up, z back)
    x, y = local[0] / -local[2], -local[1] / -local[2]
    r2 = x * x + y * y
    radial = 1 + cam["k1"] * r2 + cam["k2"] * r2**2 + cam["k3"] * r2**3
    xd = x * radial + 2 * cam["p1"] * x * y + cam["p2"] * (r2 + 2 * x * x)
    yd = y * radial + cam["p1"] * (r2 + 2 * y * y) + 2 * cam["p2"] * x * y
    return cam["fl_x"] * xd + cam["cx"], cam["fl_y"] * yd + cam["cy"]


def distance_to_ray(point, origin, direction):
    direction = direction / direction.norm()
    offset = point - origin
    return float((offset - (offset @ direction) * direction).norm())


def test_an_opencv_frame_projects_a_point_where_opencv_says_and_its_ray_passes_through_it(tmp_path):
    folder = ring_capture(tmp_path / "cap", OPENCV, size=(240, 320))
    ds = load_dataset(folder, 1, ("train", "test"))
    views = ds.split("test")  # frame 0 (every 8th is a test view)
    assert views.intrinsics.distortion == (-0.21, 0.05, -0.01, 0.0, 0.001, -0.0015)
    original = torch.tensor(json.loads((folder / "transforms.json").read_text())["frames"][0]["transform_matrix"])
    point = torch.tensor([-0.6, 0.3, 0.4], dtype=torch.float64)
    u, v = opencv_pixel(point, original.double(), OPENCV)
    assert 20 < u < 300 and 20 < v < 220 and math.hypot(u - 161.3, v - 118.9) > 60  # where the lens bends rays
    transform, scale = torch.tensor(ds.meta.extra["world_transform"]), ds.meta.extra["world_scale"]
    moved = (scale * (transform[:, :3] @ point.float() + transform[:, 3]))
    cam = views.intrinsics
    at = lambda value: (value - 0.5).float()  # noqa: E731 (the pixel index whose centre is at `value`)
    origin, direction = rays_from_pixels(views.poses[0], cam.fx, cam.fy, cam.cx, cam.cy, at(u), at(v), cam.distortion)
    assert distance_to_ray(moved, origin, direction) < 1e-5
    _, pinhole = rays_from_pixels(views.poses[0], cam.fx, cam.fy, cam.cx, cam.cy, at(u), at(v))
    assert distance_to_ray(moved, origin, pinhole) > 1e-3  # the lens is not ignored
    origins, directions = camera_rays(views.poses[0], cam)  # the image's own ray through that pixel
    row, col = int(v), int(u)
    assert distance_to_ray(moved, origins[row, col], directions[row, col]) < 2.0 * (origin - moved).norm() / cam.fx


def test_intrinsics_per_frame_may_differ_and_each_view_keeps_its_own(tmp_path):
    folder = ring_capture(tmp_path / "cap", {"w": 32, "h": 24, "cx": 16.0, "cy": 12.0})
    data = json.loads((folder / "transforms.json").read_text())
    for i, frame in enumerate(data["frames"]):
        frame["fl_x"] = frame["fl_y"] = 30.0 + i
    (folder / "transforms.json").write_text(json.dumps(data))
    train = load_dataset(folder, 1, ("train",)).split("train")
    assert [c.fx for c in train.cameras()] == [31.0, 32.0, 33.0, 35.0, 36.0, 37.0]  # frames 1-3, 5-7: not 0 or 4
    assert train.intrinsics == train.cameras()[0]


def test_images_n_folders_are_read_and_intrinsics_scaled(tmp_path):
    camera = {"fl_x": 40.0, "fl_y": 40.0, "cx": 16.0, "cy": 12.0, "w": 32, "h": 24}
    folder = ring_capture(tmp_path / "cap", camera, fill=200)
    (folder / "images_2").mkdir()
    for i in range(8):
        iio.imwrite(folder / "images_2" / f"frame_{i:05d}.png", np.full((12, 16, 3), 10 * i, dtype=np.uint8))
    half = load_dataset(folder, 2, ("train",))
    assert half.meta.extra["image_folder"] == "images_2"
    train = half.split("train")
    assert train.images.shape[1:] == (12, 16, 3) and float(train.images[0].mean()) == pytest.approx(10 / 255)
    assert (train.intrinsics.fx, train.intrinsics.cx, train.intrinsics.cy) == (20.0, 8.0, 6.0)
    quarter = load_dataset(folder, 4, ("train",)).split("train")  # images_2 shrunk the rest of the way
    assert quarter.images.shape[1:] == (6, 8, 3) and quarter.intrinsics.fx == 10.0
    full = load_dataset(folder, 1, ("train",)).split("train")
    assert float(full.images.mean()) == pytest.approx(200 / 255) and full.intrinsics.fx == 40.0


def test_the_default_downscale_brings_the_longest_side_to_800(tmp_path):
    folder = ring_capture(tmp_path / "cap", {"fl_x": 1500.0, "w": 1920, "h": 1080})
    assert default_downscale(folder) == 4  # 1920 / 2 = 960 is still over 800
    assert default_downscale(folder / "transforms.json") == 4  # the file itself names the capture too
    assert dataset_format(folder / "transforms.json") == "nerfstudio"


def test_a_ring_capture_gets_its_orbit_and_an_rgb_background(tmp_path):
    ds = load_dataset(ring_capture(tmp_path / "cap", {"fl_x": 30.0}, fill=51), 1, ("train",))
    meta = ds.meta
    assert meta.background == pytest.approx((0.2, 0.2, 0.2)) and ds.split("train").alphas is None
    assert meta.elevation_range[0] <= 20 <= meta.elevation_range[1]  # 'up' kept the ring level
    centre, _ = to_blender_world(meta, torch.tensor(meta.orbit_center)[None], torch.zeros(1, 3))
    assert centre.norm() < 1e-4  # the ring's centre


def test_a_half_ring_pseudo_views_stay_on_the_covered_side(tmp_path):
    folder = ring_capture(tmp_path / "cap", {"fl_x": 30.0}, count=16)
    data = json.loads((folder / "transforms.json").read_text())
    data["frames"] = data["frames"][:8]  # azimuth -180 .. -22.5: 157.5 degrees
    (folder / "transforms.json").write_text(json.dumps(data))
    low, high = load_dataset(folder, 1, ("train",)).meta.azimuth_range
    assert 150.0 < high - low < 200.0  # the arc the cameras cover (157.5 degrees; 'up' tilts it a little), padded


def nerfstudio_rotation_matrix(a, b):
    """nerfstudio's camera_utils.rotation_matrix (a onto b): I + K + K^2 (1 - c) / (s^2 + 1e-8), K the cross
    matrix of v = a x b, c = a.b, s = |v| (not taken from r2l_viewer)."""
    a, b = a / torch.linalg.norm(a), b / torch.linalg.norm(b)
    v, c = torch.linalg.cross(a, b), torch.dot(a, b)
    s = torch.linalg.norm(v)
    k = torch.tensor([[0, -v[2], v[1]], [v[2], 0, -v[0]], [-v[1], v[0], 0]], dtype=a.dtype)
    return torch.eye(3, dtype=a.dtype) + k + k @ k * ((1 - c) / (s**2 + 1e-8))


def nerfstudio_oriented_and_scaled(poses):
    """auto_orient_and_center_poses(method="up", center_method="poses"), then the parser's auto scale: positions
    times 1 / max |coordinate|. Returns the poses [N, 3, 4], the transform [3, 4] and the scale."""
    translation = poses[:, :3, 3].mean(0)
    up = poses[:, :3, 1].mean(0)
    rotation = nerfstudio_rotation_matrix(up / torch.linalg.norm(up), torch.tensor([0.0, 0.0, 1.0], dtype=up.dtype))
    transform = torch.cat([rotation, rotation @ -translation[..., None]], dim=-1)
    oriented = transform @ poses
    scale = 1.0 / float(torch.max(torch.abs(oriented[:, :3, 3])))
    oriented[:, :3, 3] *= scale
    return oriented, transform, scale


@pytest.mark.parametrize("kind", ["object", "unbounded"])
def test_a_captures_poses_are_centred_oriented_and_scaled_as_nerfstudio_does(tmp_path, kind):
    """A ring of cameras around a point far from the origin, the whole rig tilted: the loader's poses, transform
    and scale against a transcription of nerfstudio's own steps (object and unbounded scenes keep them as they are;
    forward-facing ones move on to NDC's frame)."""
    tilt = nerfstudio_rotation_matrix(torch.tensor([0.0, 0.0, 1.0]), torch.tensor([0.3, -0.2, 1.0]))
    rig = torch.eye(4).repeat(12, 1, 1)
    for i in range(12):
        rig[i] = spherical_pose(30.0 * i - 180.0, 15.0 + 10.0 * (i % 3), 3.0 + 0.2 * (i % 4))
        rig[i, :3, :] = tilt @ rig[i, :3, :]
        rig[i, :3, 3] += torch.tensor([0.7, -0.4, 1.3])
    folder = ring_capture(tmp_path / "cap", {"fl_x": 30.0}, count=12)
    edit_transforms(folder, lambda data: [f.update(transform_matrix=rig[i].tolist())
                                          for i, f in enumerate(data["frames"])])
    ds = load_dataset(folder, 1, ("train", "test"), kind=kind)
    assert ds.meta.kind == kind
    expected, transform, scale = nerfstudio_oriented_and_scaled(rig.double())
    assert ds.meta.extra["world_scale"] == pytest.approx(scale, rel=1e-6)
    assert torch.allclose(torch.tensor(ds.meta.extra["world_transform"]).double(), transform, atol=1e-5)
    for split in ("train", "test"):
        views = ds.split(split)
        for k, name in enumerate(views.names):
            i = int(name.split("_")[1])
            assert torch.allclose(views.poses[k, :3, :].double(), expected[i], atol=1e-5), (split, name)
    assert float(transform[:, 3].norm()) > 0.5 and scale != pytest.approx(1.0, abs=0.05)  # both steps move things
