"""The real images behind dataset cameras, loaded lazily from the dataset path the scene records (no Qt)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from r2l_viewer.core.datasets import DatasetError, SceneMeta, load_dataset


class ReferenceImages:
    """`image(split, index, pose, size)`: the real image [H, W, 3] of a dataset camera, or None and why not."""

    def __init__(self, meta: SceneMeta):
        self.meta = meta
        self._splits: dict[str, object] = {}
        self._failed: dict[str, str] = {}

    def _split(self, name: str):
        if name in self._failed:
            raise DatasetError(self._failed[name])
        if name not in self._splits:
            source = self.meta.source
            if not source:
                self._failed[name] = "the scene records no dataset path"
                raise DatasetError(self._failed[name])
            downscale = int(self.meta.extra.get("downscale", 1))
            try:
                self._splits[name] = load_dataset(source, downscale, (name,)).split(name)
            except (DatasetError, OSError, ValueError) as exc:
                self._failed[name] = f"dataset not readable here ({str(exc).splitlines()[0]})"
                raise DatasetError(self._failed[name]) from None
        return self._splits[name]

    def image(self, split: str, index: int, pose: torch.Tensor, size: tuple[int, int]):
        """(image [H, W, 3] at `size` = (height, width), '') or (None, reason)."""
        try:
            data = self._split(split)
        except DatasetError as exc:
            return None, str(exc)
        if index >= len(data) or not torch.allclose(data.poses[index].float(), pose.float(), atol=1e-4):
            return None, "the dataset's cameras differ from the checkpoint's"
        image = data.images[index].float()
        if tuple(image.shape[:2]) != tuple(size):
            image = F.interpolate(image.permute(2, 0, 1)[None], size=size, mode="area")[0].permute(1, 2, 0)
        return image, ""
