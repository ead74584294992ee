"""The grid teacher renders what is inside its box from any distance: its rays' near and far come from where they
enter and leave the box, not from fixed distances from the camera."""

import torch

from r2l_viewer.core.assets import demo_checkpoint_path
from r2l_viewer.core.cameras import spherical_pose
from r2l_viewer.core.checkpoint import load_scene
from r2l_viewer.core.render import render_image


def _object_share(rgb: torch.Tensor) -> float:
    """Share of pixels that are not the demo's white background."""
    return float((rgb.min(dim=-1).values < 0.8).float().mean())


def test_the_teacher_shows_the_object_from_far_beyond_its_far_bound():
    scene = load_scene(demo_checkpoint_path())
    teacher = scene.build_teacher().eval()
    meta, base = scene.meta, scene.meta.intrinsics.resized(32, 32)
    near_view = spherical_pose(30.0, 30.0, meta.orbit_radius, meta.orbit_center, meta.orbit_up)
    far = 3.0 * meta.orbit_radius  # beyond the far bound (6 for the demo's orbit of 4)
    far_view = spherical_pose(30.0, 30.0, far, meta.orbit_center, meta.orbit_up)
    assert far - 1.0 > teacher.config.far
    with torch.no_grad():
        close = render_image(teacher, near_view, base, 4096).rgb
        distant = render_image(teacher, far_view, base.zoomed(3.0), 4096).rgb  # the same size on screen
    assert _object_share(close) > 0.1
    assert abs(_object_share(distant) - _object_share(close)) < 0.3 * _object_share(close)


def test_a_camera_inside_the_box_samples_from_the_camera_on():
    teacher = load_scene(demo_checkpoint_path()).build_teacher()
    inside = torch.tensor([[0.0, 0.0, 0.05]])
    t, live = teacher.sample_along_rays(inside, torch.tensor([[1.0, 0.0, 0.0]]))
    assert live.any() and float(t[live].min()) < teacher.config.near
