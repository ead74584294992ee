"""nerfstudio camera-path JSON: files written by hand as nerfstudio's viewer writes them load, round-trip, and bad
files give one clear line naming the file and the field."""

import json
import math

import pytest
import torch

from r2l_viewer.core.camera_path import CameraPath, CameraPathError, Keyframe
from r2l_viewer.core.camera_path_json import camera_path_to_dict, load_camera_path, save_camera_path
from r2l_viewer.core.cameras import spherical_pose

# Four row-major OpenGL camera-to-world matrices, as nerfstudio's viewer exports them (camera at (0, -4, 0) looking
# at the origin with z up, then turned about z).
ROW_MAJOR = [1.0, 0.0, 0.0, 0.0,
             0.0, 0.0, 1.0, -4.0,
             0.0, -1.0, 0.0, 0.0,
             0.0, 0.0, 0.0, 1.0]


def close(a: torch.Tensor, b: torch.Tensor, atol: float) -> bool:
    """Tensors equal within atol, whatever their float types (paths hold float64 poses)."""
    return torch.allclose(a.double(), b.double(), atol=atol)


def turned(degrees: float) -> list[float]:
    c, s = math.cos(math.radians(degrees)), math.sin(math.radians(degrees))
    rz = torch.tensor([[c, -s, 0, 0], [s, c, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1.0]], dtype=torch.float64)
    return (rz @ torch.tensor(ROW_MAJOR, dtype=torch.float64).reshape(4, 4)).reshape(-1).tolist()


def nerfstudio_file(frames: int = 6) -> dict:
    """A camera path as nerfstudio's viewer (render_panel.py) writes it: keyframes, settings and every frame."""
    return {
        "default_fov": 50.0,
        "default_transition_sec": 1.0,
        "keyframes": [{"matrix": turned(a), "fov": 50.0, "aspect": 1.5, "override_transition_enabled": False,
                       "override_transition_sec": None} for a in (0.0, 60.0, 120.0)],
        "camera_type": "perspective",
        "render_height": 40,
        "render_width": 60,
        "fps": 3.0,
        "seconds": 2.0,
        "is_cycle": False,
        "smoothness_value": 0.0,
        "camera_path": [{"camera_to_world": turned(120.0 * i / frames), "fov": 50.0 + i, "aspect": 1.5}
                        for i in range(frames)],
        "crop": None,
    }


def write(tmp_path, data, name="path.json"):
    path = tmp_path / name
    path.write_text(json.dumps(data) if not isinstance(data, str) else data)
    return path


def test_a_nerfstudio_viewer_file_loads_with_its_frames_as_they_are(tmp_path):
    path = load_camera_path(write(tmp_path, nerfstudio_file()))
    assert (path.width, path.height, path.fps, path.loop, path.transition) == (60, 40, 3.0, False, 1.0)
    assert len(path.keyframes) == 3 and path.keyframes[1].fov == 50.0
    frames = path.frames()  # the file's camera_path, not a resampling of its keyframes (what ns-render renders)
    assert len(frames) == 6 and [f.fov for f in frames] == [50.0 + i for i in range(6)]
    expected = torch.tensor(turned(40.0)).reshape(4, 4).float()  # row-major: the translation is the last column
    assert close(frames[2].c2w, expected, atol=1e-6) and float(frames[0].c2w[1, 3]) == -4.0


def test_a_saved_path_loads_back_the_same_and_keeps_unknown_fields(tmp_path):
    original = nerfstudio_file()
    first = load_camera_path(write(tmp_path, original))
    saved = save_camera_path(first, tmp_path / "again.json")
    data = json.loads(saved.read_text())
    assert data["camera_path"] == original["camera_path"] and data["crop"] is None
    for key in ("render_height", "render_width", "fps", "is_cycle", "camera_type", "default_transition_sec"):
        assert data[key] == original[key], key
    assert [k["matrix"] for k in data["keyframes"]] == [k["matrix"] for k in original["keyframes"]]
    assert camera_path_to_dict(load_camera_path(saved)) == data


def test_a_path_made_here_is_written_as_nerfstudio_reads_it(tmp_path):
    keys = [Keyframe(spherical_pose(a, 20.0, 4.0), 40.0) for a in (0, 90, 180)]
    path = CameraPath(keys, 64, 48, fps=10.0, transition=0.5, loop=True)
    data = json.loads(save_camera_path(path, tmp_path / "made.json").read_text())
    assert len(data["camera_path"]) == 15 and data["seconds"] == pytest.approx(1.5) and data["is_cycle"]
    first = data["camera_path"][0]
    assert len(first["camera_to_world"]) == 16 and first["aspect"] == pytest.approx(64 / 48)
    matrix = torch.tensor(first["camera_to_world"]).reshape(4, 4)  # as nerfstudio's get_path_from_json reads it
    assert close(matrix, keys[0].c2w, atol=1e-6)
    assert close(load_camera_path(tmp_path / "made.json").keyframes[2].c2w, keys[2].c2w, atol=1e-6)


def test_a_hand_written_file_without_keyframes_or_fps(tmp_path):
    data = {"render_height": 40, "render_width": 40, "seconds": 2.0,
            "camera_path": [{"camera_to_world": turned(a), "fov": 45} for a in (0, 30, 60, 90)]}
    path = load_camera_path(write(tmp_path, data))
    assert path.fps == 2.0 and len(path.keyframes) == 4  # ns-render's rate: frames over seconds
    resampled = path.edited(path.keyframes)  # sampling the keyframes gives the file's frames back exactly
    assert resampled.frame_count() == 4
    for frame, entry in zip(resampled.frames(), data["camera_path"]):
        assert close(frame.c2w, torch.tensor(entry["camera_to_world"]).reshape(4, 4).float(), atol=1e-5)


@pytest.mark.parametrize("change,message", [
    (lambda d: d.pop("camera_path") and d.pop("keyframes"), "camera_path is missing or empty"),
    (lambda d: d["camera_path"][2].update(camera_to_world=[1.0] * 12), r"camera_path\[2\].camera_to_world has 12 "
                                                                        "numbers; expected 16"),
    (lambda d: d["camera_path"][1].pop("fov"), r"camera_path\[1\] has no 'fov'"),
    (lambda d: d["camera_path"][0].update(fov=200), r"camera_path\[0\].fov = 200.0 is not a field of view"),
    (lambda d: d["camera_path"][0].update(camera_to_world=[2.0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]),
     "not a rigid camera pose"),
    (lambda d: d.pop("render_width"), "has no 'render_width'"),
    (lambda d: d.update(camera_type="fisheye"), "only perspective paths"),
    (lambda d: d["keyframes"][0].update(matrix="[1, 0, 0]"), r"keyframes\[0\].matrix is text"),
])
def test_a_bad_file_is_named_with_what_is_wrong(tmp_path, change, message):
    data = nerfstudio_file()
    change(data)
    with pytest.raises(CameraPathError, match=message) as raised:
        load_camera_path(write(tmp_path, data))
    assert str(raised.value).startswith(str(tmp_path / "path.json")) and "\n" not in str(raised.value)


def test_a_missing_or_broken_file_says_so(tmp_path):
    with pytest.raises(CameraPathError, match="no such file"):
        load_camera_path(tmp_path / "absent.json")
    with pytest.raises(CameraPathError, match=r"is not JSON \(line 1, column 2"):
        load_camera_path(write(tmp_path, "{camera_path: []}"))
    with pytest.raises(CameraPathError, match="one JSON object"):
        load_camera_path(write(tmp_path, "[1, 2]"))
