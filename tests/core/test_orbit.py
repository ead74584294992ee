"""The viewer's camera math, without Qt: orbit, pan, zoom, reset, snapping to dataset cameras."""

import pytest
import torch

from r2l_viewer.core.cameras import circular_path, pose_angles, spherical_pose
from r2l_viewer.core.datasets import SceneMeta
from r2l_viewer.core.cameras import Intrinsics
from r2l_viewer.core.orbit import OrbitCamera


def _meta(**kw):
    base = dict(name="s", format="demo", near=2.0, far=6.0, intrinsics=Intrinsics.from_focal(10, 10, 10.0))
    return SceneMeta(**(base | kw))


def test_starts_on_the_scene_orbit_looking_at_its_centre():
    cam = OrbitCamera.for_scene(_meta(orbit_center=(0.1, 0.2, 0.3), orbit_radius=4.0, elevation_range=(0, 60)))
    pose = cam.c2w()
    to_centre = torch.tensor([0.1, 0.2, 0.3]) - pose[:3, 3]
    assert torch.allclose(-pose[:3, 2], to_centre / to_centre.norm(), atol=1e-5)
    assert to_centre.norm() == pytest.approx(4.0, abs=1e-4)
    assert pose_angles(pose, (0.1, 0.2, 0.3))[1] == pytest.approx(30.0, abs=1e-3)


def test_drag_orbits_and_clamps_elevation():
    cam = OrbitCamera()
    before = cam.c2w()
    cam.orbit(50, 0)
    assert cam.azimuth == pytest.approx(20.0)  # azimuth as in NeRF's pose_spherical: the camera went to its left
    assert float((cam.c2w()[:3, 3] - before[:3, 3]) @ before[:3, 0]) < 0  # dragging right turns the scene right
    assert not torch.allclose(cam.c2w(), before)
    assert cam.c2w()[:3, 3].norm() == pytest.approx(4.0, abs=1e-4)
    cam.orbit(0, 10_000)
    assert cam.elevation == pytest.approx(89.0)
    cam.orbit(1000, 0)
    assert -180.0 <= cam.azimuth < 180.0


def test_wheel_zooms_within_limits():
    cam = OrbitCamera(radius=4.0, min_radius=1.0, max_radius=8.0)
    cam.zoom(1)
    assert cam.radius == pytest.approx(3.6)
    cam.zoom(100)
    assert cam.radius == 1.0
    cam.zoom(-100)
    assert cam.radius == 8.0


def test_pan_moves_the_centre_in_the_image_plane():
    cam = OrbitCamera(azimuth=0.0, elevation=0.0, radius=4.0)
    right = cam.c2w()[:3, 0]
    cam.pan(10, 0, focal_pixels=40.0)
    shift = torch.tensor(cam.center)
    assert torch.allclose(shift, -right * 10 * 4.0 / 40.0, atol=1e-5)  # the scene follows the cursor


def test_reset_returns_home():
    cam = OrbitCamera(azimuth=10.0)
    cam.orbit(30, 20)
    cam.zoom(3)
    cam.pan(5, 5, 50.0)
    cam.reset()
    assert (cam.azimuth, cam.elevation, cam.radius, cam.center) == (10.0, 30.0, 4.0, (0.0, 0.0, 0.0))


def test_snapping_to_a_dataset_camera_shows_exactly_it_until_the_next_move():
    cam = OrbitCamera()
    pose = spherical_pose(40.0, 25.0, 3.5)
    pose[:3, 3] += torch.tensor([0.05, 0.0, 0.0])  # not exactly on the orbit
    cam.snap_to(pose)
    assert torch.equal(cam.c2w(), pose)
    cam.orbit(1, 0)
    assert cam.pinned is None and cam.azimuth == pytest.approx(pose_angles(pose)[0] + 0.4, abs=1.0)


def test_forward_facing_scenes_keep_to_their_cameras_range():
    meta = _meta(orbit_up=(0.0, 1.0, 0.0), orbit_center=(0.0, 0.0, -4.0), azimuth_range=(-5.0, 5.0),
                 elevation_range=(-3.0, 3.0))
    cam = OrbitCamera.for_scene(meta)
    home = cam.c2w()
    assert torch.allclose(home[:3, 3], torch.zeros(3), atol=1e-5)  # azimuth 0: in front of the centre, along +z
    assert torch.allclose(home[:3, :3], torch.eye(3), atol=1e-5)  # looking down -z, up +y
    cam.orbit(10_000, 10_000)
    assert cam.azimuth == pytest.approx(15.0) and cam.elevation == pytest.approx(13.0)
    assert float(cam.c2w()[0, 3]) < 0  # dragging right took the camera to its left (-x)
    cam.orbit(-20_000, 0)
    assert cam.azimuth == pytest.approx(-15.0)


def test_360_scenes_open_on_the_first_frame_of_the_standard_path():
    cam = OrbitCamera.for_scene(_meta(elevation_range=(20.0, 40.0)))
    assert torch.allclose(cam.c2w(), circular_path(40, 30.0, 4.0)[0], atol=1e-6)


def test_copies_are_independent():
    cam = OrbitCamera()
    twin = cam.copy()
    twin.orbit(10, 0)
    assert cam.azimuth == 0.0 and twin.home == cam.home


VIEWS = {"radius": [4.0, 4.0], "focal_scale": [1.0, 2.0], "elevation": [10.0, 60.0]}  # the paper's pseudo views


def test_within_a_students_views_the_wheel_zooms_with_the_focal_length_and_stops_at_its_range():
    cam = OrbitCamera(radius=4.0, elevation=30.0)
    cam.within(VIEWS)
    cam.zoom(2)
    assert cam.radius == 4.0 and cam.focal_scale == pytest.approx(1 / 0.81) and cam.limit == ""
    cam.zoom(100)
    assert cam.focal_scale == 2.0 and cam.radius == 4.0 and cam.limit == "zoom"
    cam.zoom(-10)
    assert cam.focal_scale == 1.0 and cam.radius == 4.0 and cam.limit == "zoom"  # no farther than it was trained
    cam.orbit(0, 10_000)
    assert cam.elevation == 60.0 and cam.limit == "elevation"
    cam.orbit(0, -10)
    assert cam.limit == ""


def test_within_brings_the_view_inside_and_none_frees_it_again():
    cam = OrbitCamera(radius=4.0, elevation=80.0, min_radius=0.6, max_radius=16.0)
    cam.zoom(-5)  # 6.8 away: outside the student's views
    cam.within(VIEWS)
    assert cam.radius == 4.0 and cam.elevation == 60.0 and cam.home["elevation"] == 60.0
    cam.within({**VIEWS, "radius": [3.0, 5.0]})
    cam.zoom(-100)  # the focal length first, then the distance within its range
    assert cam.focal_scale == 1.0 and cam.radius == 5.0
    cam.within(None)
    cam.zoom(-3)
    assert cam.radius > 5.0 and cam.focal_limits is None


def test_snapping_to_a_dataset_camera_takes_its_focal_length():
    cam = OrbitCamera(radius=4.0)
    cam.within(VIEWS)
    cam.zoom(3)
    cam.snap_to(spherical_pose(20.0, 30.0, 4.0))
    assert cam.focal_scale == 1.0
