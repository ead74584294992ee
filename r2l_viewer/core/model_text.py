"""Models and their records in words and bytes, as the CLI, the bench and the viewer print them."""

from __future__ import annotations

import io

import torch

STOPPED_STAGES = {"distilled": "distillation", "finetuned": "finetuning", None: "training"}


def saved_bytes(state: dict) -> int:
    """Bytes a dict of tensors takes saved by torch.save: a model's state_dict (fp32) or a record's weights."""
    buffer = io.BytesIO()
    torch.save(state, buffer)
    return buffer.tell()


def human_bytes(count: int) -> str:
    """A size in bytes as people read it: "23.67 MB", "48.1 kB", "912 B"."""
    if count >= 1e6:
        return f"{count / 1e6:.2f} MB"
    return f"{count / 1e3:.1f} kB" if count >= 1e3 else f"{count} B"


def levels_text(sizes) -> str:
    return "/".join(str(int(size)) for size in sizes)


def student_encoding_text(config: dict) -> str:
    """How a student (its config as stored in a checkpoint) encodes a ray: "16 points, L=10" for the paper's
    frequency encoding, "16 points, grid planes 64/128/256 x 4 ch" (and "+ volumes ...") for feature grids, with
    ", product" when the planes' reads are multiplied, ", occupancy 32^3" when points follow the teacher's and
    ", points at u^1.5" when they crowd towards its first cell."""
    points = f"{config.get('points_per_ray')} points"
    if config.get("encoding", "frequency") != "grid":
        return f"{points}, L={config.get('frequencies')}"
    planes, volumes = config.get("grid_planes") or (), config.get("grid_volumes") or ()
    levels = [f"{name} {levels_text(sizes)}" for name, sizes in (("planes", planes), ("volumes", volumes)) if sizes]
    text = f"{points}, grid {' + '.join(levels)} x {config.get('grid_channels')} ch"
    if config.get("grid_combine", "concat") == "product":
        text += ", product"
    if config.get("occupancy_resolution"):
        text += f", occupancy {config['occupancy_resolution']}^3"
        if config.get("point_spacing", 1.0) != 1.0:
            text += f", points at u^{config['point_spacing']:g}"
    return text


def stage_text(record: dict) -> str:
    """A model record's stage in words: 'distilled' (or '' for a finished teacher), else what stopped where:
    'distillation stopped at step 1000 of 3000'. Records without a `complete` flag count as finished."""
    stage = record.get("stage")
    if record.get("complete", True):
        return str(stage or "")
    total = record.get("total_steps")
    return (f"{STOPPED_STAGES.get(stage, stage)} stopped at step {record.get('step')}"
            + (f" of {total}" if total else ""))
