"""Reading image files for datasets: one clear error per bad file, many files decoded in parallel."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import torch

from .base import DatasetError


def read_image(path: Path) -> torch.Tensor:
    """An image file as float32 [H, W, C] in [0, 1] (C = 3 or 4)."""
    if not path.is_file():
        raise DatasetError(f"{path}: image file not found")
    try:
        array = iio.imread(path)
    except Exception as exc:  # imageio raises many types for corrupt files
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DatasetError(f"{path}: cannot be read as an image ({first_line[:120]})") from None
    if array.ndim == 2:
        array = np.repeat(array[..., None], 3, axis=-1)
    if array.ndim != 3 or array.shape[-1] not in (3, 4):
        raise DatasetError(f"{path}: expected an RGB or RGBA image, got shape {array.shape}")
    scale = 65535.0 if array.dtype == np.uint16 else 255.0
    return torch.from_numpy(array.astype(np.float32) / scale)


def read_images(paths: list[Path], threads: int = 4) -> list[torch.Tensor]:
    """Read many images (in parallel threads), checking that all have the size of the first."""
    if not paths:
        return []
    with ThreadPoolExecutor(max_workers=threads) as pool:
        images = list(pool.map(read_image, paths))
    h, w = images[0].shape[:2]
    for path, image in zip(paths, images):
        if image.shape[:2] != (h, w):
            raise DatasetError(
                f"{path}: image is {image.shape[1]}x{image.shape[0]} but {paths[0].name} is {w}x{h}; "
                "all images of a scene must have one size"
            )
    return images
