"""Cameras: intrinsics, look-at and spherical poses, the 360 path, and their inverses."""

import math

import numpy as np
import pytest
import torch

from r2l_viewer.core.cameras import (
    Intrinsics,
    circular_path,
    focus_point,
    look_at,
    orbit_frame,
    pose_angles,
    spherical_pose,
)


def test_focal_from_camera_angle_matches_blender_formula():
    intr = Intrinsics.from_fov_x(400, 400, 0.6911112070083618)
    assert intr.focal == pytest.approx(555.5555, abs=1e-3)
    assert intr.resized(100, 100).focal == pytest.approx(138.8889, abs=1e-3)
    assert (intr.cx, intr.cy) == (200.0, 200.0)


def test_scaled_and_zoomed_keep_what_they_should():
    intr = Intrinsics.from_focal(100, 200, 150.0)
    half = intr.scaled(0.5)
    assert (half.height, half.width, half.fx) == (50, 100, 75.0)
    zoom = intr.zoomed(2.0)
    assert (zoom.height, zoom.width, zoom.fx, zoom.cx) == (100, 200, 300.0, 100.0)
    assert Intrinsics.from_dict(intr.to_dict()) == intr


@pytest.mark.parametrize("az,el", [(0, 30), (90, 10), (-135, 60), (45, 89.9), (10, -20)])
def test_spherical_pose_looks_at_centre_and_inverts(az, el):
    centre = torch.tensor([0.3, -0.2, 0.1])
    c2w = spherical_pose(az, el, 4.0, centre)
    forward = -c2w[:3, 2]
    to_centre = centre - c2w[:3, 3]
    assert torch.allclose(forward, to_centre / to_centre.norm(), atol=1e-5)
    assert torch.allclose(c2w[:3, :3].T @ c2w[:3, :3], torch.eye(3), atol=1e-5)
    a, e, r = pose_angles(c2w, centre)
    assert (a, e, r) == pytest.approx((az, el, 4.0), abs=1e-3)
    if el > 0:
        assert c2w[2, 3] > centre[2]  # positive elevation is above the centre (z up)


def test_camera_up_points_up_for_upright_orbit():
    c2w = spherical_pose(30, 20, 4.0)
    assert c2w[2, 1] > 0  # the image's up axis has a positive world-z component


def test_straight_down_view_is_well_formed():
    c2w = look_at(torch.tensor([0.0, 0.0, 4.0]), torch.zeros(3), torch.tensor([0.0, 0.0, 1.0]))
    assert torch.isfinite(c2w).all()
    assert torch.allclose(c2w[:3, :3].T @ c2w[:3, :3], torch.eye(3), atol=1e-5)


def test_circular_path_is_the_standard_one():
    poses = circular_path()
    assert poses.shape == (40, 4, 4)
    for p in poses:
        a, e, r = pose_angles(p)
        assert e == pytest.approx(30.0, abs=1e-3) and r == pytest.approx(4.0, abs=1e-4)
    azimuths = [pose_angles(p)[0] for p in poses]
    steps = [((b - a) % 360) for a, b in zip(azimuths, azimuths[1:])]
    assert steps == pytest.approx([9.0] * 39, abs=1e-3)


def trans_t(t):
    return np.array([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, t], [0, 0, 0, 1]], dtype=np.float64)


def rot_phi(phi):
    c, s = np.cos(phi), np.sin(phi)
    return np.array([[1, 0, 0, 0], [0, c, -s, 0], [0, s, c, 0], [0, 0, 0, 1]], dtype=np.float64)


def rot_theta(th):
    c, s = np.cos(th), np.sin(th)
    return np.array([[c, 0, -s, 0], [0, 1, 0, 0], [s, 0, c, 0], [0, 0, 0, 1]], dtype=np.float64)


def nerf_pose_spherical(theta, phi, radius):
    """nerf-pytorch's pose_spherical (load_blender.py), written out."""
    c2w = trans_t(radius)
    c2w = rot_phi(phi / 180.0 * np.pi) @ c2w
    c2w = rot_theta(theta / 180.0 * np.pi) @ c2w
    return np.array([[-1, 0, 0, 0], [0, 0, 1, 0], [0, 1, 0, 0], [0, 0, 0, 1]], dtype=np.float64) @ c2w


@pytest.mark.parametrize("theta,phi,radius", [(-180, -30, 4), (0, -30, 4), (37, -10, 3), (120, -75, 5), (-90, 20, 2)])
def test_spherical_pose_is_nerf_pose_spherical(theta, phi, radius):
    expected = torch.from_numpy(nerf_pose_spherical(theta, phi, radius)).float()
    assert torch.allclose(spherical_pose(theta, -phi, radius), expected, atol=1e-6)


def test_circular_path_is_nerf_render_poses_in_order():
    render_poses = [nerf_pose_spherical(angle, -30.0, 4.0) for angle in np.linspace(-180, 180, 40 + 1)[:-1]]
    expected = torch.from_numpy(np.stack(render_poses)).float()
    assert torch.allclose(circular_path(), expected, atol=1e-6)


def test_orbit_frame_is_identity_for_z_up_and_right_handed_otherwise():
    assert torch.allclose(orbit_frame(torch.tensor([0.0, 0.0, 1.0])), torch.eye(3))
    frame = orbit_frame(torch.tensor([0.0, 1.0, 0.0]))
    assert torch.allclose(frame[:, 2], torch.tensor([0.0, 1.0, 0.0]))
    assert torch.det(frame) == pytest.approx(1.0, abs=1e-5)


def test_focus_point_of_cameras_looking_at_a_point():
    target = torch.tensor([0.5, -0.25, 0.2])
    poses = torch.stack([spherical_pose(a, 25 + a / 20, 3 + a / 100, target) for a in range(-180, 180, 30)])
    assert torch.allclose(focus_point(poses), target, atol=1e-4)
    assert math.isfinite(float(focus_point(poses).sum()))
