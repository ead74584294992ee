"""The Blender (NeRF Synthetic) format: transforms_{train,val,test}.json and RGBA PNGs composited on white."""

from __future__ import annotations

import json
import math
from pathlib import Path

import torch

from ..cameras import Intrinsics
from .base import Dataset, DatasetError, SceneMeta, Split, composite_on, downscale_images, orbit_of_inward_cameras
from .base import require_dir
from .images import read_images

SPLITS = ("train", "val", "test")
WHITE = (1.0, 1.0, 1.0)


def is_blender(folder: Path) -> bool:
    return any((folder / f"transforms_{s}.json").is_file() for s in SPLITS)


def _json_kind(value) -> str:
    """How JSON would call a value, for error messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return f"the number {value}"
    if isinstance(value, str):
        return f"the string {value[:40]!r}"
    return "a list" if isinstance(value, list) else "an object"


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _matrix_problem(matrix) -> str | None:
    """What keeps `matrix` from being 4 rows of 4 finite numbers, or None when it is one."""
    if not isinstance(matrix, list) or len(matrix) != 4:
        return f"got {_json_kind(matrix)}" + (f" of {len(matrix)} rows" if isinstance(matrix, list) else "")
    for r, row in enumerate(matrix):
        if not isinstance(row, list) or len(row) != 4:
            return f"row {r} is {_json_kind(row)}" + (f" of {len(row)} entries" if isinstance(row, list) else "")
        for c, entry in enumerate(row):
            if not _is_number(entry):
                return f"row {r}, entry {c} is {_json_kind(entry)}"
    return None


def _frame_problem(frame) -> str | None:
    """What is wrong with one entry of 'frames', or None."""
    if not isinstance(frame, dict):
        return f"is {_json_kind(frame)}, expected an object with 'file_path' and 'transform_matrix'"
    for key in ("file_path", "transform_matrix"):
        if key not in frame:
            return f"has no '{key}'"
    if not isinstance(frame["file_path"], str) or not frame["file_path"].strip():
        return f"'file_path' must be the image's path as a string, got {_json_kind(frame['file_path'])}"
    problem = _matrix_problem(frame["transform_matrix"])
    return None if problem is None else f"'transform_matrix' must be 4 rows of 4 numbers; {problem}"


def _check_transforms(path: Path, data) -> None:
    """Raise a DatasetError naming the file (and frame) when the parsed JSON is not a Blender transforms file."""
    if not isinstance(data, dict):
        raise DatasetError(f"{path}: expected an object with 'camera_angle_x' and 'frames', got {_json_kind(data)}")
    for key in ("camera_angle_x", "frames"):
        if key not in data:
            raise DatasetError(f"{path}: has no '{key}' (a Blender transforms file has 'camera_angle_x' and 'frames')")
    angle = data["camera_angle_x"]
    if not _is_number(angle) or not 0.0 < angle < math.pi:
        raise DatasetError(f"{path}: 'camera_angle_x' must be the horizontal field of view in radians (between 0 and "
                           f"pi), got {_json_kind(angle)}")
    if not isinstance(data["frames"], list):
        raise DatasetError(f"{path}: 'frames' must be a list of frames, got {_json_kind(data['frames'])}")
    if not data["frames"]:
        raise DatasetError(f"{path}: has no frames")
    for i, frame in enumerate(data["frames"]):
        problem = _frame_problem(frame)
        if problem is not None:
            raise DatasetError(f"{path}: frame {i} {problem}")


def _read_transforms(path: Path) -> dict:
    """A transforms_*.json file, checked: camera_angle_x and frames of (file_path, 4x4 transform_matrix)."""
    if not path.is_file():
        raise DatasetError(f"{path}: file not found (a Blender scene has transforms_train/val/test.json)")
    try:
        data = json.loads(path.read_bytes())
    except json.JSONDecodeError as exc:
        raise DatasetError(f"{path}: malformed JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
    except UnicodeDecodeError:
        raise DatasetError(f"{path}: not a text file; expected JSON") from None
    _check_transforms(path, data)
    return data


def _image_path(folder: Path, file_path: str) -> Path:
    path = folder / file_path
    return path if path.suffix else path.with_suffix(".png")


def _load_split(folder: Path, split: str, downscale: int) -> tuple[Split, tuple[int, int]]:
    """One split at 1/downscale, and the (height, width) of its image files."""
    transforms = _read_transforms(folder / f"transforms_{split}.json")
    frames = transforms["frames"]
    paths = [_image_path(folder, f["file_path"]) for f in frames]
    raw = read_images(paths)
    file_size = tuple(raw[0].shape[:2])
    rgba = torch.stack([im if im.shape[-1] == 4 else torch.cat([im, torch.ones_like(im[..., :1])], -1) for im in raw])
    rgba = downscale_images(torch.cat([composite_on(rgba, WHITE), rgba[..., 3:]], dim=-1), downscale)
    images, alphas = rgba[..., :3].contiguous(), rgba[..., 3].contiguous()
    poses = torch.tensor([f["transform_matrix"] for f in frames], dtype=torch.float32)
    h, w = images.shape[1:3]
    intrinsics = Intrinsics.from_fov_x(h, w, float(transforms["camera_angle_x"]))
    return Split(images, poses, intrinsics, [p.stem for p in paths], alphas), file_size


def _check_one_size(folder: Path, file_sizes: dict[str, tuple[int, int]]) -> None:
    """All loaded splits must have images of one size (their cameras and the scene's intrinsics assume it)."""
    first, (h, w) = next(iter(file_sizes.items()))
    for split, (hs, ws) in file_sizes.items():
        if (hs, ws) != (h, w):
            raise DatasetError(
                f"{folder / f'transforms_{split}.json'}: its images are {ws}x{hs} but the {first} images are "
                f"{w}x{h}; all splits of a scene must have one image size"
            )


def load_blender(folder: str | Path, downscale: int = 1, splits=SPLITS) -> Dataset:
    """Load a Blender-format scene at 1/downscale of its image size; near 2, far 6, white background."""
    folder = require_dir(Path(folder), "a Blender scene with transforms_*.json")
    if not splits:
        raise DatasetError(f"{folder}: no split requested")
    loaded, file_sizes = {}, {}
    for s in splits:
        loaded[s], file_sizes[s] = _load_split(folder, s, downscale)
    _check_one_size(folder, file_sizes)
    if "train" in loaded:
        poses = loaded["train"].poses
    else:
        train_frames = _read_transforms(folder / "transforms_train.json")["frames"]
        poses = torch.tensor([f["transform_matrix"] for f in train_frames], dtype=torch.float32)
    meta = SceneMeta(
        name=folder.name,
        format="blender",
        near=2.0,
        far=6.0,
        intrinsics=next(iter(loaded.values())).intrinsics,
        background=WHITE,
        source=str(folder.resolve()),
        **orbit_of_inward_cameras(poses),
    )
    return Dataset(meta, loaded)
