"""`r2l-train import-nerf`: make a scene checkpoint whose teacher is a NeRF trained with nerf-pytorch."""

from __future__ import annotations

import dataclasses
import uuid
from pathlib import Path

from r2l_viewer.core.models import VanillaNerf, load_nerf_pytorch

from trainers.storage.scene_io import add_history, model_entry, new_scene
from trainers.storage.workspace import JobError, RunContext


def import_nerf(weights: str | Path, ctx: RunContext) -> dict:
    """Load a nerf-pytorch `.tar`, fit it to the dataset's near/far (or NDC space) and save it as the scene's
    teacher; refuses to replace an existing teacher unless `ctx.force`. Returns a summary."""
    existing = ctx.scene()
    if existing is not None and existing.teacher is not None and not ctx.force:
        raise JobError(f"{ctx.workspace.checkpoint}: already has a teacher; pass --force to replace it, or another --out")
    dataset = ctx.dataset(("train", "val"))
    loaded = load_nerf_pytorch(weights)
    model = VanillaNerf(dataclasses.replace(loaded.config, **dataset.meta.model_bounds()))
    model.load_state_dict(loaded.state_dict())
    scene = existing or new_scene(dataset)
    if scene.teacher is not None:
        scene.history.append({"stage": "teacher", "event": "replaced", "old_id": scene.teacher.get("id")})
    scene.teacher = model_entry(model, step=0, complete=True, id=uuid.uuid4().hex, imported=str(Path(weights).resolve()))
    add_history(scene, "teacher", 0, {}, imported=str(weights))
    ctx.save_scene(scene)
    return {"checkpoint": str(ctx.workspace.checkpoint), "teacher": "nerf", "fine_network": model.fine is not None,
            "near": model.config.near, "far": model.config.far}
