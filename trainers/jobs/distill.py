"""Job: distil the scene's teacher into the R2L student, from pseudo data on disk or rendered online."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import torch

from r2l_viewer.core.config import to_dict
from r2l_viewer.core.models import Student, StudentConfig, model_from_record
from r2l_viewer.core.occupancy import teacher_occupancy
from r2l_viewer.core.render import RenderInterrupted, render_image

from trainers.configs import DistillConfig, PseudoConfig
from trainers.events import LOG, Event
from trainers.training.online_views import OnlineViews
from trainers.storage.pseudo_store import PseudoStore
from trainers.training.schedule import warmup_then_decay
from trainers.training.responsive import rays_per_call
from r2l_viewer.core.view_ranges import view_ranges
from trainers.training.student_steps import RENDER_CHUNK, StudentJob, describe_student, student_optimizer
from trainers.errors import JobError
from trainers.storage.workspace import RunContext


def student_config_for(config: StudentConfig, meta, normalize: bool, box=None) -> StudentConfig:
    """The student's config fitted to the scene: its near/far (or NDC space) and background; when `normalize`, the
    scene box mapped to [-1, 1] before the positional encoding (the paper encodes raw coordinates); when `box`
    (min, max) is given, points placed only where rays cross it. An occupancy grid needs a box: it takes the
    scene's when none is given, and is turned off for NDC and contracted scenes (`occupancy_note` says so)."""
    bounds = meta.model_bounds()
    changes = {"near": bounds["near"], "far": bounds["far"], "ndc": bounds["ndc"],
               "background": tuple(float(c) for c in meta.background)}
    if meta.contraction is not None or meta.ndc is not None:
        changes["occupancy_resolution"] = 0
    if meta.contraction is not None:  # points in the contracted cube [-2, 2]^3, encoded there
        scale = 0.5 if normalize or config.encoding == "grid" else 1.0
        return dataclasses.replace(config, **changes, contraction=meta.contraction, center=(0.0, 0.0, 0.0),
                                   scale=scale, box_min=None, box_max=None)
    if box is None and config.occupancy_resolution and meta.ndc is None:
        box = (meta.box_min, meta.box_max)
    lo, hi = (torch.tensor(b) for b in (box or (meta.box_min, meta.box_max)))
    if (normalize or config.encoding == "grid") and meta.ndc is None:  # feature grids cover the scene box
        changes["center"] = tuple(round(float(c), 6) for c in (lo + hi) / 2)
        changes["scale"] = round(float(2.0 / (hi - lo).max()), 6)
    if box is not None:
        changes["box_min"], changes["box_max"] = tuple(lo.tolist()), tuple(hi.tolist())
    return dataclasses.replace(config, **changes)


def occupancy_note(config: StudentConfig, meta) -> str | None:
    """Why a requested occupancy grid is off for this scene, or None when it is not."""
    if not config.occupancy_resolution or (meta.contraction is None and meta.ndc is None):
        return None
    kind = "an unbounded (contracted)" if meta.contraction is not None else "a forward-facing (NDC)"
    return f"note: no occupancy grid for the student: {kind} scene has no box to hold one; points go along the whole ray"


def teacher_box(teacher) -> tuple | None:
    """The box around what the teacher found occupied (grid teachers), else None."""
    if getattr(teacher, "active_min", None) is None:
        return None
    return tuple(round(float(v), 5) for v in teacher.active_min), tuple(round(float(v), 5) for v in teacher.active_max)


class Distill(StudentJob):
    stage = "distill"
    stage_name = "distilled"

    def __init__(self, config: DistillConfig, ctx: RunContext, pseudo: PseudoConfig | None = None):
        super().__init__(config, ctx)
        self.pseudo = pseudo or PseudoConfig()
        self.views: dict | None = None  # the range of the views it learns from (set up with the data)

    def finished_note(self) -> str | None:
        scene = self.ctx.scene()
        student = scene.student if scene is not None and scene.teacher is not None else None
        if student is None or not student.get("complete") or student.get("teacher_id") != scene.teacher.get("id"):
            return None
        return (f"{self.ctx.workspace.checkpoint.name}: the student already finished ({describe_student(student)}); "
                "nothing to resume")

    def setup(self) -> Iterator[Event]:
        cfg, ctx = self.config, self.ctx
        scene = ctx.require_scene("teacher")
        state = self.resume_state()
        if state is None and not ctx.force and scene.student is not None and scene.student.get("complete"):
            raise JobError(
                f"{ctx.workspace.checkpoint}: already has a student ({describe_student(scene.student)}); use --resume "
                "to continue an interrupted run, --force to replace it"
            )
        teacher = scene.build_teacher(self.device)
        chunk = rays_per_call(teacher, self.device, RENDER_CHUNK)
        if state is not None:
            self.student = model_from_record(state["model"], self.device).train()
        else:
            box = (teacher_box(teacher) or (scene.meta.box_min, scene.meta.box_max)) if cfg.points_in_box else None
            student_cfg = student_config_for(cfg.student, scene.meta, cfg.normalize_points, box)
            self.student = self.seeded_init(lambda: Student(student_cfg)).to(self.device)
            yield from self._occupancy(teacher, scene.meta)
        self.optimizer = student_optimizer(self.student, cfg.lr, cfg.grid_lr)
        self.make_streams(cfg.hard_rays, state)
        if cfg.online:
            yield Event(self.stage, LOG, self.start_step, cfg.steps, message=f"rendering {cfg.online_buffer} online views")
            self.source = OnlineViews(teacher, scene.meta, self.pseudo, ctx.seed, cfg.online_buffer,
                                      self.online_views_before(self.start_step), ctx.stop, chunk)
        else:
            self.source = self._pseudo_views(scene)
            yield from self._pseudo_notes()
        pseudo = to_dict(self.pseudo) if cfg.online else PseudoStore(ctx.workspace.pseudo_dir).manifest()["settings"]
        self.views = view_ranges(scene.meta, pseudo)  # recorded with the student: the viewer keeps to them
        if state is not None:
            self.resume_student_state(state)
        self.choose_validation_views(ctx.dataset(("train", "val")))
        renders = [render_image(teacher, self.val.poses[i].to(self.device), self.val.intrinsics_of(i), chunk,
                                stop=ctx.stop) for i in self.val_index]
        self.teacher_renders = [out.rgb for out in renders]
        self.teacher_depths = [out.depth for out in renders] if all(out.depth is not None for out in renders) else None
        self.teacher = teacher

    def _occupancy(self, teacher, meta) -> Iterator[Event]:
        """The teacher's occupancy stored with a new student that has a grid for it (a note where it cannot)."""
        cfg, student = self.config, self.student
        note = occupancy_note(cfg.student, meta)
        if note is not None:
            yield Event(self.stage, LOG, self.start_step, cfg.steps, message=note)
        r = student.config.occupancy_resolution
        if student.config.uses_occupancy:
            cells = teacher_occupancy(teacher, student.config.box_min, student.config.box_max, r)
            student.set_occupancy(cells)
            yield Event(self.stage, LOG, self.start_step, cfg.steps,
                        message=f"teacher's occupancy: {float(cells.float().mean()):.1%} of {r}^3 cells")

    def _pseudo_notes(self) -> Iterator[Event]:
        cfg, manifest = self.config, PseudoStore(self.ctx.workspace.pseudo_dir).manifest()
        yield Event(self.stage, LOG, self.start_step, cfg.steps, message=f"training on {manifest['images']} pseudo views")
        if not manifest.get("complete"):
            yield Event(self.stage, LOG, self.start_step, cfg.steps,
                        message=f"note: the pseudo data is incomplete ({manifest['images']} of {manifest['planned']} "
                                "views, its rendering was stopped); training on what there is. Finish it with "
                                "`r2l-train pseudo --resume` first for the full set")

    def online_views_before(self, step: int) -> int:
        """How many online views were rendered before `step` began: the buffer's first fill, then one view at the
        start of every online_every-th step. A function of the step, so a resumed run rebuilds the buffer exactly."""
        cfg = self.config
        return cfg.online_buffer + max(step - 1, 0) // cfg.online_every

    def _pseudo_views(self, scene):
        store = PseudoStore(self.ctx.workspace.pseudo_dir)
        unfinished = PseudoStore(self.ctx.workspace.pseudo_new_dir)
        if not store.exists and unfinished.exists:
            held = unfinished.manifest()
            raise JobError(
                f"{store.folder}: no pseudo data yet; an unfinished set is in {unfinished.folder.name} "
                f"({held['images']} of {held.get('planned', '?')} views): finish it with `r2l-train pseudo --resume`, "
                "or distil with --distill.online true"
            )
        manifest = store.manifest()
        if manifest.get("teacher_id") != scene.teacher.get("id"):
            raise JobError(
                f"{store.folder}: the pseudo data was rendered by another teacher than the scene's; "
                "run `r2l-train pseudo` again (or distil with --distill.online true)"
            )
        return store.views()

    def scheduled_rate(self, step: int) -> float:
        cfg = self.config
        return warmup_then_decay(step, cfg.lr, cfg.warmup_steps, cfg.warmup_lr, cfg.decay_steps)

    def train_step(self, step: int):
        if self.config.online and step > 0 and step % self.config.online_every == 0:
            interrupted = False
            try:  # part of the step: a stop during it leaves nothing applied, and the resumed run renders it again
                self.source.refresh(self.ctx.stop)
            except RenderInterrupted:
                interrupted = True
            if self.ctx.ranks.any(interrupted):  # (every rank renders the same views into its own buffer)
                return None
        return super().train_step(step)

    def save(self, step: int, complete: bool) -> None:
        state = None if complete else self.student_state(step)  # (on every rank: it collects their ray streams)
        if not self.ctx.ranks.leader:
            return
        self.store_student(self.student, step, complete, online=self.config.online or None, views=self.views)
        if state is not None:
            if self.config.online:
                state["online_next"] = self.online_views_before(step)
            self.ctx.workspace.save_state(self.stage, state)

    def summary(self) -> str:
        m = self.last_metrics
        parts = [f"distilled in {self.took()}"]
        if "teacher_psnr" in m:
            parts.append(f"{m['teacher_psnr']:.2f} dB against the teacher")
        parts.append(f"{m.get('val_psnr', float('nan')):.2f} dB against the real validation images")
        if "depth_mae" in m:
            parts.append(f"depth {m['depth_mae']:.3f} from the teacher's (mean absolute, scene units)")
        return ", ".join(parts)
