"""Datasets: the Blender and LLFF formats from disk, and the procedural demo scene; `load_dataset` picks one."""

from __future__ import annotations

from pathlib import Path

from .base import Dataset, DatasetError, SceneMeta, Split
from .blender import is_blender, load_blender
from .demo import load_demo, render_demo_view
from .llff import is_llff, load_llff

DEMO = "demo"


def dataset_format(source: str | Path) -> str:
    """'demo', 'blender' or 'llff' for a data source, or a DatasetError saying why it is none of them."""
    if str(source) == DEMO:
        return DEMO
    folder = Path(source)
    if not folder.exists():
        raise DatasetError(f"{folder}: no such folder (give a Blender or LLFF scene folder, or 'demo')")
    if not folder.is_dir():
        raise DatasetError(f"{folder}: is a file; give the scene's folder")
    if is_blender(folder):
        return "blender"
    if is_llff(folder):
        return "llff"
    raise DatasetError(
        f"{folder}: not a scene folder (a Blender scene has transforms_train.json, an LLFF scene poses_bounds.npy)"
    )


def load_dataset(source: str | Path, downscale: int = 1, splits=("train", "val", "test")) -> Dataset:
    """Load a scene: a Blender or LLFF folder, or 'demo'; images at 1/downscale of their size."""
    if downscale < 1:
        raise DatasetError(f"downscale must be a whole number >= 1, got {downscale}")
    kind = dataset_format(source)
    if kind == DEMO:
        return load_demo(downscale, tuple(splits))
    if kind == "blender":
        return load_blender(source, downscale, tuple(splits))
    return load_llff(source, downscale, tuple(splits))


__all__ = [
    "Dataset", "DatasetError", "SceneMeta", "Split", "DEMO", "dataset_format", "load_dataset", "load_blender",
    "load_llff", "load_demo", "render_demo_view",
]
