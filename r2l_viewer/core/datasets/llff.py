"""The LLFF forward-facing format: poses_bounds.npy ([3x5 pose | near far] per image) and images_N/ folders."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import torch

from ..cameras import Intrinsics
from .base import Dataset, DatasetError, Split, downscale_images, require_dir
from .capture_space import unbounded_meta
from .forward_facing import BOUND_FACTOR, forward_meta, ndc_frame
from .images import read_images
from .scene_shape import camera_shape, choose_kind

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
DEFAULT_DOWNSCALE = 8  # LLFF scenes are used at 1/8 of the photos' size (nerf-pytorch's and R2L's factor)
HOLDOUT = 8  # every 8th image is a test image (the usual llffhold); every 8th from the 5th on is a validation image


def is_llff(folder: Path) -> bool:
    return (folder / "poses_bounds.npy").is_file()


def _image_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)


def _image_folders(folder: Path) -> dict[int, Path]:
    """The scene's image folders by the factor they are shrunk by: images/ is 1, images_N/ is N."""
    found = {}
    for child in folder.iterdir():
        match = re.fullmatch(r"images(?:_(\d+))?", child.name)
        if child.is_dir() and match and int(match.group(1) or 1) >= 1:
            found[int(match.group(1) or 1)] = child
    if not found:
        raise DatasetError(f"{folder}: no images/ or images_N/ folder beside poses_bounds.npy")
    return found


def _choose_folder(folder: Path, folders: dict[int, Path], downscale: int) -> tuple[Path, int]:
    """images_{downscale} when there is one, else the smallest existing folder whose factor divides `downscale`
    (it is shrunk the rest of the way); never one that would have to be enlarged."""
    if downscale in folders:
        return folders[downscale], downscale
    dividing = [factor for factor in folders if downscale % factor == 0]
    if not dividing:
        have = ", ".join(folders[f].name for f in sorted(folders))
        multiples = " or ".join(str(f) for f in sorted(folders))
        raise DatasetError(f"{folder}: no images for downscale {downscale} (it has {have}); use a downscale that "
                           f"is a multiple of {multiples}")
    factor = max(dividing)
    return folders[factor], factor


def _read_poses_bounds(path: Path) -> tuple[np.ndarray, np.ndarray]:
    try:
        array = np.load(path, allow_pickle=False)
    except Exception as exc:
        raise DatasetError(f"{path}: cannot be read as a .npy array ({type(exc).__name__})") from None
    if array.ndim != 2 or array.shape[1] != 17 or array.shape[0] == 0:
        raise DatasetError(f"{path}: expected an N x 17 array ([3x5 pose | near far] per image), got {array.shape}")
    return array[:, :15].reshape(-1, 3, 5).astype(np.float64), array[:, 15:].astype(np.float64)


def _opengl_poses(poses: np.ndarray) -> np.ndarray:
    """LLFF [down, right, back] poses [N, 3, 5] as OpenGL [right, up, back] camera-to-world [N, 3, 4]."""
    return np.concatenate([poses[:, :, 1:2], -poses[:, :, 0:1], poses[:, :, 2:4]], axis=2)


def split_indices(count: int, holdout: int = HOLDOUT) -> dict[str, list[int]]:
    """Disjoint splits of `count` images: every `holdout`-th is test, every `holdout`-th from holdout/2 is val."""
    test = [i for i in range(count) if i % holdout == 0]
    val = [i for i in range(count) if i % holdout == holdout // 2]
    train = [i for i in range(count) if i not in test and i not in val]
    return {"train": train, "val": val, "test": test}


def _load_images(folder: Path, count: int, downscale: int) -> tuple[torch.Tensor, list[Path], str]:
    """The scene's `count` images [N, H, W, 3] at 1/downscale of the original photos, their files, and the name of
    the folder they were read from."""
    image_dir, factor = _choose_folder(folder, _image_folders(folder), downscale)
    files = _image_files(image_dir)
    if len(files) != count:
        raise DatasetError(f"{image_dir}: {len(files)} images but poses_bounds.npy has {count} poses")
    images = torch.stack([im[..., :3] for im in read_images(files)])
    return downscale_images(images, downscale / factor), files, image_dir.name


def load_llff(folder: str | Path, downscale: int | None = None, splits=("train", "val", "test"),
              kind: str = "auto") -> Dataset:
    """Load an LLFF scene with images at 1/downscale of the original photos (default 8), read from images_N/ when
    there is one; test is every 8th image, val every 8th from the 5th, train the rest. Forward-facing captures
    take NDC space (poses recentred, as nerf-pytorch does); 360-degree captures stored as LLFF (nerf-pytorch's
    --spherify --no_ndc scenes) are unbounded, in contracted space (`kind` overrides the choice)."""
    folder = require_dir(Path(folder), "an LLFF scene with poses_bounds.npy")
    downscale = DEFAULT_DOWNSCALE if downscale is None else downscale
    poses, bounds = _read_poses_bounds(folder / "poses_bounds.npy")
    images, files, image_folder = _load_images(folder, len(poses), downscale)
    full_h, full_w, full_focal = poses[0, :, 4]
    h, w = images.shape[1:3]
    intrinsics = Intrinsics.from_focal(h, w, full_focal * w / full_w)
    c2w = _opengl_poses(poses)
    scale = 1.0 / (bounds.min() * BOUND_FACTOR)  # the nearest bound at 1 / 0.75, as in the NeRF code
    c2w[:, :, 3] *= scale
    bounds = bounds * scale
    index = split_indices(len(files))
    for name in splits:
        if not index[name]:
            raise DatasetError(f"{folder}: only {len(files)} images, too few for a {name} split (need at least 5)")
    poses44 = torch.eye(4).repeat(len(poses), 1, 1)
    poses44[:, :3, :] = torch.from_numpy(c2w).float()
    train = index["train"] or list(range(len(files)))
    chosen, why = choose_kind(camera_shape(poses44), cut_out=False, override=kind)
    extra = {"full_size": [int(full_h), int(full_w)], "image_folder": image_folder, "downscale": downscale,
             "scene_kind_reason": why}
    source = str(folder.resolve())
    if chosen == "object":
        raise DatasetError(f"{folder}: --scene-kind object needs cut-out images (alpha); an LLFF capture is "
                           "forward-facing or unbounded")
    if chosen == "forward":
        poses44 = ndc_frame(c2w, 1.0)
        meta = forward_meta(folder.name, "llff", intrinsics, bounds, poses44[train], extra, source)
    else:
        border = torch.cat([images[:, 0], images[:, -1], images[:, :, 0], images[:, :, -1]], dim=1)
        background = tuple(round(float(c), 4) for c in border.reshape(-1, 3).mean(0))
        meta = unbounded_meta(folder.name, "llff", intrinsics, poses44, background, extra, source)
    loaded = {
        s: Split(images[index[s]], poses44[index[s]], intrinsics, [files[i].stem for i in index[s]]) for s in splits
    }
    return Dataset(meta=meta, splits=loaded)
