"""Job: let the teacher render random views (the paper's pseudo data) into compact shards beside the scene.

A fresh run builds the new set in `<stem>.pseudo.new/` and puts it in place of `<stem>.pseudo/` when it is complete,
so a failure or a stop never destroys a complete set. `--resume` continues an unfinished set with the same settings
(or extends one when only `images` grew)."""

from __future__ import annotations

import dataclasses

import time
from collections.abc import Iterator

import numpy as np

from r2l_viewer.core.config import to_dict, validate
from r2l_viewer.core.render import RenderInterrupted

from trainers.configs import PseudoConfig
from trainers.events import DONE, LOG, PROGRESS, STOPPED, Event, RateMeter, small_preview, to_preview
from trainers.storage.pseudo_store import PseudoStore, bytes_per_ray, replace_store
from trainers.training.responsive import rays_per_call
from trainers.storage.resume import resumed_config, resumed_seed
from trainers.training.views import render_pseudo_view
from trainers.errors import JobError
from trainers.storage.workspace import RunContext

STAGE = "pseudo"
PREVIEW_SECONDS = 2.0


class _ShardBuffer:
    """The views of one shard as they are rendered."""

    def __init__(self):
        self.first, self.rgb, self.depth, self.poses, self.focals = None, [], [], [], []

    def add(self, index, rgb, depth, pose, focal):
        self.first = index if self.first is None else self.first
        self.rgb.append(to_preview(rgb))
        self.depth.append(depth.numpy().astype(np.float16))
        self.poses.append(pose.numpy())
        self.focals.append(focal)

    def __len__(self):
        return len(self.rgb)

    def flush_into(self, store: PseudoStore, pending: list | None) -> None:
        """Write the views as a shard: recorded at once (one process), or pending until rank 0 publishes every
        rank's shards (torchrun: `pending` collects their entries)."""
        if not self.rgb:
            return
        arrays = (np.stack(self.rgb), np.stack(self.depth), np.stack(self.poses), np.array(self.focals))
        if pending is None:
            store.append(*arrays, first=self.first)
        else:
            pending.append(store.write_pending(self.first, *arrays))
        self.__init__()


def view_runs(missing: list[int], shard_images: int) -> list[list[int]]:
    """The views still to render as shards: runs of consecutive missing views, each within one block of
    `shard_images` views (block b holds views b*shard_images...), so shards fall where an uninterrupted run puts
    them."""
    runs: list[list[int]] = []
    for index in missing:
        if runs and index == runs[-1][-1] + 1 and index // shard_images == runs[-1][0] // shard_images:
            runs[-1].append(index)
        else:
            runs.append([index])
    return runs


def share_of(runs: list[list[int]], shard_images: int, rank: int, world: int) -> list[list[int]]:
    """The runs rank `rank` of `world` renders: those in blocks whose number is `rank` modulo `world`. Decided by
    the view numbers alone, so the same views land in the same shards whatever the number of ranks."""
    return [run for run in runs if (run[0] // shard_images) % world == rank]


def views_within_budget(config: PseudoConfig, intrinsics) -> int:
    """config.images, or fewer when that many views of the scene's image size would pass config.ray_budget rays
    (at least one view)."""
    if not config.ray_budget:
        return config.images
    return max(1, min(config.images, config.ray_budget // (intrinsics.height * intrinsics.width)))


def make_pseudo_data(config: PseudoConfig, ctx: RunContext) -> Iterator[Event]:
    """Render `config.images` views with the scene's teacher; resumable view by view. Under torchrun each rank
    renders its share of the views (see `share_of`) into its own shards, and rank 0 publishes them in the manifest
    once every rank has finished; the ranks check for a stop together after every view."""
    validate(config)
    ctx.workspace.check_writable()
    scene = ctx.require_scene("teacher")
    teacher = scene.build_teacher(ctx.torch_device)
    live = PseudoStore(ctx.workspace.pseudo_dir)
    config = _resumed_settings(config, ctx, scene, live)
    config = dataclasses.replace(config, images=views_within_budget(config, scene.meta.intrinsics))
    settings = to_dict(config) | {"seed": ctx.seed}
    ranks = ctx.ranks
    folder, notes = ranks.leader_does(lambda: _open_store(ctx, live, settings, scene))  # rank 0 writes; others wait
    store, total = PseudoStore(folder), config.images
    for message in notes:
        yield from ctx.workspace.emit(Event(STAGE, LOG, store.manifest()["images"], total, message=message))
    runs = view_runs(store.missing_views(total), config.shard_images)
    mine = share_of(runs, config.shard_images, ranks.rank, ranks.world)
    rounds = max(sum(map(len, share_of(runs, config.shard_images, r, ranks.world))) for r in range(ranks.world))
    done, pending = store.manifest()["images"], [] if ranks.active else None
    chunk = rays_per_call(teacher, ctx.torch_device, config.render_chunk)
    buffer, meter, last_preview, began = _ShardBuffer(), RateMeter(0.8), 0.0, time.perf_counter()
    pixels = scene.meta.intrinsics.height * scene.meta.intrinsics.width
    queue = [(index, k == len(run) - 1) for run in mine for k, index in enumerate(run)]  # (view, ends its shard)
    stopped = False
    for turn in range(rounds):
        rgb = None
        if turn < len(queue):
            index, last = queue[turn]
            try:
                rgb, depth, pose, focal = render_pseudo_view(teacher, scene.meta, config, ctx.seed, index, ctx.stop, chunk)
                buffer.add(index, rgb, depth, pose, focal)
                if last:
                    buffer.flush_into(store, pending)
            except RenderInterrupted:  # (the stop flag is set: the ranks agree on it next)
                rgb = None
        stopped, (rendered,) = ranks.agree(ctx.stop.is_set(), rgb is not None)
        if rendered:
            done += int(rendered)
            meter.update(pixels * int(rendered))
            preview = None
            if rgb is not None and time.perf_counter() - last_preview > PREVIEW_SECONDS:
                preview, last_preview = small_preview(rgb), time.perf_counter()
            yield from ctx.workspace.emit(Event(
                STAGE, PROGRESS, done, total, rays_per_s=meter.rate, eta_s=meter.eta((total - done) / max(rendered, 1)),
                preview=preview, metrics={"images_per_s": (meter.rate or 0.0) / pixels}))
        if stopped:
            break
    buffer.flush_into(store, pending)
    everyone = ranks.gather(pending)  # waits until every rank has written its shards
    event = ranks.leader_does(lambda: _publish(store, live, scene, everyone, stopped, total, time.perf_counter() - began))
    yield from ctx.workspace.emit(event)


def _publish(store: PseudoStore, live: PseudoStore, scene, pending: list | None, stopped: bool, total: int,
             seconds: float) -> Event:
    """Rank 0, once every rank has finished: record the ranks' shards (torchrun), then put a complete set in place
    (or say where a stopped one is kept)."""
    if pending is not None and any(pending):
        store.publish([entry for entries in pending for entry in entries])
    if stopped:
        return _stopped(store, live, scene, total)
    manifest = store.finish()
    if store.folder != live.folder:
        replace_store(store, live)
    return _done(manifest, total, seconds)


def _done(manifest: dict, total: int, seconds: float) -> Event:
    metrics = {"images": manifest["images"], "bytes": manifest["bytes"], "bytes_per_ray": bytes_per_ray(manifest),
               "seconds": round(seconds, 1)}
    return Event(STAGE, DONE, total, total, metrics=metrics,
                 message=f"{manifest['images']} views, {manifest['bytes'] / 1e6:.1f} MB "
                         f"({bytes_per_ray(manifest):.1f} bytes per ray) in {seconds:.0f} s")


def _usable(store: PseudoStore, teacher_id) -> bool:
    """Whether a store is a complete set rendered by the scene's teacher (data worth keeping)."""
    if not store.exists:
        return False
    manifest = store.manifest()
    return bool(manifest.get("complete")) and manifest.get("teacher_id") == teacher_id


def _stopped(store: PseudoStore, live: PseudoStore, scene, total: int) -> Event:
    """After a stop: the partial set replaces the live one unless that one is a complete set of this teacher."""
    count = store.manifest()["images"]
    message = f"stopped after {count} views; saved"
    if store.folder != live.folder:
        if _usable(live, scene.teacher.get("id")):
            message += (f" in {store.folder.name}; the complete set in {live.folder.name} stays in use until this "
                        "one is finished (run again with --resume)")
        else:
            replace_store(store, live)
    return Event(STAGE, STOPPED, count, total, message=message)


def _resumable_store(ctx: RunContext, live: PseudoStore, scene) -> PseudoStore | None:
    """The set a --resume run would continue (a new one being built, else the live one), when this teacher
    rendered it."""
    pending = PseudoStore(ctx.workspace.pseudo_new_dir)
    candidate = pending if pending.exists else live if live.exists else None
    if candidate is None or candidate.manifest().get("teacher_id") != scene.teacher.get("id"):
        return None
    return candidate


def _resumed_settings(config: PseudoConfig, ctx: RunContext, scene, live: PseudoStore) -> PseudoConfig:
    """With --resume: the settings of the set being continued, except those the user gave (a given one that
    differs is refused, naming both values; a given `images` may grow the set)."""
    store = _resumable_store(ctx, live, scene) if ctx.resume else None
    if store is None:
        return config
    saved = dict(store.manifest().get("settings", {}))
    resumed_seed(STAGE, ctx, saved.pop("seed", None))
    return resumed_config(STAGE, config, saved, ctx.given, free=("images",))


def _open_store(ctx: RunContext, live: PseudoStore, settings: dict, scene) -> tuple:
    """The folder of the store to write into and notes for the user. With --resume: the unfinished set (a new one
    being built, else the live one) when it matches; otherwise a new set beside the live one."""
    teacher_id, notes = scene.teacher.get("id"), []
    pending = PseudoStore(ctx.workspace.pseudo_new_dir)
    candidate = pending if pending.exists else live if live.exists else None
    if not ctx.resume and (unfinished := _unfinished_note(_resumable_store(ctx, live, scene))):
        notes.append(unfinished)
    if ctx.resume and candidate is not None:
        manifest = candidate.manifest()
        if manifest.get("teacher_id") == teacher_id:
            start = _continue(candidate, manifest, settings)
            if start:
                notes.append(f"resuming after {start} views already on disk")
            return candidate.folder, notes + _teacher_notes(scene)
        notes.append(f"the pseudo data in {candidate.folder.name} was rendered by another teacher; rendering a new set")
    meta = scene.meta
    pending.create(meta.intrinsics.height, meta.intrinsics.width, settings["images"], teacher_id, settings)
    return pending.folder, notes + _teacher_notes(scene)


def _continue(store: PseudoStore, manifest: dict, settings: dict) -> int:
    """Check that a store can be continued with these settings (extending it when only `images` grew); returns
    how many views it holds."""
    saved = dict(manifest.get("settings", {}))
    held, wanted = int(manifest["images"]), int(settings["images"])
    if wanted < held:
        raise JobError(f"{store.folder}: already holds {held} views, more than --pseudo.images {wanted}; ask for at "
                       "least that many, or run without --resume to render a new set")
    store.tidy()
    if wanted != saved.get("images"):
        store.extend(wanted, settings)
    return held


def _unfinished_note(store: PseudoStore | None) -> str | None:
    """For a run that starts a new set while an unfinished one could be continued: how to continue that one."""
    manifest = store.manifest() if store is not None else {}
    if not manifest or manifest.get("complete"):
        return None
    return (f"note: the unfinished pseudo set in {store.folder.name} ({manifest['images']} of "
            f"{manifest.get('planned', '?')} views) is replaced by this new set; `--resume` continues such a set "
            "instead of starting over")


def _teacher_notes(scene) -> list[str]:
    if scene.teacher.get("complete", True):
        return []
    return ["note: the teacher's training was stopped before its end"]
