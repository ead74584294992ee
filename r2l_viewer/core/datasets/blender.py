"""The Blender (NeRF Synthetic) format: transforms_{train,val,test}.json and RGBA PNGs composited on white."""

from __future__ import annotations

import math
from pathlib import Path

import torch

from ..cameras import Intrinsics
from .base import Dataset, DatasetError, SceneMeta, Split, composite_on, downscale_images, orbit_of_inward_cameras
from .base import require_dir
from .images import read_images
from .json_fields import frame_problem, is_number, json_kind, read_json

SPLITS = ("train", "val", "test")
WHITE = (1.0, 1.0, 1.0)


def is_blender(folder: Path) -> bool:
    return any((folder / f"transforms_{s}.json").is_file() for s in SPLITS)


def _check_transforms(path: Path, data) -> None:
    """Raise a DatasetError naming the file (and frame) when the parsed JSON is not a Blender transforms file."""
    if not isinstance(data, dict):
        raise DatasetError(f"{path}: expected an object with 'camera_angle_x' and 'frames', got {json_kind(data)}")
    for key in ("camera_angle_x", "frames"):
        if key not in data:
            raise DatasetError(f"{path}: has no '{key}' (a Blender transforms file has 'camera_angle_x' and 'frames')")
    angle = data["camera_angle_x"]
    if not is_number(angle) or not 0.0 < angle < math.pi:
        raise DatasetError(f"{path}: 'camera_angle_x' must be the horizontal field of view in radians (between 0 and "
                           f"pi), got {json_kind(angle)}")
    if not isinstance(data["frames"], list):
        raise DatasetError(f"{path}: 'frames' must be a list of frames, got {json_kind(data['frames'])}")
    if not data["frames"]:
        raise DatasetError(f"{path}: has no frames")
    for i, frame in enumerate(data["frames"]):
        problem = frame_problem(frame)
        if problem is not None:
            raise DatasetError(f"{path}: frame {i} {problem}")


def _read_transforms(path: Path) -> dict:
    """A transforms_*.json file, checked: camera_angle_x and frames of (file_path, 4x4 transform_matrix)."""
    data = read_json(path, "a Blender scene has transforms_train/val/test.json")
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
