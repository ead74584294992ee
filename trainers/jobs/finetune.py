"""Job: finetune the distilled student on the real training images, keeping the best step by validation PSNR; a
student with depth keeps learning the teacher's depth of those views."""

from __future__ import annotations

import copy
from collections.abc import Iterator

import torch

from r2l_viewer.core.models import model_from_record
from r2l_viewer.core.models.base import pixel_offset
from r2l_viewer.core.render import render_rays

from trainers.configs import FinetuneConfig
from trainers.events import LOG, Event
from trainers.training.responsive import rays_per_call
from trainers.storage.scene_io import model_entry
from trainers.training.student_steps import RENDER_CHUNK, StudentJob, describe_student, student_optimizer
from trainers.training.views import SplitViews
from trainers.storage.workspace import RunContext


def depth_maps(model, views: SplitViews, device, stop) -> torch.Tensor:
    """Depth maps [N, H, W] (float16, on the CPU, as pseudo data holds them) that `model` renders for every view
    of `views`, through each view's own camera (each pixel's ray where in the pixel the model puts it); stops
    between chunks when `stop` is set (RenderInterrupted)."""
    chunk = rays_per_call(model, device, RENDER_CHUNK)
    maps = torch.empty(len(views), views.height, views.width, dtype=torch.float16)
    for image in range(len(views)):
        origins, directions = views.pixel_rays(image, pixel_offset(model))
        depth = render_rays(model, origins, directions, chunk, stop=stop).depth
        maps[image] = depth.reshape(views.height, views.width).to(torch.float16)
    return maps


class Finetune(StudentJob):
    stage = "finetune"
    stage_name = "finetuned"

    def __init__(self, config: FinetuneConfig, ctx: RunContext):
        super().__init__(config, ctx)
        self.before = None
        self.best_psnr, self.best_step, self.best = float("-inf"), 0, None

    def finished_note(self) -> str | None:
        scene = self.ctx.scene()
        student = scene.student if scene is not None else None
        if student is None or not student.get("complete") or student.get("stage") != self.stage_name:
            return None
        return (f"{self.ctx.workspace.checkpoint.name}: finetuning already finished ({describe_student(student)}); "
                "nothing to resume")

    def setup(self) -> Iterator[Event]:
        scene = self.ctx.require_scene("student")
        state = self.resume_state()
        self.student = model_from_record(state["model"] if state else scene.student, self.device).train()
        self.optimizer = student_optimizer(self.student, self.config.lr, self.config.grid_lr)
        self.make_streams(0, state)
        dataset = self.ctx.dataset(("train", "val"))
        self.source = SplitViews(dataset.split("train"))
        self.choose_validation_views(dataset)
        if self.learns_depth:
            yield from self._depth_targets(scene)
        if state is not None:
            self.resume_student_state(state)
            self.best = model_from_record(state["best"], self.device)
            self.before, self.best_psnr, self.best_step = state["before"], state["best_psnr"], state["best_step"]
            return
        metrics, _ = self.validate(0)
        self.before = metrics["val_psnr"]
        yield Event(self.stage, LOG, 0, self.config.steps, metrics=metrics,
                    message=f"before finetuning: {self.before:.2f} dB on the validation views")

    def _depth_targets(self, scene) -> Iterator[Event]:
        """Real images have no depth: the teacher's depth of the training views (the student's own before
        finetuning when the scene has no teacher) keeps the student's depth from drifting while it learns colour."""
        by_teacher = scene.teacher is not None
        source = "the teacher" if by_teacher else "the student as finetuning starts (the scene has no teacher)"
        yield Event(self.stage, LOG, self.start_step, self.config.steps,
                    message=f"rendering depth targets of {len(self.source)} training views with {source}")
        model = scene.build_teacher(self.device) if by_teacher else copy.deepcopy(self.student).eval()
        self.source.depth_maps = depth_maps(model, self.source, self.device, self.ctx.stop)

    def scheduled_rate(self, step: int) -> float:
        return self.config.lr

    def validate(self, step: int):
        metrics, preview = super().validate(step)
        if metrics["val_psnr"] > self.best_psnr:
            self.best_psnr, self.best_step = metrics["val_psnr"], step
            self.best = copy.deepcopy(self.student).eval()
        return metrics | {"best_psnr": self.best_psnr}, preview

    def save(self, step: int, complete: bool) -> None:
        self.last_metrics = {"val_psnr": self.best_psnr, "before_psnr": self.before}
        state = None if complete else self.student_state(step)  # (on every rank: it collects their ray streams)
        if not self.ctx.ranks.leader:
            return
        self.store_student(self.best, step, complete, best_step=self.best_step)
        if state is not None:
            self.ctx.workspace.save_state(self.stage, state | {
                "best": model_entry(self.best), "before": self.before,
                "best_psnr": self.best_psnr, "best_step": self.best_step,
            })

    def summary(self) -> str:
        gain = self.best_psnr - self.before
        return (f"finetuned in {self.took()}: {self.before:.2f} -> {self.best_psnr:.2f} dB on the validation "
                f"views ({gain:+.2f} dB, best at step {self.best_step})")
