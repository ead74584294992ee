"""The OpenCV lens model: undistortion inverts distortion, rays and projections agree, cameras keep their lens."""

import torch

from r2l_viewer.core.cameras import Intrinsics, spherical_pose
from r2l_viewer.core.carving import project
from r2l_viewer.core.lens import distort, undistort
from r2l_viewer.core.rays import camera_rays

LENS = (-0.28, 0.09, -0.012, 0.002, 0.0012, -0.0009)  # k1, k2, k3, k4, p1, p2: a strong wide-angle lens


def test_undistort_inverts_distort_across_the_image():
    x, y = torch.meshgrid(torch.linspace(-0.6, 0.6, 25), torch.linspace(-0.45, 0.45, 19), indexing="ij")
    xd, yd = distort(x.double(), y.double(), torch.tensor(LENS, dtype=torch.float64))
    assert (xd - x).abs().max() > 0.02  # the lens moves points by whole pixels
    back_x, back_y = undistort(xd, yd, torch.tensor(LENS))
    assert torch.allclose(back_x, x.double(), atol=1e-9) and torch.allclose(back_y, y.double(), atol=1e-9)


def test_a_point_on_a_pixels_ray_projects_back_to_that_pixels_centre():
    camera = Intrinsics(48, 64, 50.0, 52.0, 31.0, 25.0, LENS)
    pose = spherical_pose(40.0, 25.0, 3.0)
    origins, directions = camera_rays(pose, camera)
    points = (origins + 2.5 * directions).reshape(-1, 3)
    pixels, in_front = project(points, pose, camera)
    ys, xs = torch.meshgrid(torch.arange(48), torch.arange(64), indexing="ij")
    centres = torch.stack([xs, ys], -1).reshape(-1, 2).float() + 0.5
    assert in_front.all() and torch.allclose(pixels, centres, atol=1e-3)
    pinhole, _ = project(points, pose, camera.without_distortion())
    assert (pinhole - centres).abs().max() > 1.0  # without the lens the projection is off by pixels


def test_intrinsics_keep_their_lens_when_resized_and_stored():
    camera = Intrinsics(48, 64, 50.0, 52.0, 31.0, 25.0, LENS)
    assert camera.resized(24, 32).distortion == LENS and camera.resized(24, 32).cx == 15.5
    assert Intrinsics.from_dict(camera.to_dict()) == camera
    plain = Intrinsics.from_focal(10, 10, 9.0)
    assert "distortion" not in plain.to_dict() and Intrinsics.from_dict(plain.to_dict()) == plain
