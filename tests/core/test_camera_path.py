"""Camera paths: keyframes reached on time, smooth motion between them, loops, video frame counts, edits, and the
built-in paths (nerf-pytorch's orbit and LLFF spiral, the spiral checked against its formula written out here)."""

import math

import numpy as np
import pytest
import torch

from r2l_viewer.core.camera_path import CameraPath, CameraPathError, Keyframe, PathFrame, frame_intrinsics, \
    vertical_fov
from r2l_viewer.core.cameras import Intrinsics, circular_path, look_at, spherical_pose
from r2l_viewer.core.datasets import load_dataset
from r2l_viewer.core.datasets.base import SceneMeta
from r2l_viewer.core.rays import camera_rays
from r2l_viewer.core.standard_paths import average_pose, standard_path


def close(a: torch.Tensor, b: torch.Tensor, atol: float) -> bool:
    """Tensors equal within atol, whatever their float types (paths hold float64 poses)."""
    return torch.allclose(a.double(), b.double(), atol=atol)


def orbit_keyframes(azimuths, fovs=None, elevation=20.0) -> list[Keyframe]:
    fovs = fovs or [40.0] * len(azimuths)
    return [Keyframe(spherical_pose(a, elevation, 4.0), f) for a, f in zip(azimuths, fovs)]


def path_of(keyframes, **kwargs) -> CameraPath:
    return CameraPath(keyframes, 64, 48, **kwargs)


def test_the_path_reaches_each_keyframe_at_its_time():
    keys = orbit_keyframes([0, 50, 140, 200], [40.0, 30.0, 50.0, 45.0])
    path = path_of(keys, transition=1.5)
    for i, key in enumerate(keys):
        frame = path.at(1.5 * i)
        assert close(frame.c2w, key.c2w, atol=1e-5)
        assert frame.fov == pytest.approx(key.fov)


def test_keyframes_in_a_line_give_motion_at_constant_speed():
    keys = [Keyframe(look_at(torch.tensor([x, 0.0, 3.0]), torch.tensor([x, 0.0, 0.0]), torch.tensor([0.0, 1.0, 0.0])),
                     40.0) for x in (0.0, 1.0, 2.0, 3.0)]
    path = path_of(keys, transition=1.0)
    for t in np.linspace(0.0, 3.0, 13):
        assert float(path.at(float(t)).c2w[0, 3]) == pytest.approx(t, abs=1e-6)


def test_position_and_rotation_change_smoothly_across_keyframes():
    path = path_of(orbit_keyframes([0, 30, 100, 130, 200]), transition=1.0)
    h = 1e-4
    for t in (1.0, 2.0, 3.0):
        before = (path.at(t).c2w - path.at(t - h).c2w) / h
        after = (path.at(t + h).c2w - path.at(t).c2w) / h
        assert close(before, after, atol=2e-2), t  # the same velocity on both sides (C1)
    for t in np.linspace(0, 4, 17):
        rotation = path.at(float(t)).c2w[:3, :3].double()
        assert close(rotation.T @ rotation, torch.eye(3, dtype=torch.float64), atol=1e-5)


def test_two_keyframes_turn_at_constant_rate_the_short_way():
    a = Keyframe(torch.eye(4), 40.0)
    b = Keyframe(torch.eye(4), 40.0)
    b.c2w[:3, :3] = torch.tensor([[0.0, -1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])  # 90 degrees about z
    middle = path_of([a, b]).at(1.0).c2w  # half of the 2-second default transition
    angle = math.degrees(math.atan2(float(middle[1, 0]), float(middle[0, 0])))
    assert angle == pytest.approx(45.0, abs=1e-4)


def test_a_loop_returns_to_its_start_and_its_video_leaves_out_the_repeat():
    keys = orbit_keyframes([0, 90, 180, 270])
    loop = path_of(keys, transition=0.5, fps=10, loop=True)
    assert loop.duration == pytest.approx(2.0)
    assert close(loop.at(2.0).c2w, keys[0].c2w, atol=1e-5)
    assert close(loop.at(2.25).c2w, loop.at(0.25).c2w, atol=1e-5)
    assert loop.frame_count() == 20  # 0.0, 0.1, ..., 1.9 s
    open_path = path_of(keys, transition=0.5, fps=10)
    assert open_path.frame_count() == 16  # 0.0 ... 1.5 s, both ends
    frames = open_path.frames()
    assert close(frames[-1].c2w, keys[-1].c2w, atol=1e-5)
    assert open_path.seconds == pytest.approx(1.6)


def test_a_keyframe_may_take_its_own_time():
    keys = orbit_keyframes([0, 90, 180])
    keys[2].transition = 3.0
    path = path_of(keys, transition=1.0)
    assert path.segment_seconds() == [1.0, 3.0] and path.duration == 4.0
    assert close(path.at(4.0).c2w, keys[2].c2w, atol=1e-5)


def test_edits_keep_keyframes_in_order_and_drop_a_files_frames():
    keys = orbit_keyframes([0, 10, 20])
    path = path_of(keys, file_frames=[PathFrame(k.c2w, k.fov) for k in keys])
    moved = path.move(2, -1)
    assert [k.c2w is keys[i].c2w for i, k in zip((0, 2, 1), moved.keyframes)] == [True] * 3
    assert moved.file_frames is None and path.file_frames is not None
    assert len(path.remove(0).keyframes) == 2 and len(path.add(keys[0], at=0).keyframes) == 4
    assert path.move(0, -5).keyframes[0] is keys[0]  # clamped


def test_a_single_keyframe_is_not_a_path():
    with pytest.raises(CameraPathError, match="at least two keyframes"):
        path_of(orbit_keyframes([0])).frames()


def test_frame_intrinsics_see_exactly_the_vertical_field_of_view():
    camera = frame_intrinsics(50.0, 80, 60)
    _, directions = camera_rays(torch.eye(4), camera)
    slopes = directions[:, 40, 1] / -directions[:, 40, 2]  # tangent of each row's ray above the axis: linear in rows
    pitch = float(slopes[0] - slopes[-1]) / (len(slopes) - 1)
    top_edge = float(slopes[0]) + pitch / 2  # (pixel centres sit half a pixel inside the image's edges)
    assert math.degrees(2 * math.atan(top_edge)) == pytest.approx(50.0, abs=1e-4)
    assert vertical_fov(camera) == pytest.approx(50.0)
    assert camera.fx == camera.fy and (camera.cx, camera.cy) == (40.0, 30.0)


def blender_meta() -> SceneMeta:
    return SceneMeta("lego", "blender", 2.0, 6.0, Intrinsics.from_focal(400, 400, 1111.11), orbit_radius=4.03,
                     orbit_center=(0.0, 0.0, 0.02), elevation_range=(0.0, 90.0))


def test_the_standard_path_of_a_blender_scene_is_nerf_pytorchs_orbit():
    path = standard_path(blender_meta())
    frames = path.frames()
    assert len(frames) == 40 and path.loop and path.fps == 30 and (path.width, path.height) == (400, 400)
    assert close(torch.stack([f.c2w for f in frames]), circular_path(40, 30.0, 4.0), atol=1e-5)
    assert frames[0].fov == pytest.approx(math.degrees(2 * math.atan(200 / 1111.11)))


def nerf_pytorch_spiral(poses: np.ndarray, focal: float) -> np.ndarray:
    """render_path_spiral(poses_avg(poses), up, rads, focal, zrate=.5, rots=2, N=120), written out from
    nerf-pytorch's load_llff.py, on OpenGL [right, up, back] poses [N, 3, 4]."""
    def normalize(v):
        return v / np.linalg.norm(v)

    def view_matrix(z, up, pos):
        z = normalize(z)
        x = normalize(np.cross(up, z))
        return np.stack([x, normalize(np.cross(z, x)), z, pos], 1)

    center = poses[:, :3, 3].mean(0)
    c2w = view_matrix(poses[:, :3, 2].sum(0), poses[:, :3, 1].sum(0), center)
    up = normalize(poses[:, :3, 1].sum(0))
    rads = np.array(list(np.percentile(np.abs(poses[:, :3, 3]), 90, 0)) + [1.0])
    out = []
    for theta in np.linspace(0.0, 2.0 * np.pi * 2, 121)[:-1]:
        c = c2w @ (np.array([np.cos(theta), -np.sin(theta), -np.sin(theta * 0.5), 1.0]) * rads)
        z = normalize(c - c2w @ np.array([0, 0, -focal, 1.0]))
        out.append(view_matrix(z, up, c))
    return np.stack(out)


def test_the_standard_path_of_an_llff_scene_is_nerf_pytorchs_spiral(fern_dir):
    dataset = load_dataset(fern_dir, 8)
    cameras = {name: split.poses for name, split in dataset.splits.items()}
    path = standard_path(dataset.meta, cameras)
    assert not path.loop and path.frame_count() == 120
    poses = torch.cat(list(cameras.values()))
    expected = nerf_pytorch_spiral(poses[:, :3, :].double().numpy(), dataset.meta.orbit_radius)
    ours = torch.stack([f.c2w for f in path.frames()])[:, :3, :].double().numpy()
    np.testing.assert_allclose(ours, expected, atol=1e-4)
    assert close(average_pose(poses.double())[:3, :3], torch.eye(3, dtype=torch.float64), atol=0.05)
