"""The LLFF forward-facing format: poses_bounds.npy ([3x5 pose | near far] per image) and images_N/ folders."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import torch

from ..cameras import Intrinsics
from ..rays import NdcSpace
from .base import Dataset, DatasetError, SceneMeta, Split, camera_angle_ranges, downscale_images, require_dir
from .images import read_images

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
BOUND_FACTOR = 0.75  # the nearest bound is scaled to 1 / 0.75, as in the NeRF code, so NDC's near plane (1) is safe


def is_llff(folder: Path) -> bool:
    return (folder / "poses_bounds.npy").is_file()


def _image_folder(folder: Path) -> tuple[Path, int]:
    """The image folder with the most pixels: `images` (factor 1) or the `images_N` with the smallest N."""
    found = []
    for child in folder.iterdir():
        match = re.fullmatch(r"images(?:_(\d+))?", child.name)
        if child.is_dir() and match:
            found.append((int(match.group(1) or 1), child))
    if not found:
        raise DatasetError(f"{folder}: no images/ or images_N/ folder beside poses_bounds.npy")
    factor, path = min(found)
    return path, factor


def _read_poses_bounds(path: Path) -> tuple[np.ndarray, np.ndarray]:
    try:
        array = np.load(path, allow_pickle=False)
    except Exception as exc:
        raise DatasetError(f"{path}: cannot be read as a .npy array ({type(exc).__name__})") from None
    if array.ndim != 2 or array.shape[1] != 17:
        raise DatasetError(f"{path}: expected an N x 17 array ([3x5 pose | near far] per image), got {array.shape}")
    return array[:, :15].reshape(-1, 3, 5).astype(np.float64), array[:, 15:].astype(np.float64)


def _recentre(c2w: np.ndarray) -> np.ndarray:
    """Express poses [N, 3, 4] relative to their average pose (so the cameras look down -z around the origin)."""
    centre = c2w[:, :, 3].mean(0)
    back = c2w[:, :, 2].sum(0)
    back /= np.linalg.norm(back)
    up = c2w[:, :, 1].sum(0)
    right = np.cross(up, back)
    right /= np.linalg.norm(right)
    avg = np.eye(4)
    avg[:3, :] = np.stack([right, np.cross(back, right), back, centre], axis=1)
    homog = np.concatenate([c2w, np.tile([[[0, 0, 0, 1.0]]], (c2w.shape[0], 1, 1))], axis=1)
    return (np.linalg.inv(avg) @ homog)[:, :3, :]


def load_llff(folder: str | Path, downscale: int = 1, splits=("train", "val", "test"), holdout: int = 8) -> Dataset:
    """Load an LLFF scene; every `holdout`-th image is held out for val/test (the usual convention)."""
    folder = require_dir(Path(folder), "an LLFF scene with poses_bounds.npy")
    poses, bounds = _read_poses_bounds(folder / "poses_bounds.npy")
    image_dir, _ = _image_folder(folder)
    files = sorted(p for p in image_dir.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if len(files) != poses.shape[0]:
        raise DatasetError(f"{image_dir}: {len(files)} images but poses_bounds.npy has {poses.shape[0]} poses")
    images = torch.stack([im[..., :3] for im in read_images(files)])
    full_h, full_w, full_focal = poses[0, :, 4]
    focal = full_focal * images.shape[2] / full_w
    # [down, right, back] -> [right, up, back]
    c2w = np.concatenate([poses[:, :, 1:2], -poses[:, :, 0:1], poses[:, :, 2:4]], axis=2)
    scale = 1.0 / (bounds.min() * BOUND_FACTOR)
    c2w[:, :, 3] *= scale
    bounds = bounds * scale
    c2w = _recentre(c2w)
    source_width = images.shape[2]
    images = downscale_images(images, downscale)
    h, w = images.shape[1:3]
    intrinsics = Intrinsics.from_focal(h, w, focal * w / source_width)
    poses44 = torch.eye(4).repeat(len(files), 1, 1)
    poses44[:, :3, :] = torch.from_numpy(c2w).float()
    held = [i for i in range(len(files)) if i % holdout == 0]
    index = {"train": [i for i in range(len(files)) if i % holdout != 0], "val": held, "test": held}
    loaded = {
        s: Split(images[index[s]], poses44[index[s]], intrinsics, [files[i].stem for i in index[s]]) for s in splits
    }
    near, far = float(bounds.min() * 0.9), float(bounds.max())
    close, infinity = near, float(bounds.max() * 5.0)
    focus = 1.0 / ((1.0 - 0.75) / close + 0.75 / infinity)
    centre, up = (0.0, 0.0, -round(focus, 6)), (0.0, 1.0, 0.0)
    meta = SceneMeta(
        name=folder.name,
        format="llff",
        near=near,
        far=far,
        intrinsics=intrinsics,
        background=(0.0, 0.0, 0.0),
        box_min=(-1.0, -1.0, -1.0),
        box_max=(1.0, 1.0, 1.0),
        ndc=NdcSpace(h, w, intrinsics.focal, 1.0).to_dict(),
        orbit_center=centre,
        orbit_up=up,
        orbit_radius=float(focus),
        **camera_angle_ranges(poses44[index["train"]], centre, up, pad=2.0),
        source=str(folder.resolve()),
        extra={"full_size": [int(full_h), int(full_w)]},
    )
    return Dataset(meta, loaded)
