"""Sizes, per-ray costs and frame times of the open scene's models, as plain text rows for the info panel (no Qt)."""

from __future__ import annotations

from r2l_viewer.core.metrics import FLOPS_DEFINITION, scene_flops_per_ray
from r2l_viewer.core.model_text import human_bytes, saved_bytes, stage_text, student_encoding_text
from r2l_viewer.core.models import parameter_count

PAPER_NERF_FLOPS = 303.82e6  # the paper's vanilla NeRF teacher per ray (`r2l-train describe` counts the same)


def describe(model, scene) -> dict | None:
    """params, bytes (fp32 as saved) and FLOPs per ray (counted as every tool counts them, on `scene`'s reference
    camera) of a model, or None when there is none."""
    if model is None:
        return None
    return {"params": parameter_count(model), "bytes": saved_bytes(model.state_dict()),
            "flops": scene_flops_per_ray(model, scene)}


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


def format_ms(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    ms = seconds * 1000.0
    return f"{ms:.0f} ms" if ms >= 100 else f"{ms:.1f} ms"


def is_grid_student(record: dict | None) -> bool:
    return bool(record) and record.get("kind") == "student" and record.get("config", {}).get("encoding") == "grid"


def shape_text(kind: str, config: dict) -> str:
    """A model's shape in a few words: layers and width, how a student encodes its points, and whether it gives
    depth."""
    if kind == "student":
        depth = ", colour and depth out" if config.get("depth") else ""
        return (f", {2 * config.get('blocks', 0) + 2} layers x {config.get('width')}, {student_encoding_text(config)}"
                f"{depth}")
    if kind == "grid":
        return f", {config.get('resolution')}^3 voxels max, {config.get('features')} features"
    return ""


def cost_note(kind: str, record: dict | None) -> str:
    """What a FLOPs-per-ray figure leaves out: the grid lookups of a grid teacher or a grid-encoded student."""
    if kind == "grid":
        return " in its MLP (grid lookups not counted; varies with the view)"
    return " in its MLP (grid lookups not counted)" if is_grid_student(record) else ""


def speed_text(latencies, role: str) -> str:
    """A model's median frame time from the Compare tab (`latencies`: its LatencyMedians) with the size it rendered."""
    seconds = latencies.median(role) if latencies is not None else None
    if seconds is None:
        return "not timed yet (the Compare tab times each frame)"
    frames = latencies.frames(role)
    return (f"{format_ms(seconds)} per frame at {latencies.size_note} (median of {frames} Compare "
            f"frame{'s' if frames > 1 else ''})")


def model_rows(name: str, record: dict | None, info: dict | None, latencies=None) -> list[tuple[str, str]]:
    if info is None:
        return [(name, "none in this checkpoint")]
    kind = record.get("kind", "?") if record else "?"
    shape = shape_text(kind, record.get("config", {}) if record else {})
    stage = stage_text(record) if record else ""
    stopped = "stopped at step" in stage
    step = f", step {record['step']}" if record and record.get("step") is not None and not stopped else ""
    stage = f", {stage}" if stage else ""
    return [
        (name, f"{kind}{shape}{stage}{step}"),
        ("  size", f"{info['params']:,} parameters, {human_bytes(info['bytes'])} on disk"),
        ("  cost", f"{human_flops(info['flops'])} per ray{cost_note(kind, record)}"),
        ("  speed", speed_text(latencies, name)),
    ]


def speed_ratio_rows(latencies) -> list[tuple[str, str]]:
    """How much faster the student renders a frame than the teacher, once the Compare tab timed both."""
    times = [latencies.median(role) if latencies is not None else None for role in ("teacher", "student")]
    if None in times or not times[1]:
        return []
    return [("speed ratio", f"the student renders a frame {times[0] / times[1]:.1f}x faster than the teacher "
                            f"(at {latencies.size_note})")]


def ratio_rows(records: tuple, teacher: dict | None, student: dict | None) -> list[tuple[str, str]]:
    """FLOPs of the teacher and of the paper's NeRF against the student's (`records`: the teacher's and student's)."""
    if student is None:
        return []
    rows = []
    teacher_record, student_record = records
    if teacher and teacher_record and teacher_record.get("kind") == "nerf" and not is_grid_student(student_record):
        rows.append(("FLOPs ratio", f"the teacher costs {teacher['flops'] / student['flops']:.1f}x the student per ray"))
    elif teacher:
        rows.append(("FLOPs ratio", f"teacher / student: {teacher['flops'] / student['flops']:.2f} (MLP FLOPs only; "
                                    "the speed rows time both)"))
    whom = "the student's MLP" if is_grid_student(student_record) else "the student"
    rows.append(("vs paper NeRF", f"{human_flops(PAPER_NERF_FLOPS)} per ray: "
                                  f"{PAPER_NERF_FLOPS / student['flops']:.0f}x {whom}"))
    return rows


def scene_rows(session, device_text: str, teacher: dict | None, student: dict | None,
               latencies=None) -> list[tuple[str, str]]:
    """Every row of the info panel (`latencies`: the Compare tab's LatencyMedians, or None)."""
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
    rows += model_rows("teacher", checkpoint.teacher, teacher, latencies)
    rows += model_rows("student", checkpoint.student, student, latencies)
    rows += ratio_rows((checkpoint.teacher, checkpoint.student), teacher, student) + speed_ratio_rows(latencies)
    if teacher or student:
        rows.append(("FLOPs", f"{FLOPS_DEFINITION} (r2l-eval gives the same figures)"))
    return rows + history_rows(checkpoint.history)


def history_rows(history: list[dict]) -> list[tuple[str, str]]:
    """The latest result of each stage, oldest first: its scores, step and date (an earlier run of a stage that
    ran again is history, not the scene's state)."""
    latest = {}
    for record in history:
        if record.get("stage") and "event" not in record:
            latest.pop(record["stage"], None)
            latest[record["stage"]] = record
    rows = []
    for stage, record in latest.items():
        scores = ", ".join(f"{k} {v:.2f}" for k, v in record.items() if k.endswith("psnr") and isinstance(v, float))
        when = str(record.get("time", ""))[:16].replace("T", " ")
        rows.append((f"last {stage}", f"{scores or 'no scores'} at step {record.get('step')}, {when}".rstrip(", ")))
    return rows
