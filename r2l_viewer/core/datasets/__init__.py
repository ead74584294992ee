"""Datasets: Blender, LLFF and nerfstudio scenes from disk, and the procedural demo scene; `load_dataset` picks one."""

from __future__ import annotations

from numbers import Integral
from pathlib import Path

from .base import Dataset, DatasetError, SceneMeta, Split
from .blender import is_blender, load_blender
from .demo import DEFAULT_DOWNSCALE as DEMO_DOWNSCALE
from .demo import load_demo, render_demo_view
from .llff import DEFAULT_DOWNSCALE as LLFF_DOWNSCALE
from .llff import is_llff, load_llff
from .nerfstudio import default_downscale as nerfstudio_downscale
from .nerfstudio import is_nerfstudio, load_nerfstudio
from .scene_shape import CHOICES

DEMO = "demo"
DEFAULT_DOWNSCALE = {"blender": 1, "llff": LLFF_DOWNSCALE, DEMO: DEMO_DOWNSCALE}


def dataset_format(source: str | Path) -> str:
    """'demo', 'blender', 'nerfstudio' or 'llff' for a data source, or a DatasetError saying why it is none."""
    if str(source) == DEMO:
        return DEMO
    path = Path(source)
    if not path.exists():
        raise DatasetError(f"{path}: no such folder (give a Blender, LLFF or nerfstudio scene folder, or 'demo')")
    if not path.is_dir():
        if is_nerfstudio(path):
            return "nerfstudio"
        raise DatasetError(f"{path}: is a file; give the scene's folder (or a nerfstudio transforms .json file)")
    if is_blender(path):
        return "blender"
    if is_nerfstudio(path):
        return "nerfstudio"
    if is_llff(path):
        return "llff"
    raise DatasetError(
        f"{path}: not a scene folder (a Blender scene has transforms_train.json, a nerfstudio capture "
        "transforms.json, an LLFF scene poses_bounds.npy)"
    )


def default_downscale(source: str | Path) -> int:
    """The factor a source is loaded at when none is given: Blender 1, LLFF 8, demo 4; for a nerfstudio capture
    the smallest power of two that brings its longest side to 800 pixels or fewer."""
    kind = dataset_format(source)
    return nerfstudio_downscale(source) if kind == "nerfstudio" else DEFAULT_DOWNSCALE[kind]


def load_dataset(source: str | Path, downscale: int | None = None, splits=("train", "val", "test"),
                 kind: str = "auto") -> Dataset:
    """Load a scene (a Blender, LLFF or nerfstudio folder, or 'demo') with images at 1/downscale of the original
    size: the Blender PNGs, the LLFF photos (images/, whose size poses_bounds.npy records; read from images_N/ when
    there is one), a nerfstudio capture's images (from images_N/ when there is one), or the demo's 400x400. None
    takes the format's usual size (see `default_downscale`). The factor used is recorded in
    `meta.extra['downscale']`. `kind` overrides the scene kind chosen from the cameras (captures: 'object',
    'unbounded' or 'forward', see scene_shape.py); Blender scenes and the demo are objects."""
    if downscale is not None and (isinstance(downscale, bool) or not isinstance(downscale, Integral) or downscale < 1):
        raise DatasetError(f"downscale must be a whole number >= 1, got {downscale!r}")
    scene_kind, kind = kind, dataset_format(source)
    factor = default_downscale(source) if downscale is None else int(downscale)
    if scene_kind not in CHOICES:
        raise DatasetError(f"scene kind {scene_kind!r} is not one of {', '.join(CHOICES)}")
    if kind in (DEMO, "blender") and scene_kind not in ("auto", "object"):
        raise DatasetError(f"{source}: a {kind} scene is an object in a box; --scene-kind {scene_kind} does not apply")
    if kind == DEMO:
        dataset = load_demo(factor, tuple(splits))
    elif kind == "blender":
        dataset = load_blender(source, factor, tuple(splits))
    else:
        loader = {"llff": load_llff, "nerfstudio": load_nerfstudio}[kind]
        dataset = loader(source, factor, tuple(splits), scene_kind)
    dataset.meta.extra["downscale"] = factor
    return dataset


__all__ = [
    "Dataset", "DatasetError", "SceneMeta", "Split", "DEMO", "DEFAULT_DOWNSCALE", "dataset_format", "default_downscale",
    "load_dataset", "load_blender", "load_llff", "load_nerfstudio", "load_demo", "render_demo_view",
]
