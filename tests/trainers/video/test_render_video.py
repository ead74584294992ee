"""r2l-render on the bundled demo scene: real mp4 files decoded back, PNG folders, a nerfstudio path written by
hand, side-by-side frames, depth, refusals before any frame, and stops that leave nothing under the output name."""

from __future__ import annotations

import json
import math
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pytest

from r2l_viewer.core.assets import demo_checkpoint_path
from r2l_viewer.core.camera_path import frame_intrinsics, vertical_fov
from r2l_viewer.core.cameras import spherical_pose
from r2l_viewer.core.checkpoint import load_scene, save_scene
from r2l_viewer.core.colormap import depth_image, depth_range
from r2l_viewer.core.render import render_image
from trainers.configs import VideoConfig
from trainers.events import DONE, PROGRESS, STOPPED
from tests.grid_scenes import with_grid_student
from trainers.cli.render import main
from trainers.video.job import RenderVideo
from trainers.video.frames import to_uint8
from trainers.storage.workspace import RunContext, Workspace

ROOT = Path(__file__).resolve().parents[3]
DEMO = demo_checkpoint_path()
AZIMUTHS = (-180.0, -150.0, -120.0, -90.0, -60.0)
FOVS = (40.0, 38.0, 36.0, 38.0, 40.0)


def nerfstudio_path_file(folder: Path, width: int = 48, height: int = 32, fps: float = 10.0) -> Path:
    """A camera path written as nerfstudio's viewer writes one: every frame's camera_to_world row by row."""
    frames = [{"camera_to_world": spherical_pose(a, 30.0, 4.0).double().reshape(-1).tolist(), "fov": f,
               "aspect": width / height} for a, f in zip(AZIMUTHS, FOVS)]
    data = {"camera_type": "perspective", "render_width": width, "render_height": height, "fps": fps,
            "seconds": len(frames) / fps, "is_cycle": False, "smoothness_value": 0.0, "camera_path": frames}
    path = folder / "path.json"
    path.write_text(json.dumps(data, indent=1))
    return path


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return 10 * math.log10(255.0**2 / max(mse, 1e-12))


LUMA = np.array([0.299, 0.587, 0.114])  # BT.601, the weights of yuv420p's full-resolution channel


def codec_view(image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """What H.264 in yuv420p keeps of an RGB image: its luma at full resolution, its colour at half (2x2 means)."""
    h, w = image.shape[:2]
    luma = image.astype(np.float64) @ LUMA
    return luma, image.astype(np.float64).reshape(h // 2, 2, w // 2, 2, 3).mean(axis=(1, 3))


def leftovers(folder: Path, keep: set[str]) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name not in keep)


def test_the_mp4_decodes_to_the_rendered_frames(tmp_path):
    path_file = nerfstudio_path_file(tmp_path)
    out = tmp_path / "videos" / "student.mp4"
    assert main([str(DEMO), "--path", str(path_file), "--out", str(out), "--quiet", "--device", "cpu"]) == 0
    video = iio.imread(out)
    assert video.shape == (5, 32, 48, 3)
    meta = iio.immeta(out)
    assert meta["codec"] == "h264" and meta["pix_fmt"].startswith("yuv420p") and meta["fps"] == 10.0
    student = load_scene(DEMO).build_student()
    for frame, azimuth, fov in zip(video, AZIMUTHS, FOVS):
        camera = (spherical_pose(azimuth, 30.0, 4.0), frame_intrinsics(fov, 48, 32))
        expected = to_uint8(render_image(student, *camera).rgb)
        (luma, colour), (expected_luma, expected_colour) = codec_view(frame), codec_view(expected)
        assert psnr(luma, expected_luma) > 40.0  # (crf 10: near lossless; about 43 dB measured)
        assert psnr(colour, expected_colour) > 35.0  # (about 38 dB)
    assert leftovers(out.parent, {"student.mp4"}) == []


def test_both_models_side_by_side_in_pngs_with_their_names(tmp_path):
    out = tmp_path / "frames"
    path_file = nerfstudio_path_file(tmp_path, width=64, height=48)
    assert main([str(DEMO), "--path", str(path_file), "--out", str(out), "--model", "both", "--quiet"]) == 0
    names = sorted(p.name for p in out.iterdir())
    assert names == [f"{i:05d}.png" for i in range(5)]
    frame = iio.imread(out / "00002.png")
    assert frame.shape == (48, 128, 3)
    scene = load_scene(DEMO)
    camera = (spherical_pose(AZIMUTHS[2], 30.0, 4.0), frame_intrinsics(FOVS[2], 64, 48))
    teacher = to_uint8(render_image(scene.build_teacher(), *camera).rgb)
    student = to_uint8(render_image(scene.build_student(), *camera).rgb)
    label_rows = slice(0, 20)  # the names sit in the top-left corners; the rest is each model's render
    assert np.abs(frame[24:, :64].astype(int) - teacher[24:]).max() <= 1
    assert np.abs(frame[24:, 64:].astype(int) - student[24:]).max() <= 1
    assert np.abs(frame[label_rows, :30].astype(int) - teacher[label_rows, :30]).max() > 100  # white text


def test_the_teachers_depth_as_colours_along_the_standard_orbit(tmp_path):
    out = tmp_path / "depth"
    assert main([str(DEMO), "--out", str(out), "--model", "teacher", "--output", "depth", "--size", "24x24",
                 "--quiet"]) == 0
    frames = sorted(out.iterdir())
    assert len(frames) == 40  # the NeRF papers' orbit
    scene = load_scene(DEMO)
    first = render_image(scene.build_teacher(), spherical_pose(-180.0, 30.0, 4.0),
                         frame_intrinsics(vertical_fov(scene.meta.intrinsics), 24, 24))
    span = depth_range(first.depth, scene.meta.far, first.opacity)
    expected = to_uint8(depth_image(first.depth, *span, first.opacity, scene.meta.background))
    assert np.abs(iio.imread(frames[0]).astype(int) - expected).max() <= 1


def test_the_students_depth_along_the_standard_orbit(tmp_path):
    out = tmp_path / "student-depth"
    assert main([str(DEMO), "--out", str(out), "--output", "depth", "--size", "16x16", "--quiet"]) == 0
    frames = sorted(out.iterdir())
    scene = load_scene(DEMO)
    first = render_image(scene.build_student(), spherical_pose(-180.0, 30.0, 4.0),
                         frame_intrinsics(vertical_fov(scene.meta.intrinsics), 16, 16))
    span = depth_range(first.depth, scene.meta.far, first.opacity)
    expected = to_uint8(depth_image(first.depth, *span, first.opacity, scene.meta.background))
    assert len(frames) == 40 and np.abs(iio.imread(frames[0]).astype(int) - expected).max() <= 1


def test_an_odd_frame_size_is_padded_to_even_for_h264(tmp_path, capsys):
    out = tmp_path / "odd.mp4"
    path_file = nerfstudio_path_file(tmp_path, width=33, height=21)
    assert main([str(DEMO), "--path", str(path_file), "--out", str(out)]) == 0
    assert iio.imread(out).shape == (5, 22, 34, 3)
    assert "frames padded to 34x22: H.264 needs even sides" in capsys.readouterr().err


@pytest.mark.parametrize("scene,args,message", [
    ("demo", ["--path", "{folder}/missing.json"], "missing.json: no such file"),
    ("demo", ["--path", "{folder}/bad.json"], r"bad.json: camera_path\[1\] has no 'fov'"),
    ("colour-only", ["--output", "depth"], "its student gives no depth"),  # (distilled without depth)
    ("demo", ["--out", "{folder}/exists.mp4"], "exists.mp4: already exists; choose another name, or replace it"),
    ("demo", ["--out", "{folder}/video.avi"], "give a .mp4 file for a video"),
    ("teacher-only", [], "has no student; render the teacher"),
])
def test_bad_requests_are_refused_before_any_frame(tmp_path, capsys, scene, args, message):
    pose = spherical_pose(0, 30, 4).reshape(-1).tolist()
    (tmp_path / "bad.json").write_text(json.dumps({"render_width": 8, "render_height": 8, "camera_path": [
        {"camera_to_world": pose, "fov": 40}, {"camera_to_world": pose}]}))
    (tmp_path / "exists.mp4").write_bytes(b"an older video")
    checkpoint = load_scene(DEMO)
    checkpoint.student = None
    save_scene(tmp_path / "teacher-only.ckpt", checkpoint)
    with_grid_student(DEMO, tmp_path / "colour-only.ckpt")  # a student without depth
    scene_path = DEMO if scene == "demo" else tmp_path / f"{scene}.ckpt"
    args = [a.format(folder=tmp_path) for a in args]
    out = [] if "--out" in args else ["--out", str(tmp_path / "new.mp4")]
    assert main([str(scene_path), *out, *args]) == 2
    err = capsys.readouterr().err
    assert "error: " in err and len(err.strip().splitlines()) == 1, err
    assert re.search(message, err), err
    assert leftovers(tmp_path, {"bad.json", "exists.mp4", "teacher-only.ckpt", "colour-only.ckpt"}) == []
    assert (tmp_path / "exists.mp4").read_bytes() == b"an older video"


def test_a_stopped_job_leaves_no_file_under_the_output_name(tmp_path):
    out = tmp_path / "video.mp4"
    out.write_bytes(b"an older video")
    ctx = RunContext(Workspace(DEMO), device="cpu")
    job = RenderVideo(VideoConfig(out=str(out), size=(32, 32), overwrite=True), ctx)
    kinds = []
    for event in job.run():
        kinds.append(event.kind)
        if event.kind == PROGRESS and event.step == 2:
            assert len(leftovers(tmp_path, {"video.mp4"})) == 1  # the video grows under a temporary name
            ctx.stop.set()
    assert kinds[-1] == STOPPED and DONE not in kinds
    assert out.read_bytes() == b"an older video" and leftovers(tmp_path, {"video.mp4"}) == []


def test_a_job_abandoned_midway_deletes_its_unfinished_frames(tmp_path):
    out = tmp_path / "frames"
    events = RenderVideo(VideoConfig(out=str(out), size=(16, 16)), RunContext(Workspace(DEMO), device="cpu")).run()
    for event in events:
        if event.kind == PROGRESS:
            break
    events.close()  # the consumer went away (an exception, a closed window)
    assert list(tmp_path.iterdir()) == []


def test_sigterm_stops_r2l_render_and_deletes_the_unfinished_video(tmp_path):
    out = tmp_path / "orbit.mp4"
    env = os.environ | {"PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    process = subprocess.Popen([sys.executable, "-m", "trainers.cli.render", str(DEMO), "--out", str(out),
                                "--model", "teacher", "--size", "160x160", "--quiet"], cwd=ROOT, env=env,
                               stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not any(p.name.endswith(".partial.mp4") for p in tmp_path.iterdir()):
        assert process.poll() is None, process.stderr.read()
        assert time.monotonic() < deadline, "no frame was being written in time"
        time.sleep(0.1)
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 143, err
    assert "SIGTERM: stopping after the current frame" in err and "was not written" in err
    assert list(tmp_path.iterdir()) == []
