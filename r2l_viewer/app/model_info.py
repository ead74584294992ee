"""Sizes and per-ray costs of the open scene's models, as plain text rows for the info panel (no Qt)."""

from __future__ import annotations

from r2l_viewer.core.metrics import flops_per_ray
from r2l_viewer.core.models import parameter_count
from trainers.inspection import serialized_bytes

PAPER_NERF_FLOPS = 303.82e6  # the paper's vanilla NeRF teacher per ray (`r2l-train describe` counts the same)


def describe(model) -> dict | None:
    """params, bytes (fp32 as saved) and FLOPs per ray of a model, or None when there is none."""
    if model is None:
        return None
    return {"params": parameter_count(model), "bytes": serialized_bytes(model), "flops": flops_per_ray(model)}


def architecture(model) -> tuple | None:
    """What a model's speed depends on: its class and parameter shapes (the same for every training snapshot)."""
    if model is None:
        return None
    return type(model).__name__, tuple(tuple(p.shape) for p in model.parameters())


def human_flops(value: float) -> str:
    for unit, size in (("GFLOPs", 1e9), ("MFLOPs", 1e6), ("kFLOPs", 1e3)):
        if value >= size:
            return f"{value / size:.2f} {unit}"
    return f"{value:.0f} FLOPs"


def model_rows(name: str, record: dict | None, info: dict | None) -> list[tuple[str, str]]:
    if info is None:
        return [(name, "none in this checkpoint")]
    kind = record.get("kind", "?") if record else "?"
    config = record.get("config", {}) if record else {}
    shape = ""
    if kind == "student":
        shape = (f", {2 * config.get('blocks', 0) + 2} layers x {config.get('width')}, "
                 f"{config.get('points_per_ray')} points, L={config.get('frequencies')}")
    elif kind == "grid":
        shape = f", {config.get('resolution')}^3 voxels max, {config.get('features')} features"
    stage = f", {record['stage']}" if record and record.get("stage") else ""
    step = f", step {record['step']}" if record and record.get("step") is not None else ""
    note = " in its MLP (grid lookups not counted; varies with the view)" if kind == "grid" else ""
    return [
        (name, f"{kind}{shape}{stage}{step}"),
        ("  size", f"{info['params']:,} parameters, {info['bytes'] / 1e6:.2f} MB"),
        ("  cost", f"{human_flops(info['flops'])} per ray{note}"),
    ]


def ratio_rows(record: dict | None, teacher: dict | None, student: dict | None) -> list[tuple[str, str]]:
    if student is None:
        return []
    rows = []
    if teacher and record and record.get("kind") == "nerf":
        rows.append(("FLOPs ratio", f"the teacher costs {teacher['flops'] / student['flops']:.1f}x the student per ray"))
    elif teacher:
        rows.append(("FLOPs ratio", f"teacher / student: {teacher['flops'] / student['flops']:.2f} (MLP FLOPs only; "
                                    "the Compare tab times both)"))
    rows.append(("vs paper NeRF", f"{human_flops(PAPER_NERF_FLOPS)} per ray: "
                                  f"{PAPER_NERF_FLOPS / student['flops']:.0f}x the student"))
    return rows


def scene_rows(session, device_text: str, teacher: dict | None, student: dict | None) -> list[tuple[str, str]]:
    """Every row of the info panel."""
    meta, checkpoint = session.meta, session.checkpoint
    intr = meta.intrinsics
    cameras = ", ".join(f"{len(v)} {k}" for k, v in checkpoint.cameras.items()) or "none"
    rows = [
        ("scene", f"{meta.name} ({meta.format})"),
        ("file", str(session.path)),
        ("dataset", f"{meta.source or 'unknown'} (downscale {meta.extra.get('downscale', 1)})"),
        ("images", f"{intr.width}x{intr.height}, focal {intr.fx:.1f} px, near {meta.near:g}, far {meta.far:g}"),
        ("cameras", cameras),
        ("device", device_text),
    ]
    rows += model_rows("teacher", checkpoint.teacher, teacher)
    rows += model_rows("student", checkpoint.student, student)
    rows += ratio_rows(checkpoint.teacher, teacher, student)
    for record in checkpoint.history[-4:]:
        scores = ", ".join(f"{k} {v:.2f}" for k, v in record.items() if k.endswith("psnr") and isinstance(v, float))
        rows.append((f"history: {record.get('stage')}", scores or record.get("event", "")))
    return rows
