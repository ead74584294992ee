"""The fly camera, without Qt: starting from any pose, moving along the view, looking around, speed."""

import math

import pytest
import torch

from r2l_viewer.core.cameras import spherical_pose
from r2l_viewer.core.fly import FAST_FACTOR, MAX_PITCH, FlyCamera


def test_it_starts_exactly_at_an_orbit_pose_and_looks_the_same_way():
    for up in ((0.0, 0.0, 1.0), (0.0, 1.0, 0.0)):
        pose = spherical_pose(37.0, 25.0, 4.0, (0.1, 0.2, 0.3), up)
        fly = FlyCamera.from_pose(pose, up)
        assert torch.allclose(fly.c2w(), pose, atol=1e-5), up


def test_w_a_s_d_q_e_move_along_the_view_sideways_and_along_up():
    pose = spherical_pose(0.0, 30.0, 4.0)
    fly = FlyCamera.from_pose(pose, speed=2.0)
    start = torch.tensor(fly.position)
    fly.move(1, 0, 0, seconds=0.5)  # W
    assert torch.allclose(torch.tensor(fly.position) - start, -pose[:3, 2] * 1.0, atol=1e-5)
    at = torch.tensor(fly.position)
    fly.move(0, 1, 0, seconds=0.5)  # D
    assert torch.allclose(torch.tensor(fly.position) - at, pose[:3, 0] * 1.0, atol=1e-5)
    at = torch.tensor(fly.position)
    fly.move(0, 0, 1, seconds=0.25)  # E
    assert torch.allclose(torch.tensor(fly.position) - at, torch.tensor([0.0, 0.0, 0.5]), atol=1e-5)
    at = torch.tensor(fly.position)
    fly.move(-1, -1, -1, seconds=1.0)  # S, A and Q at once: a diagonal no faster than a straight line
    step = torch.tensor(fly.position) - at
    assert step.norm() == pytest.approx(2.0, abs=1e-5)
    assert float(step @ pose[:3, 2]) > 0 and float(step @ pose[:3, 0]) < 0 and float(step[2]) < 0
    assert torch.allclose(fly.c2w()[:3, :3], pose[:3, :3], atol=1e-5), "moving never turns the view"


def test_shift_flies_faster():
    slow, fast = FlyCamera(speed=1.0), FlyCamera(speed=1.0)
    slow.move(1, 0, 0, 1.0)
    fast.move(1, 0, 0, 1.0, fast=True)
    start = torch.tensor(FlyCamera().position)
    assert (torch.tensor(fast.position) - start).norm() == pytest.approx(FAST_FACTOR, rel=1e-5)
    assert (torch.tensor(slow.position) - start).norm() == pytest.approx(1.0, rel=1e-5)


def test_dragging_right_looks_right_and_down_looks_down_within_limits():
    fly = FlyCamera.from_pose(spherical_pose(0.0, 0.0, 4.0))
    forward, right, position = fly.forward(), fly.right(), fly.position
    fly.look(40, 0)
    assert float(fly.forward() @ right) > 0.1 and fly.position == position, "looking never moves the camera"
    fly.look(0, 40)
    assert float(fly.forward()[2]) < -0.1
    fly.look(0, 10_000)
    assert fly.pitch == -MAX_PITCH and torch.isfinite(fly.c2w()).all()
    assert float(forward @ fly.forward()) < 0.5


def test_the_wheel_scales_the_speed_and_a_pinned_pose_shows_exactly():
    fly = FlyCamera(speed=2.0)
    fly.change_speed(2)
    assert fly.speed == pytest.approx(2.0 * 1.25 ** 2)
    rolled = spherical_pose(10.0, 20.0, 3.0)
    roll = torch.tensor([[math.cos(0.2), -math.sin(0.2), 0, 0], [math.sin(0.2), math.cos(0.2), 0, 0],
                         [0, 0, 1, 0], [0, 0, 0, 1]])
    rolled = rolled @ roll  # a dataset camera may be rolled: the pinned pose keeps it
    fly.pin(rolled)
    assert torch.allclose(fly.c2w(), rolled)
    fly.move(1, 0, 0, 0.1)
    assert fly.pinned is None and float(fly.forward() @ -rolled[:3, 2]) > 0.999


def test_pan_slides_in_the_image_plane():
    pose = spherical_pose(0.0, 10.0, 4.0)
    fly = FlyCamera.from_pose(pose)
    fly.pan(10, 0, focal_pixels=100.0, depth=4.0)
    shift = torch.tensor(fly.position) - pose[:3, 3]
    assert torch.allclose(shift, -pose[:3, 0] * 0.4, atol=1e-5)
