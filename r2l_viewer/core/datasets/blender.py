"""The Blender (NeRF Synthetic) format: transforms_{train,val,test}.json and RGBA PNGs composited on white."""

from __future__ import annotations

import json
from pathlib import Path

import torch

from ..cameras import Intrinsics
from .base import Dataset, DatasetError, SceneMeta, Split, composite_on, downscale_images, orbit_of_inward_cameras, require_dir
from .images import read_images

SPLITS = ("train", "val", "test")
WHITE = (1.0, 1.0, 1.0)


def is_blender(folder: Path) -> bool:
    return any((folder / f"transforms_{s}.json").is_file() for s in SPLITS)


def _read_transforms(path: Path) -> dict:
    if not path.is_file():
        raise DatasetError(f"{path}: file not found (a Blender scene has transforms_train/val/test.json)")
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise DatasetError(f"{path}: malformed JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
    if not isinstance(data, dict) or "frames" not in data or "camera_angle_x" not in data:
        raise DatasetError(f"{path}: expected an object with 'camera_angle_x' and 'frames'")
    for i, frame in enumerate(data["frames"]):
        matrix = frame.get("transform_matrix") if isinstance(frame, dict) else None
        if "file_path" not in (frame if isinstance(frame, dict) else {}) or matrix is None:
            raise DatasetError(f"{path}: frame {i} needs 'file_path' and 'transform_matrix'")
        if torch.tensor(matrix).shape != (4, 4):
            raise DatasetError(f"{path}: frame {i} 'transform_matrix' is not 4x4")
    return data


def _image_path(folder: Path, file_path: str) -> Path:
    path = folder / file_path
    return path if path.suffix else path.with_suffix(".png")


def _load_split(folder: Path, split: str, downscale: int) -> tuple[Split, float]:
    transforms = _read_transforms(folder / f"transforms_{split}.json")
    frames = transforms["frames"]
    if not frames:
        raise DatasetError(f"{folder / f'transforms_{split}.json'}: has no frames")
    paths = [_image_path(folder, f["file_path"]) for f in frames]
    raw = read_images(paths)
    rgba = torch.stack([im if im.shape[-1] == 4 else torch.cat([im, torch.ones_like(im[..., :1])], -1) for im in raw])
    rgba = downscale_images(torch.cat([composite_on(rgba, WHITE), rgba[..., 3:]], dim=-1), downscale)
    images, alphas = rgba[..., :3].contiguous(), rgba[..., 3].contiguous()
    poses = torch.tensor([f["transform_matrix"] for f in frames], dtype=torch.float32)
    h, w = images.shape[1:3]
    intrinsics = Intrinsics.from_fov_x(h, w, float(transforms["camera_angle_x"]))
    return Split(images, poses, intrinsics, [p.stem for p in paths], alphas)


def load_blender(folder: str | Path, downscale: int = 1, splits=SPLITS) -> Dataset:
    """Load a Blender-format scene at 1/downscale of its image size; near 2, far 6, white background."""
    folder = require_dir(Path(folder), "a Blender scene with transforms_*.json")
    loaded = {s: _load_split(folder, s, downscale) for s in splits}
    train_json = _read_transforms(folder / "transforms_train.json")
    train = loaded.get("train")
    poses = train.poses if train is not None else torch.tensor([f["transform_matrix"] for f in train_json["frames"]])
    intrinsics = next(iter(loaded.values())).intrinsics if loaded else None
    if intrinsics is None:
        raise DatasetError(f"{folder}: no split requested")
    meta = SceneMeta(
        name=folder.name,
        format="blender",
        near=2.0,
        far=6.0,
        intrinsics=intrinsics,
        background=WHITE,
        source=str(folder.resolve()),
        **orbit_of_inward_cameras(poses.float()),
    )
    return Dataset(meta, loaded)
