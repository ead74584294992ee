"""Datasets: the Blender and LLFF formats from disk, and the procedural demo scene; `load_dataset` picks one."""

from __future__ import annotations

from numbers import Integral
from pathlib import Path

from .base import Dataset, DatasetError, SceneMeta, Split
from .blender import is_blender, load_blender
from .demo import DEFAULT_DOWNSCALE as DEMO_DOWNSCALE
from .demo import load_demo, render_demo_view
from .llff import DEFAULT_DOWNSCALE as LLFF_DOWNSCALE
from .llff import is_llff, load_llff

DEMO = "demo"
DEFAULT_DOWNSCALE = {"blender": 1, "llff": LLFF_DOWNSCALE, DEMO: DEMO_DOWNSCALE}


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


def load_dataset(source: str | Path, downscale: int | None = None, splits=("train", "val", "test")) -> Dataset:
    """Load a scene (a Blender or LLFF folder, or 'demo') with images at 1/downscale of the original size: the
    Blender PNGs, the LLFF photos (images/, whose size poses_bounds.npy records; read from images_N/ when there
    is one), or the demo's 400x400. None takes the format's usual size: Blender 1, LLFF 8, demo 4 (100x100).
    The factor used is recorded in `meta.extra['downscale']`."""
    if downscale is not None and (isinstance(downscale, bool) or not isinstance(downscale, Integral) or downscale < 1):
        raise DatasetError(f"downscale must be a whole number >= 1, got {downscale!r}")
    kind = dataset_format(source)
    factor = DEFAULT_DOWNSCALE[kind] if downscale is None else int(downscale)
    if kind == DEMO:
        dataset = load_demo(factor, tuple(splits))
    elif kind == "blender":
        dataset = load_blender(source, factor, tuple(splits))
    else:
        dataset = load_llff(source, factor, tuple(splits))
    dataset.meta.extra["downscale"] = factor
    return dataset


__all__ = [
    "Dataset", "DatasetError", "SceneMeta", "Split", "DEMO", "DEFAULT_DOWNSCALE", "dataset_format", "load_dataset",
    "load_blender", "load_llff", "load_demo", "render_demo_view",
]
