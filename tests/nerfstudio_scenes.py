"""nerfstudio captures made in tests: lego rewritten as a transforms.json capture, and small hand-made ones."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import imageio.v3 as iio
import numpy as np

from r2l_viewer.core.cameras import spherical_pose

LEGO_TRAIN = list(range(0, 100, 6))  # 17 training views spread around the object
LEGO_TEST = [0, 50, 100]


def lego_frames(lego_dir: Path) -> dict[str, list[dict]]:
    """The chosen frames of lego's Blender transforms files, by split."""
    frames = {}
    for split, chosen in (("train", LEGO_TRAIN), ("test", LEGO_TEST)):
        data = json.loads((lego_dir / f"transforms_{split}.json").read_text())
        frames[split] = [data["frames"][i] for i in chosen]
    return frames


def _write_image(source: Path, target: Path) -> None:
    """A copy of a Blender RGBA PNG as PNG (the same bytes) or as JPEG (composited on white: JPEG has no alpha)."""
    if target.suffix == ".png":
        shutil.copyfile(source, target)
        return
    rgba = iio.imread(source).astype(np.float32) / 255.0
    rgb = rgba[..., :3] * rgba[..., 3:] + (1.0 - rgba[..., 3:])
    iio.imwrite(target, np.round(rgb * 255.0).astype(np.uint8), quality=95)


def lego_as_nerfstudio(lego_dir: Path, out: Path, suffix: str = ".png", per_frame: bool = False) -> Path:
    """lego's chosen frames as a nerfstudio capture: images/ beside a transforms.json (PINHOLE, intrinsics at the
    top level or per frame, the split as train_filenames and test_filenames)."""
    (out / "images").mkdir(parents=True)
    angle = json.loads((lego_dir / "transforms_train.json").read_text())["camera_angle_x"]
    focal = 0.5 * 400 / math.tan(0.5 * angle)
    camera = {"fl_x": focal, "fl_y": focal, "cx": 200.0, "cy": 200.0, "w": 400, "h": 400}
    data = {"camera_model": "PINHOLE", "frames": []} | ({} if per_frame else camera)
    for split, frames in lego_frames(lego_dir).items():
        names = []
        for k, frame in enumerate(frames):
            name = f"images/{split}_{k:03d}{suffix}"  # nerfstudio sorts frames by file_path: keep lego's order
            _write_image(lego_dir / f"{frame['file_path']}.png", out / name)
            data["frames"].append({"file_path": name, "transform_matrix": frame["transform_matrix"]}
                                  | (camera if per_frame else {}))
            names.append(name)
        data[f"{split}_filenames"] = names
    (out / "transforms.json").write_text(json.dumps(data))
    return out


def ring_capture(out: Path, camera: dict, count: int = 8, size=(24, 32), radius: float = 3.0, fill=None,
                 elevation: float = 20.0) -> Path:
    """A capture of `count` cameras on a ring around the origin (looking at it), each with a plain PNG of
    size (height, width), and `camera` fields at the top level of transforms.json."""
    (out / "images").mkdir(parents=True, exist_ok=True)
    frames = []
    for i in range(count):
        pose = spherical_pose(360.0 * i / count - 180.0, elevation, radius)
        name = f"images/frame_{i:05d}.png"
        value = fill if fill is not None else (20 * i) % 256
        iio.imwrite(out / name, np.full((*size, 3), value, dtype=np.uint8))
        frames.append({"file_path": name, "transform_matrix": pose.tolist()})
    (out / "transforms.json").write_text(json.dumps(camera | {"frames": frames}))
    return out


def edit_transforms(folder: Path, change) -> None:
    """Rewrite a capture's transforms.json with `change(data)` applied (it edits the dict in place)."""
    path = folder / "transforms.json"
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))
