"""`r2l-train import-nerf`: make a scene checkpoint whose teacher is a NeRF trained with nerf-pytorch, rendering as
nerf-pytorch does (its settings read from the args.txt / config.txt beside the weights, or given by the user)."""

from __future__ import annotations

import uuid
from pathlib import Path

from r2l_viewer.core.models.nerf_pytorch import load_nerf_pytorch, nerf_config, nerf_pytorch_settings, read_weights

from trainers.storage.scene_io import add_history, model_entry, new_scene
from trainers.errors import JobError
from trainers.storage.workspace import RunContext


def import_nerf(weights: str | Path, ctx: RunContext, overrides: dict[str, str] | None = None) -> dict:
    """Load a nerf-pytorch `.tar` with its rendering settings (`overrides`, nerf-pytorch argument names to text
    values, win over the files), fit it to the dataset's near/far (or NDC space) and save it as the scene's
    teacher with the settings it was read with; refuses to replace an existing teacher unless `ctx.force`.
    Returns a summary."""
    existing = ctx.scene()
    if existing is not None and existing.teacher is not None and not ctx.force:
        raise JobError(f"{ctx.workspace.checkpoint}: already has a teacher; pass --force to replace it, or another "
                       "--out")
    dataset = ctx.dataset(("train", "val"))
    settings, sources = nerf_pytorch_settings(weights, *read_weights(weights), overrides)
    model = load_nerf_pytorch(weights, nerf_config(settings, dataset.meta))
    scene = existing or new_scene(dataset)
    if scene.teacher is not None:
        scene.history.append({"stage": "teacher", "event": "replaced", "old_id": scene.teacher.get("id")})
    scene.teacher = model_entry(model, step=0, complete=True, id=uuid.uuid4().hex,
                                imported=str(Path(weights).resolve()), nerf_pytorch=settings,
                                nerf_pytorch_settings_from=sources)
    add_history(scene, "teacher", 0, {}, imported=str(weights))
    ctx.save_scene(scene)
    cfg = model.config
    return {"checkpoint": str(ctx.workspace.checkpoint), "teacher": "nerf", "fine_network": model.fine is not None,
            "near": cfg.near, "far": cfg.far, "ndc": cfg.ndc is not None,
            "samples": [cfg.coarse_samples, cfg.fine_samples],
            "view_directions": cfg.view_directions, "background": list(cfg.background), "pixel_rays": "corners",
            "settings_from": sources}
