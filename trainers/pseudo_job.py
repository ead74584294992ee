"""Job: let the teacher render random views (the paper's pseudo data) into compact shards beside the scene."""

from __future__ import annotations

import time
from collections.abc import Iterator

import numpy as np
import torch

from r2l_viewer.core.config import to_dict
from r2l_viewer.core.render import render_image

from .configs import PseudoConfig
from .events import DONE, LOG, PROGRESS, STOPPED, Event, RateMeter, to_preview
from .pseudo_store import PseudoStore, bytes_per_ray
from .views import pseudo_focal, pseudo_pose
from .workspace import RunContext

STAGE = "pseudo"
PREVIEW_SECONDS = 2.0


def view_generator(seed: int, index: int) -> torch.Generator:
    """The random stream of pseudo view `index`: each view is reproducible on its own, so resuming is exact."""
    return torch.Generator().manual_seed(seed * 1_000_003 + index)


def render_pseudo_view(teacher, meta, config: PseudoConfig, seed: int, index: int):
    """One pseudo view: (rgb [H, W, 3], depth [H, W], pose [4, 4], focal) rendered by the teacher."""
    gen = view_generator(seed, index)
    pose = pseudo_pose(meta, gen, config.elevation, config.radius_scale)
    base = meta.intrinsics
    focal = pseudo_focal(base.fx, gen, config.focal_scale)
    out = render_image(teacher, pose.to(next(teacher.parameters()).device), base.zoomed(focal / base.fx), config.render_chunk)
    depth = out.depth if out.depth is not None else torch.zeros(out.rgb.shape[:2])
    return out.rgb, depth, pose, focal


class _ShardBuffer:
    def __init__(self):
        self.rgb, self.depth, self.poses, self.focals = [], [], [], []

    def add(self, rgb, depth, pose, focal):
        self.rgb.append(to_preview(rgb))
        self.depth.append(depth.numpy().astype(np.float16))
        self.poses.append(pose.numpy())
        self.focals.append(focal)

    def __len__(self):
        return len(self.rgb)

    def flush_into(self, store: PseudoStore) -> dict | None:
        if not self.rgb:
            return None
        manifest = store.append(np.stack(self.rgb), np.stack(self.depth), np.stack(self.poses), np.array(self.focals))
        self.__init__()
        return manifest


def make_pseudo_data(config: PseudoConfig, ctx: RunContext) -> Iterator[Event]:
    """Render `config.images` views with the scene's teacher; resumable view by view."""
    scene = ctx.require_scene("teacher")
    teacher = scene.build_teacher(ctx.torch_device)
    store = PseudoStore(ctx.workspace.pseudo_dir)
    settings = to_dict(config) | {"seed": ctx.seed}
    meta, total = scene.meta, config.images
    start = _resume_point(store, ctx, settings, scene.teacher.get("id"))
    if start is None:
        store.create(meta.intrinsics.height, meta.intrinsics.width, total, scene.teacher.get("id"), settings)
        start = 0
    elif start:
        yield Event(STAGE, LOG, start, total, message=f"resuming after {start} views already on disk")
    if not scene.teacher.get("complete", True):
        yield Event(STAGE, LOG, start, total, message="note: the teacher's training was stopped before its end")
    buffer, meter, last_preview, began = _ShardBuffer(), RateMeter(0.8), 0.0, time.perf_counter()
    pixels = meta.intrinsics.height * meta.intrinsics.width
    for index in range(start, total):
        if ctx.stop.is_set():
            manifest = buffer.flush_into(store) or store.manifest()
            yield Event(STAGE, STOPPED, manifest["images"], total, message=f"stopped after {manifest['images']} views; saved")
            return
        rgb, depth, pose, focal = render_pseudo_view(teacher, meta, config, ctx.seed, index)
        buffer.add(rgb, depth, pose, focal)
        if len(buffer) >= config.shard_images:
            buffer.flush_into(store)
        meter.update(pixels)
        preview = None
        if time.perf_counter() - last_preview > PREVIEW_SECONDS:
            preview, last_preview = to_preview(rgb), time.perf_counter()
        yield Event(STAGE, PROGRESS, index + 1, total, rays_per_s=meter.rate, eta_s=meter.eta(total - index - 1),
                    preview=preview, metrics={"images_per_s": (meter.rate or 0.0) / pixels})
    buffer.flush_into(store)
    manifest = store.finish()
    seconds = time.perf_counter() - began
    metrics = {"images": manifest["images"], "bytes": manifest["bytes"], "bytes_per_ray": bytes_per_ray(manifest),
               "seconds": round(seconds, 1)}
    done = Event(STAGE, DONE, total, total, metrics=metrics,
                 message=f"{manifest['images']} views, {manifest['bytes'] / 1e6:.1f} MB "
                         f"({bytes_per_ray(manifest):.1f} bytes per ray) in {seconds:.0f} s")
    ctx.workspace.log(done)
    yield done


def _resume_point(store: PseudoStore, ctx: RunContext, settings: dict, teacher_id) -> int | None:
    """How many views an earlier run left that this one can keep (None: start afresh)."""
    if not (ctx.resume and store.exists):
        return None
    manifest = store.manifest()
    if manifest.get("settings") != settings or manifest.get("teacher_id") != teacher_id:
        return None
    return int(manifest["images"])
