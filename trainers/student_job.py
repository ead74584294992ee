"""What distillation and finetuning share: micro-batched student steps, hard examples, validation, saving."""

from __future__ import annotations

import torch

from r2l_viewer.core.metrics import psnr
from r2l_viewer.core.precision import autocast
from r2l_viewer.core.render import render_image

from .events import small_preview
from .hard_examples import HardExamplePool
from .loop import TrainingJob
from .responsive import rays_per_call
from .scene_io import add_history, model_entry, stage_text
from .teacher_job import validation_views
from .views import RayBatch

MICRO_BATCH_CPU = 8192  # rays per forward/backward on a CPU at most (fewer for big students, see rays_per_call)
RENDER_CHUNK = 8192  # rays per call when rendering validation views (fewer on a CPU for big models)
POOL_BATCHES = 8  # the hard-example pool holds this many batches' worth of hard rays


def student_optimizer(student, lr: float, grid_lr: float) -> torch.optim.Adam:
    """Adam over the student: its MLP at `lr`, a learned encoding's features (if any) at `grid_lr`. Each group's
    `lr_scale` keeps the ratio when a schedule sets the rates (see StudentJob.train_step)."""
    groups = [{"params": student.network_parameters(), "lr_scale": 1.0}]
    if student.grid_parameters():
        groups.append({"params": student.grid_parameters(), "lr_scale": grid_lr / lr})
    return torch.optim.Adam(groups, lr=lr, betas=(0.9, 0.999))


def describe_student(record: dict) -> str:
    """A student record in a few words: its stage, step and validation PSNR."""
    stage = stage_text(record)
    parts = [stage] if "stopped at step" in stage else [stage or "student", f"step {record.get('step')}"]
    if record.get("val_psnr") is not None:
        parts.append(f"validation PSNR {record['val_psnr']:.2f} dB")
    return ", ".join(parts)


class StudentJob(TrainingJob):
    """A student optimisation job. Subclasses set `self.student`, `self.source` (a ViewSet), `self.optimizer`,
    `self.val` (a split), `self.val_index` and optionally `self.teacher_renders` and `self.teacher_depths` (the
    teacher's colour and depth of the validation views)."""

    stage_name = "distilled"
    teacher_renders: list[torch.Tensor] | None = None
    teacher_depths: list[torch.Tensor] | None = None

    @property
    def learns_depth(self) -> bool:
        """Whether the student carries depth and the job's depth loss is on (its batches then hold depths)."""
        return bool(self.student.config.depth and self.config.depth_weight > 0)

    def depth_error(self, out, part) -> torch.Tensor | float:
        """Per ray: depth_weight x the squared gap between the student's and the target depth, both as fractions
        of near..far (the weight means the same in every scene); 0 without depth."""
        if part.depth is None or out.depth is None:
            return 0.0
        student = self.student
        gap = student.depth_fraction(out.depth.float()) - student.depth_fraction(part.depth)
        return self.config.depth_weight * gap.pow(2)

    def make_pool(self, hard_rays: int) -> HardExamplePool:
        return HardExamplePool(hard_rays * POOL_BATCHES if hard_rays else 0)

    def micro_batch(self, n: int) -> int:
        """Rays per forward/backward: the whole batch on a GPU; on a CPU few enough that one takes well under a
        second (the stop flag is checked between them)."""
        if self.device.type == "cuda":
            return n
        if getattr(self, "_micro_rays", None) is None:
            self._micro_rays = rays_per_call(self.student, self.device, MICRO_BATCH_CPU, training=True)
        return min(n, self._micro_rays)

    def train_step(self, step: int):
        cfg = self.config
        for group in self.optimizer.param_groups:
            group["lr"] = self.learning_rate(step) * group.get("lr_scale", 1.0)
        random_state = self.generator.get_state()  # an interrupted step is replayed exactly on resume
        fresh = self.source.sample(cfg.batch_rays, self.generator, depth=self.learns_depth)
        hard = self.pool.sample(getattr(cfg, "hard_rays", 0), self.generator)
        batch = (RayBatch.cat([fresh, hard]) if hard is not None else fresh).to(self.device)
        self.optimizer.zero_grad(set_to_none=True)
        total, errors, size = 0.0, [], self.micro_batch(len(batch))
        for start in range(0, len(batch), size):
            if self.ctx.stop.is_set():
                self.optimizer.zero_grad(set_to_none=True)
                self.generator.set_state(random_state)
                return None
            part = batch.select(slice(start, start + size))
            with autocast(self.device, cfg.precision):  # bf16 matrix products; the loss in fp32
                out = self.student(part.origins, part.directions, randomize=True, generator=self.generator)
            error = (out.rgb.float() - part.rgb).pow(2).mean(dim=-1)
            loss = (error + self.depth_error(out, part)).sum() / len(batch)
            loss.backward()
            total += float(error.detach().sum()) / len(batch)  # the colour loss: progress shows it as PSNR
            errors.append(error.detach())
        self.optimizer.step()
        hard_fraction = getattr(cfg, "hard_fraction", 0.0)
        if hard_fraction and self.pool.capacity:
            self.pool.add(fresh, torch.cat(errors)[: len(fresh)].cpu(), hard_fraction)
        return total, len(batch)

    @torch.no_grad()
    def validate(self, step: int):
        self.student.eval()
        real, versus_teacher, depth_errors, preview = [], [], [], None
        chunk = rays_per_call(self.student, self.device, RENDER_CHUNK)
        try:
            for k, i in enumerate(self.val_index):
                rendered = render_image(self.student, self.val.poses[i].to(self.device), self.val.intrinsics_of(i),
                                        chunk, stop=self.ctx.stop)
                out = rendered.rgb
                if rendered.depth is not None and self.teacher_depths is not None:
                    depth_errors.append(float((rendered.depth - self.teacher_depths[k]).abs().mean()))
                real.append(psnr(out, self.val.images[i]))
                reference = self.val.images[i]
                if self.teacher_renders is not None:
                    versus_teacher.append(psnr(out, self.teacher_renders[k]))
                    reference = self.teacher_renders[k]
                if preview is None:
                    preview = small_preview(torch.cat([out, reference], dim=1))
        finally:
            self.student.train()
        metrics = {"val_psnr": sum(real) / len(real)}
        if versus_teacher:
            metrics["teacher_psnr"] = sum(versus_teacher) / len(versus_teacher)
        if depth_errors:  # mean absolute depth error against the teacher, in the ray parameter's units
            metrics["depth_mae"] = sum(depth_errors) / len(depth_errors)
        return metrics, preview

    def choose_validation_views(self, dataset) -> None:
        self.val = dataset.split("val")
        self.val_index = validation_views(self.val, self.config.val_views)

    def resume_student_state(self, state: dict) -> None:
        self.optimizer.load_state_dict(state["optimizer"])
        self.pool.load_state_dict(state["pool"])

    def student_state(self, step: int) -> dict:
        return self.base_state(step) | {
            "model": model_entry(self.student),
            "optimizer": self.optimizer.state_dict(),
            "pool": self.pool.state_dict(),
        }

    def store_student(self, model, step: int, complete: bool, **info) -> None:
        """Put a student into the scene checkpoint with its stage and validation figures."""
        scene = self.ctx.require_scene("teacher")
        if "views" not in info and scene.student is not None:  # finetuning keeps the views it was distilled on
            info["views"] = scene.student.get("views")
        scene.student = model_entry(
            model, stage=self.stage_name, step=step, total_steps=self.config.steps, complete=complete,
            teacher_id=scene.teacher.get("id"),
            seconds=round(self.elapsed, 1), **{k: round(v, 4) for k, v in self.last_metrics.items()}, **info,
        )
        if complete:
            add_history(scene, self.stage, step, self.last_metrics, seconds=round(self.elapsed, 1))
        self.ctx.save_scene(scene)
