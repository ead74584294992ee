"""The inspection commands' work: `describe` (model sizes and costs of a preset) and `check-data` (a dataset)."""

from __future__ import annotations

import torch

from r2l_viewer.core.datasets import dataset_format, load_dataset
from r2l_viewer.core.datasets.scene_shape import KIND_WORDS
from r2l_viewer.core.metrics import flops_per_ray, linear_layer_count
from r2l_viewer.core.model_text import saved_bytes
from r2l_viewer.core.models import GridTeacher, NerfConfig, Student, VanillaNerf, parameter_count

from trainers.presets import get_preset


def describe_model(model: torch.nn.Module, flops: bool = True) -> dict:
    info = {
        "params": parameter_count(model),
        "linear_layers": linear_layer_count(model),
        "bytes": saved_bytes(model.state_dict()),
    }
    if flops:
        info["flops_per_ray"] = flops_per_ray(model)
    return info


def describe_preset(name: str) -> dict:
    """Sizes and per-ray costs of the preset's student and teachers, counted from the built models."""
    preset = get_preset(name)
    student = Student(preset.distill.student)
    nerf = VanillaNerf(preset.teacher.nerf if preset.teacher.kind == "nerf" else NerfConfig())
    config = student.config
    encoding = ({"frequencies": config.frequencies} if config.encoding == "frequency" else
                {"grid_planes": list(config.grid_planes), "grid_volumes": list(config.grid_volumes),
                 "grid_channels": config.grid_channels,
                 "note": "FLOPs count the MLP; the grid encoding's feature reads are lookups, not counted"})
    student_info = describe_model(student) | {
        "input_dim": config.input_dim, "points_per_ray": config.points_per_ray, "encoding": config.encoding,
    } | encoding | {"width": config.width, "depth": config.depth}
    nerf_info = describe_model(nerf) | {"samples_per_ray": nerf.config.coarse_samples + nerf.config.fine_samples}
    result = {
        "preset": name,
        "summary": preset.summary,
        "student": student_info,
        "teacher_nerf": nerf_info,
        "nerf_to_student_flops": nerf_info["flops_per_ray"] / student_info["flops_per_ray"],
        "teacher": {"kind": preset.teacher.kind},
    }
    if preset.teacher.kind == "grid":
        grid = GridTeacher(preset.teacher.grid)
        result["teacher_grid"] = describe_model(grid, flops=False) | {
            "grid_shape": list(preset.teacher.grid.grid_shape()),
            "note": "its FLOPs per ray depend on the scene (empty space is skipped); r2l-eval measures them",
        }
    return result


def check_data(source: str, downscale: int | None = None, scene_kind: str = "auto") -> dict:
    """Load a dataset and summarise it: format, the kind of scene chosen and why, images per split, size, camera
    (focal length, principal point, lens distortion), near/far and the scene box (or contracted region); for a
    nerfstudio capture its camera model and how its poses were scaled; notes (frames left out)."""
    kind = dataset_format(source)
    dataset = load_dataset(source, downscale, kind=scene_kind)
    meta = dataset.meta
    return {
        "path": meta.source,
        "format": kind,
        "name": meta.name,
        "scene_kind": meta.kind,
        "scene_kind_why": meta.extra.get("scene_kind_reason", "Blender scenes and the demo are objects in a box"),
        "model": KIND_WORDS[meta.kind],
        "images": {name: len(split) for name, split in dataset.splits.items()},
        "height": meta.intrinsics.height,
        "width": meta.intrinsics.width,
        "focal": meta.intrinsics.focal,
        "principal_point": [meta.intrinsics.cx, meta.intrinsics.cy],
        "distortion": list(meta.intrinsics.distortion) or None,
        "near": meta.near,
        "far": meta.far,
        "box": [list(meta.box_min), list(meta.box_max)],
        "ndc": meta.ndc is not None,
        "contraction": meta.contraction,
        "azimuth_range": list(meta.azimuth_range),
        "downscale": meta.extra["downscale"],
        "orbit_radius": meta.orbit_radius,
        "elevation_range": list(meta.elevation_range),
    } | {key: meta.extra[key] for key in ("camera_model", "world_scale", "aabb_scale", "notes") if meta.extra.get(key)}
