"""`r2l-train export`: a scene's student as one ONNX graph from rays to colour (and depth, when the student has it),
with a JSON sidecar for renderers."""

from __future__ import annotations

import importlib.util
import json
import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import torch

from r2l_viewer.core.cameras import circular_path
from r2l_viewer.core.checkpoint import SceneCheckpoint, load_scene
from r2l_viewer.core.config import param, validate

from trainers.export.onnx_graph import DEFAULT_OPSET, VOLUME_OPSET, StudentGraph, minimum_opset
from trainers.export.onnx_runtime import TOLERANCE, largest_difference, onnxruntime_available, open_session, random_view_rays
from trainers.errors import JobError

SIDECAR_FORMAT = "r2l-viewer.onnx-student"
MAX_OPSET = 20  # the newest opset torch's TorchScript-based exporter writes
RAY_CONVENTION = ("origins and directions in the scene's world coordinates (those of the sidecar's cameras); a "
                  "direction is the camera-space vector (x, y, -1) through the pixel, rotated to world: unit depth "
                  "along the view axis, not unit length, as the student was trained (OpenGL camera axes: x right, y "
                  "up, looking down -z; pixel centres at +0.5)")


@dataclass
class ExportConfig:
    """Write a scene's student as an ONNX graph (rays in, colour out) and a JSON sidecar beside it."""

    onnx: str = param("student.onnx", "the ONNX file to write; the sidecar takes its name with .json")
    opset: int = param(0, f"ONNX opset, 17 to {MAX_OPSET} (0: 17, or {VOLUME_OPSET} for a student with grid "
                       "volumes, which need 3D GridSample)", min=0, max=MAX_OPSET)
    check_rays: int = param(4096, "rays of the training views run through onnxruntime and the torch student after "
                            "writing, to check they agree (0: no check; skipped without onnxruntime)", min=0)


def _opset(config: ExportConfig, graph: StudentGraph, origin: str) -> int:
    needed = minimum_opset(graph.student)
    if config.opset == 0:
        return needed
    if config.opset < needed:
        raise JobError(f"{origin}: the student reads grid volumes (3D GridSample), which ONNX has from opset "
                       f"{VOLUME_OPSET} on; pass --opset {VOLUME_OPSET} (or leave --opset out)")
    return config.opset


def _sample_poses(scene: SceneCheckpoint) -> torch.Tensor:
    """The training cameras, else views around the scene's orbit (rays for tracing and checking)."""
    poses = scene.cameras.get("train")
    if poses is not None and len(poses):
        return poses.float()
    meta = scene.meta
    return circular_path(8, sum(meta.elevation_range) / 2, meta.orbit_radius, meta.orbit_center, meta.orbit_up)


def graph_outputs(config: dict) -> dict:
    """The graph's outputs in words, for the sidecar."""
    outputs = {"rgb": "float32 [N, 3], colour in [0, 1]"}
    if config.get("depth") and config.get("contraction"):
        outputs["depth"] = ("float32 [N], where the ray meets the scene as the length of its path through the "
                            "contracted scene (scene units: true distance inside scene.contraction's cube, squashed "
                            "beyond it), from near to far")
    elif config.get("depth"):
        outputs["depth"] = ("float32 [N], the ray parameter t where the ray meets the scene (the teacher's expected "
                            "depth: distance along the view axis for these directions, NDC t for forward-facing "
                            "scenes), from near to far; far where the ray meets nothing")
    return outputs


def sidecar(scene: SceneCheckpoint, onnx_path: Path, opset: int) -> dict:
    """What a renderer needs besides the graph: inputs and outputs, scene bounds, training cameras and orbit."""
    meta, student = scene.meta, scene.student
    world = {k: meta.extra[k] for k in ("world_transform", "world_scale") if k in meta.extra}
    return {
        "format": SIDECAR_FORMAT, "version": 1, "onnx": onnx_path.name, "opset": opset,
        "inputs": {"origins": "float32 [N, 3]", "directions": "float32 [N, 3]", "rays": RAY_CONVENTION},
        "outputs": graph_outputs(student["config"]),
        "scene": {"name": meta.name, "format": meta.format, "near": meta.near, "far": meta.far,
                  "background": list(meta.background), "box_min": list(meta.box_min), "box_max": list(meta.box_max),
                  "ndc": meta.ndc, "kind": meta.kind, "contraction": meta.contraction}
        | ({"nerfstudio_to_scene": world} if world else {}),
        "intrinsics": meta.intrinsics.to_dict(),
        "orbit": {"center": list(meta.orbit_center), "up": list(meta.orbit_up), "radius": meta.orbit_radius,
                  "elevation_range": list(meta.elevation_range), "azimuth_range": list(meta.azimuth_range)},
        "cameras": {split: poses.tolist() for split, poses in scene.cameras.items()},
        "student": {"stage": student.get("stage"), "step": student.get("step"), "config": dict(student["config"])},
    }


def write_graph(graph: StudentGraph, example: tuple, path: Path, opset: int) -> None:
    """Trace the graph into `path` (written beside it first, then moved into place)."""
    if importlib.util.find_spec("onnx") is None:
        raise JobError("ONNX export needs the onnx package: pip install 'r2l-viewer[export]' (or pip install onnx)")
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    outputs = graph.output_names
    axes = {name: {0: "rays"} for name in ("origins", "directions", *outputs)}
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation and tracer notes
        torch.onnx.export(graph, example, str(partial), dynamo=False, opset_version=opset, do_constant_folding=True,
                          input_names=["origins", "directions"], output_names=outputs, dynamic_axes=axes)
    os.replace(partial, path)


def _write_json(data: dict, path: Path) -> None:
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(data, indent=1) + "\n")
    os.replace(partial, path)


def _check(path: Path, student, poses, intrinsics, rays: int) -> dict:
    if rays == 0:
        return {"skipped": "--check-rays 0"}
    if not onnxruntime_available():
        return {"skipped": "onnxruntime is not installed (pip install onnxruntime)"}
    origins, directions = random_view_rays(poses, intrinsics, rays, torch.Generator().manual_seed(0))
    error = largest_difference(open_session(path), student, origins, directions)
    if not error <= TOLERANCE:
        raise JobError(f"{path}: onnxruntime's outputs differ from the torch student's by {error:.2e} (more than "
                       f"{TOLERANCE:g}) on {rays} training-view rays; the file is kept for inspection")
    return {"rays": rays, "max_abs_error": error, "tolerance": TOLERANCE}


def export_student(scene_path: str | Path, config: ExportConfig) -> dict:
    """Write the scene's student as `config.onnx` and its sidecar; check it with onnxruntime. Returns a summary."""
    validate(config)
    if 0 < config.opset < DEFAULT_OPSET:
        raise JobError(f"--opset {config.opset}: the exported graph needs opset {DEFAULT_OPSET} or newer")
    path = Path(config.onnx)
    if path.suffix != ".onnx":
        raise JobError(f"{path}: name the ONNX file with .onnx (its sidecar takes the same name with .json)")
    scene = load_scene(scene_path)
    if scene.student is None:
        raise JobError(f"{scene_path}: has no student to export; run `r2l-train distill` on it first")
    student = scene.build_student("cpu")
    graph = StudentGraph(student)
    opset = _opset(config, graph, str(scene_path))
    poses, intrinsics = _sample_poses(scene), scene.meta.intrinsics
    example = random_view_rays(poses, intrinsics, 64, torch.Generator().manual_seed(1))
    write_graph(graph, example, path, opset)
    sidecar_path = path.with_suffix(".json")
    _write_json(sidecar(scene, path, opset), sidecar_path)
    return {"onnx": str(path), "sidecar": str(sidecar_path), "opset": opset, "bytes": path.stat().st_size,
            "encoding": student.config.encoding, "stage": scene.student.get("stage"),
            "check": _check(path, student, poses, intrinsics, config.check_rays)}
