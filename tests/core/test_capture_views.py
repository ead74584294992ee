"""How the viewer and the standard path treat unbounded captures: camera limits and an ellipse through the cameras."""

from __future__ import annotations

import math

import torch

from r2l_viewer.core.cameras import pose_angles
from r2l_viewer.core.datasets import load_dataset
from r2l_viewer.core.datasets.capture_space import unbounded_meta
from r2l_viewer.core.orbit import CAPTURE_RADII, OrbitCamera
from r2l_viewer.core.standard_paths import ELLIPSE_FRAMES, standard_path, standard_path_name
from tests.core.test_scene_shape import ring


def arc_meta(degrees: float):
    poses = ring(degrees, 10)
    return unbounded_meta("arc", "nerfstudio", load_dataset("demo", 40, ("train",)).meta.intrinsics, poses,
                          (0.5, 0.5, 0.5), {}, "arc", up=(0.0, 0.0, 1.0)), poses


def test_an_unbounded_capture_keeps_the_camera_near_its_cameras(captures_dir):
    meta = load_dataset(captures_dir / "fruit", 32, ("train",)).meta
    camera = OrbitCamera.for_scene(meta)
    assert (camera.min_radius, camera.max_radius) == tuple(r * meta.orbit_radius for r in CAPTURE_RADII)
    assert camera.azimuth_limits is None  # all round
    assert camera.elevation_limits[0] >= meta.elevation_range[0] - 10.0
    arc, _ = arc_meta(90.0)
    limits = OrbitCamera.for_scene(arc).azimuth_limits
    assert limits is not None and 100.0 < limits[1] - limits[0] < 140.0  # the 90-degree arc, padded


def test_the_standard_path_of_an_unbounded_capture_is_an_ellipse_through_its_cameras(captures_dir):
    ds = load_dataset(captures_dir / "fruit", 32)
    cameras = {name: split.poses for name, split in ds.splits.items()}
    path = standard_path(ds.meta, cameras)
    assert "ellipse" in standard_path_name(ds.meta) and len(path.keyframes) == ELLIPSE_FRAMES and path.loop
    eyes = torch.stack([k.c2w[:3, 3] for k in path.keyframes]).float()
    positions = torch.cat(list(cameras.values()))[:, :3, 3]
    assert torch.cdist(eyes, positions).min(1).values.max() < 0.35 * ds.meta.orbit_radius
    centre = torch.tensor(ds.meta.orbit_center)
    for keyframe in path.keyframes[::17]:  # every view looks at the point the cameras look at
        c2w = keyframe.c2w.float()
        to_centre = torch.nn.functional.normalize(centre - c2w[:3, 3], dim=0)
        assert float(to_centre @ -c2w[:3, 2]) > 0.999


def test_a_partial_arc_path_stays_on_the_arc():
    meta, poses = arc_meta(90.0)
    path = standard_path(meta, {"train": poses})
    azimuths = [pose_angles(k.c2w, meta.orbit_center, meta.orbit_up)[0] for k in path.keyframes]
    covered = [pose_angles(p, meta.orbit_center, meta.orbit_up)[0] for p in poses]
    assert min(covered) - 1.0 <= min(azimuths) and max(azimuths) <= max(covered) + 1.0
    assert max(azimuths) - min(azimuths) > 80.0 and not math.isclose(azimuths[0], azimuths[60])  # there and back
