"""Rays: pixel centres (and nerf-pytorch's corners), batching, the NDC warp and ray-box intersection."""

import pytest
import torch

from r2l_viewer.core.cameras import Intrinsics, spherical_pose
from r2l_viewer.core.rays import NdcSpace, camera_rays, intersect_aabb, rays_from_pixels, to_ndc
from tests.nerf_pytorch_reference import get_rays, ndc_rays


def test_rays_go_through_pixel_centres():
    intr = Intrinsics.from_focal(4, 6, 10.0)
    o, d = camera_rays(torch.eye(4), intr)
    assert o.shape == d.shape == (4, 6, 3)
    assert torch.allclose(d[..., 2], torch.full((4, 6), -1.0))
    assert d[0, 0, 0] == pytest.approx((0.5 - 3) / 10) and d[0, 0, 1] == pytest.approx(-(0.5 - 2) / 10)
    # the four pixels around the principal point are symmetric about the optical axis
    assert torch.allclose(d[1:3, 2:4, :2].mean(dim=(0, 1)), torch.zeros(2), atol=1e-7)


def test_rays_through_pixel_corners_are_nerf_pytorchs_get_rays():
    intr = Intrinsics.from_focal(5, 7, 6.5)
    pose = spherical_pose(35, 25, 4)
    o, d = camera_rays(pose, intr, pixel_offset=0.0)
    K = [[intr.fx, 0, 0.5 * intr.width], [0, intr.fy, 0.5 * intr.height], [0, 0, 1]]
    o_ref, d_ref = get_rays(intr.height, intr.width, K, pose)
    assert torch.allclose(d, d_ref, atol=1e-6) and torch.allclose(o, o_ref)
    assert not torch.allclose(camera_rays(pose, intr)[1], d_ref, atol=1e-2)  # the centres are half a pixel away


def test_batched_rays_match_whole_image_rays():
    intr = Intrinsics.from_focal(8, 8, 9.0)
    poses = torch.stack([spherical_pose(a, 30, 4) for a in (0, 120)])
    o_img, d_img = camera_rays(poses[1], intr)
    ys, xs = torch.tensor([0, 3, 7]), torch.tensor([5, 0, 7])
    o, d = rays_from_pixels(poses[[1, 1, 1]], intr.fx, intr.fy, intr.cx, intr.cy, xs, ys)
    assert torch.allclose(d, d_img[ys, xs], atol=1e-6) and torch.allclose(o, o_img[ys, xs])


def test_per_ray_focal_lengths():
    c2w = torch.eye(4).expand(2, 4, 4)
    fx = torch.tensor([10.0, 20.0])
    _, d = rays_from_pixels(c2w, fx, fx, 5.0, 5.0, torch.tensor([9, 9]), torch.tensor([5, 5]))
    assert d[0, 0] == pytest.approx(2 * d[1, 0])


def test_ndc_maps_near_plane_to_minus_one_and_far_to_one():
    ndc = NdcSpace(100, 100, 80.0, near=1.0)
    o = torch.zeros(1, 3)
    d = torch.tensor([[0.0, 0.0, -1.0]])
    o_ndc, d_ndc = to_ndc(o, d, ndc)
    assert o_ndc[0, 2] == pytest.approx(-1.0)
    assert (o_ndc + d_ndc)[0, 2] == pytest.approx(1.0)


def test_ndc_off_the_axis_is_nerf_pytorchs_ndc_rays():
    """x and y too, on a non-square image with its near plane elsewhere than 1: nerf-pytorch's formula."""
    gen = torch.Generator().manual_seed(4)
    origins = torch.rand(64, 3, generator=gen) * torch.tensor([2.0, 1.6, 1.0]) - torch.tensor([1.0, 0.8, 0.5])
    directions = torch.rand(64, 3, generator=gen) * torch.tensor([1.2, 0.8, 0.5]) - torch.tensor([0.6, 0.4, 1.5])
    for height, width, focal, near in ((30, 40, 35.0, 1.0), (48, 36, 50.0, 1.3)):
        o_ndc, d_ndc = to_ndc(origins, directions, NdcSpace(height, width, focal, near=near))
        o_ref, d_ref = ndc_rays(height, width, focal, near, origins, directions)
        assert torch.allclose(o_ndc, o_ref, atol=1e-5) and torch.allclose(d_ndc, d_ref, atol=1e-5)
        assert (o_ref[:, :2].abs() > 0.05).any() and (d_ref[:, :2].abs() > 0.05).any()  # well off the axis


def test_intersect_aabb_hits_and_misses():
    o = torch.tensor([[0.0, 0.0, 4.0], [3.0, 3.0, 4.0]])
    d = torch.tensor([[0.0, 0.0, -1.0], [0.0, 0.0, -1.0]])
    t0, t1 = intersect_aabb(o, d, torch.full((3,), -1.0), torch.full((3,), 1.0))
    assert (float(t0[0]), float(t1[0])) == pytest.approx((3.0, 5.0))
    assert t1[1] < t0[1]
