"""Job: train a teacher (grid or vanilla NeRF) on the real training images, into the scene checkpoint."""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterator

import torch

from r2l_viewer.core.metrics import psnr
from r2l_viewer.core.models import model_from_record
from r2l_viewer.core.render import render_image

from trainers.configs import TeacherConfig
from trainers.events import LOG, Event, small_preview
from trainers.training.loop import TrainingJob
from trainers.training.responsive import rays_per_call
from trainers.storage.scene_io import add_history, model_entry, new_scene
from trainers.training.schedule import set_learning_rates
from trainers.training.teacher_models import TeacherOptimisation, build_teacher
from trainers.training.views import SplitViews, validation_views
from trainers.errors import JobError
from trainers.storage.workspace import RunContext


class TrainTeacher(TrainingJob):
    stage = "teacher"
    free_on_resume = ("settle_db",)  # when to end may change; how to train may not

    def __init__(self, config: TeacherConfig, ctx: RunContext):
        super().__init__(config, ctx)
        self.logs: list[str] = []

    def finished_note(self) -> str | None:
        scene = self.ctx.scene()
        teacher = scene.teacher if scene is not None else None
        if teacher is None or not teacher.get("complete"):
            return None
        psnr_value = teacher.get("val_psnr")
        figure = f", validation PSNR {psnr_value:.2f} dB" if psnr_value is not None else ""
        return (f"{self.ctx.workspace.checkpoint.name}: the teacher already finished (step {teacher.get('step')}"
                f"{figure}); nothing to resume")

    def setup(self) -> Iterator[Event]:
        ctx = self.ctx
        existing = ctx.scene()
        if existing is not None and existing.teacher is not None and not (ctx.resume or ctx.force):
            raise JobError(
                f"{ctx.workspace.checkpoint}: already has a teacher; use --resume to continue it, --force to train "
                "a new one (its student would no longer match), or another --out"
            )
        self.dataset = ctx.dataset(("train", "val"))
        meta = self.dataset.meta
        why = meta.extra.get("scene_kind_reason")
        if why:
            yield Event(self.stage, LOG, 0, self.config.steps, message=f"scene kind {meta.kind}: {why}")
        for note in meta.extra.get("notes", []):
            yield Event(self.stage, LOG, 0, self.config.steps, message=note)
        state = self.resume_state()
        if state is not None:
            self.model = model_from_record(state["model"], self.device).train()
            self.teacher_id = state["teacher_id"]
            self.optimisation = TeacherOptimisation(self.model, self.config, self.dataset)
            self.optimisation.restore(self.start_step)
            self.optimisation.optimizer.load_state_dict(state["optimizer"])
        else:
            self.model = self.seeded_init(lambda: build_teacher(self.config, self.dataset)).to(self.device).train()
            self.teacher_id = uuid.uuid4().hex
            self.optimisation = TeacherOptimisation(self.model, self.config, self.dataset)
            message = self.optimisation.begin()
            if message:
                yield Event(self.stage, LOG, 0, self.config.steps, message=message)
        self.views = SplitViews(self.dataset.split("train"))
        val = self.dataset.split("val")
        self.val_index = validation_views(val, self.config.val_views)
        self.val = val

    def learning_rate(self, step: int) -> float:
        return self.optimisation.rates(step)[0]

    def train_step(self, step: int):
        opt = self.optimisation
        set_learning_rates(opt.optimizer, opt.rates(step))
        batch = self.views.sample(self.config.batch_rays, self.generator).to(self.device)
        codes = {"image": batch.image} if getattr(self.model.config, "appearance_codes", 0) else {}
        output = self.model(batch.origins, batch.directions, randomize=True, generator=self.generator, **codes)
        loss = opt.loss(output, batch.rgb)
        opt.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        opt.optimizer.step()
        message = opt.after_step(step + 1)
        if message:
            self.logs.append(message)
        return float(output.rgb.detach().sub(batch.rgb).pow(2).mean()), len(batch)

    def pending_logs(self) -> list[str]:
        logs, self.logs = self.logs, []
        return logs

    def finished_early(self, step: int) -> str | None:
        """Settled (`settle_db`): the best validation PSNR rose by less than settle_db over the last val_every
        steps, both ends of that span at the grid's final size."""
        cfg = self.config
        grown = max(cfg.upsample_steps, default=0) if cfg.kind == "grid" else 0
        if not cfg.settle_db or step - cfg.val_every < grown:
            return None
        before = [psnr_value for at, psnr_value in self.validations if at <= step - cfg.val_every]
        if not before or not math.isfinite(self.validations[-1][1]):  # (a diverged teacher has not settled)
            return None
        gain = max(p for _, p in self.validations) - max(before)
        if not gain < cfg.settle_db:
            return None
        return (f"settled: the best validation PSNR rose {gain:.2f} dB over the last {cfg.val_every} steps (under "
                f"--teacher.settle_db {cfg.settle_db:g}); training ends at step {step} of {cfg.steps}")

    @torch.no_grad()
    def validate(self, step: int):
        self.model.eval()
        scores, preview = [], None
        chunk = rays_per_call(self.model, self.device, 8192)
        try:
            for i in self.val_index:
                out = render_image(self.model, self.val.poses[i].to(self.device), self.val.intrinsics_of(i), chunk,
                                   stop=self.ctx.stop)
                scores.append(psnr(out.rgb, self.val.images[i]))
                if preview is None:
                    preview = small_preview(torch.cat([out.rgb, self.val.images[i]], dim=1))
        finally:
            self.model.train()
        return {"val_psnr": sum(scores) / len(scores)}, preview

    def save(self, step: int, complete: bool) -> None:
        scene = self.ctx.scene() or new_scene(self.dataset)
        if scene.teacher is not None and scene.teacher.get("id") != self.teacher_id:
            scene.history.append({"stage": "teacher", "event": "replaced", "old_id": scene.teacher.get("id")})
        scene.teacher = model_entry(
            self.model, step=step, total_steps=self.config.steps, complete=complete, id=self.teacher_id,
            seconds=round(self.elapsed, 1),
            val_psnr=self.last_metrics.get("val_psnr"),
        )
        if complete:
            add_history(scene, self.stage, step, self.last_metrics, seconds=round(self.elapsed, 1))
        self.ctx.save_scene(scene)
        if not complete:
            self.ctx.workspace.save_state(self.stage, self.base_state(step) | {
                "model": model_entry(self.model),
                "optimizer": self.optimisation.optimizer.state_dict(),
                "teacher_id": self.teacher_id,
            })

    def summary(self) -> str:
        psnr_value = self.last_metrics.get("val_psnr")
        text = f"teacher trained in {self.took()}" + (f", validation PSNR {psnr_value:.2f} dB" if psnr_value else "")
        return text + (f" (settled at step {self.current_step} of {self.config.steps})" if self.settled else "")
