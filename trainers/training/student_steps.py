"""What distillation and finetuning share: micro-batched student steps, hard examples, validation, saving."""

from __future__ import annotations

import contextlib
from abc import abstractmethod

import torch
from torch.nn.parallel import DistributedDataParallel

from r2l_viewer.core.metrics import psnr
from r2l_viewer.core.model_text import stage_text
from r2l_viewer.core.precision import autocast
from r2l_viewer.core.render import RenderInterrupted, render_image

from trainers.training.adam import adam
from trainers.training.gradient_guard import WARMUP_STEPS, GradientGuard
from trainers.events import small_preview
from trainers.training.loop import TrainingJob
from trainers.training.ray_streams import RayStream, make_streams, per_stream, saved_streams, stream_count
from trainers.training.responsive import rays_per_call
from trainers.storage.scene_io import add_history, model_entry
from trainers.training.views import RayBatch, validation_views

MICRO_BATCH_CPU = 8192  # rays per forward/backward on a CPU at most (fewer for big students, see rays_per_call)
RENDER_CHUNK = 8192  # rays per call when rendering validation views (fewer on a CPU for big models)


def student_optimizer(student, lr: float, grid_lr: float) -> torch.optim.Adam:
    """Adam over the student: its MLP at `lr`, a learned encoding's features (if any) at `grid_lr`. Each group's
    `lr_scale` keeps the ratio when a schedule sets the rates (see StudentJob.train_step)."""
    groups = [{"params": student.network_parameters(), "lr_scale": 1.0}]
    if student.grid_parameters():
        groups.append({"params": student.grid_parameters(), "lr_scale": grid_lr / lr})
    return adam(groups, lr=lr, betas=(0.9, 0.999))


def describe_student(record: dict) -> str:
    """A student record in a few words: its stage, step and validation PSNR."""
    stage = stage_text(record)
    parts = [stage] if "stopped at step" in stage else [stage or "student", f"step {record.get('step')}"]
    if record.get("val_psnr") is not None:
        parts.append(f"validation PSNR {record['val_psnr']:.2f} dB")
    return ", ".join(parts)


class StudentJob(TrainingJob):
    """A student optimisation job. Subclasses set `self.student`, `self.source` (a ViewSet), `self.optimizer`,
    `self.val` (a split), `self.val_index`, optionally `self.teacher_renders`, and call `make_streams` in setup.

    Under torchrun every rank runs the same steps on its own ray streams (see ray_streams) through
    DistributedDataParallel, which averages the gradients: each rank's loss is the mean over its own rays, and
    as every rank draws the same number, their average is the mean over the global batch, as on one process.
    Validation views are shared out between the ranks and their PSNRs summed; rank 0 alone writes.
    `self.teacher_depths` (optional) holds the teacher's depth of the validation views, as `teacher_renders` its
    colour."""

    stage_name = "distilled"
    free_on_resume = ("outlier_limit",)  # the guard may be turned on or off for the rest of an interrupted run
    teacher_renders: list[torch.Tensor] | None = None
    teacher_depths: list[torch.Tensor] | None = None
    _parallel = None  # the student wrapped in DistributedDataParallel (several ranks only)

    @property
    def learns_depth(self) -> bool:
        """Whether the student carries depth and the job's depth loss is on (its batches then hold depths)."""
        return bool(self.student.config.depth and self.config.depth_weight > 0)

    def depth_error(self, out, part) -> torch.Tensor | float:
        """Per ray: depth_weight x the squared gap between the student's and the target depth, both as fractions
        of near..far (the weight means the same in every scene); 0 without depth."""
        if part.depth is None or out.depth is None:
            return 0.0
        gap = self.student.depth_fraction(out.depth.float()) - self.student.depth_fraction(part.depth)
        return self.config.depth_weight * gap.pow(2)

    def make_streams(self, hard_rays: int, state: dict | None) -> None:
        """This rank's ray streams, restored from `state` when resuming (see ray_streams)."""
        ranks, flag = self.ctx.ranks, f"--{self.stage}"
        saved = saved_streams(state) if state is not None else None
        count = stream_count(self.config.ray_streams, len(saved) if saved else None, ranks.world, f"{flag}.ray_streams")
        self.fresh_rays = per_stream(self.config.batch_rays, count, f"{flag}.batch_rays")
        self.hard_rays = per_stream(hard_rays, count, f"{flag}.hard_rays")
        self.streams = make_streams(self.ctx.seed, count, ranks.rank, ranks.world, self.hard_rays, self.generator)
        for stream in self.streams if saved else ():
            stream.load(saved[stream.index])

    def micro_batch(self, n: int) -> int:
        """Rays per forward/backward: the whole batch on a GPU; on a CPU few enough that one takes well under a
        second (the stop flag is checked between them)."""
        if self.device.type == "cuda":
            return n
        if getattr(self, "_micro_rays", None) is None:
            self._micro_rays = rays_per_call(self.student, self.device, MICRO_BATCH_CPU, training=True)
        return min(n, self._micro_rays)

    def trainer(self) -> torch.nn.Module:
        """The model the steps run: the student, wrapped in DistributedDataParallel when several ranks train it
        (every parameter gets a gradient every step; its buffers are constants, so they are not synchronised at
        each forward)."""
        ranks = self.ctx.ranks
        if not ranks.active:
            return self.student
        if self._parallel is None:
            with ranks.watch("setting up the shared student"):
                ids = [self.device.index] if self.device.type == "cuda" else None
                self._parallel = DistributedDataParallel(self.student, device_ids=ids, forward_sync_buffers=False)
        return self._parallel

    def _draw(self, stream: RayStream) -> tuple[RayBatch, RayBatch]:
        """A stream's fresh rays and its whole batch (fresh and hard rays) on the device."""
        fresh = self.source.sample(self.fresh_rays, stream.generator, depth=self.learns_depth)
        hard = stream.pool.sample(self.hard_rays, stream.generator)
        return fresh, (RayBatch.cat([fresh, hard]) if hard is not None else fresh).to(self.device)

    def train_step(self, step: int):
        cfg = self.config
        for group in self.optimizer.param_groups:
            group["lr"] = self.learning_rate(step) * group.get("lr_scale", 1.0)
        random_states = [s.generator.get_state() for s in self.streams]  # an interrupted step is replayed exactly
        draws = [self._draw(stream) for stream in self.streams]
        parts = self._micro_batches([batch for _, batch in draws])
        rays = sum(len(batch) for _, batch in draws)
        self.optimizer.zero_grad(set_to_none=True)
        model, total, errors = self.trainer(), 0.0, [[] for _ in self.streams]
        for n, (k, part) in enumerate(parts):
            if self.stop_agreed():
                self.optimizer.zero_grad(set_to_none=True)
                for stream, state in zip(self.streams, random_states):
                    stream.generator.set_state(state)
                return None
            colour_loss, error = self._forward_backward(model, part, self.streams[k].generator, rays,
                                                        n == len(parts) - 1)
            total += colour_loss
            errors[k].append(error.detach())
        self.note_outlier(step, self.guard(self.student.parameters()))
        self.optimizer.step()
        hard_fraction = getattr(cfg, "hard_fraction", 0.0)
        for stream, (fresh, _), stream_errors in zip(self.streams, draws, errors):
            if hard_fraction and stream.pool.capacity:
                stream.pool.add(fresh, torch.cat(stream_errors)[: len(fresh)].cpu(), hard_fraction)
        ranks = self.ctx.ranks
        if ranks.active:
            total = ranks.sum([total])[0] / ranks.world
        return total, rays * ranks.world

    @property
    def guard(self) -> GradientGuard:
        """This run's outlier guard (`outlier_limit` of the job's config, read at each use: a resumed run may set
        another); it judges no step during the learning rate's warm-up."""
        if getattr(self, "_guard", None) is None:
            warmup = max(WARMUP_STEPS, getattr(self.config, "warmup_steps", 0))
            self._guard = GradientGuard(self.config.outlier_limit, warmup)
        self._guard.limit = float(self.config.outlier_limit)
        return self._guard

    def note_outlier(self, step: int, ratio: float | None) -> None:
        """A log line for a step whose gradient the guard scaled down."""
        if ratio is None:
            return
        flag = f"--{self.stage}.outlier_limit"
        self._notes = getattr(self, "_notes", []) + [
            f"step {step + 1}: its gradient was {ratio:.1f}x the running average, over the limit of "
            f"{self.guard.limit:g}x: scaled down, the learning rate now {self.guard.rate_factor:g}x the schedule's "
            f"(a loss spike was starting; {flag} sets the limit, 0 turns the guard off)"]

    @abstractmethod
    def scheduled_rate(self, step: int) -> float:
        """The learning rate the job's schedule gives step `step`."""

    def learning_rate(self, step: int) -> float:
        """The schedule's rate at `step`, times the guard's factor (1 until it met an outlier, and while it is off)."""
        return self.scheduled_rate(step) * self.guard.learning_rate_factor

    def pending_logs(self) -> list[str]:
        notes, self._notes = getattr(self, "_notes", []), []
        return notes

    def _micro_batches(self, batches: list[RayBatch]) -> list[tuple[int, RayBatch]]:
        """(stream position, rays) of each forward/backward: every stream's batch in micro-batches, in order."""
        parts = []
        for k, batch in enumerate(batches):
            size = self.micro_batch(len(batch))
            parts += [(k, batch.select(slice(start, start + size))) for start in range(0, len(batch), size)]
        return parts

    def _forward_backward(self, model, part: RayBatch, generator, rays: int, last: bool):
        """One micro-batch: its share of the colour loss (squared error summed over its rays / this rank's `rays`:
        progress shows it as PSNR) and its rays' colour errors; the gradients, of the colour and the depth loss, are
        accumulated, and averaged over the ranks with the `last` one."""
        quiet = model.no_sync() if isinstance(model, DistributedDataParallel) and not last else contextlib.nullcontext()
        with quiet:
            # DDP's forward may talk to the other ranks first (its buckets are rebuilt after the first steps);
            # autocast: bf16 matrix products, the loss below in fp32
            with self.ctx.ranks.watch("starting a step"), autocast(self.device, self.config.precision):
                out = model(part.origins, part.directions, randomize=True, generator=generator)
            error = (out.rgb.float() - part.rgb).pow(2).mean(dim=-1)
            loss = (error + self.depth_error(out, part)).sum() / rays
            with self.ctx.ranks.watch("averaging the gradients"):
                loss.backward()
        return float(error.detach().sum()) / rays, error

    @torch.no_grad()
    def validate(self, step: int):
        """Each rank renders its share of the validation views; the PSNRs are summed over the ranks. A stop during
        the renders stops every rank (RenderInterrupted)."""
        self.student.eval()
        real, versus_teacher, depth_errors, preview, interrupted = [], [], [], None, False
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
        except RenderInterrupted:
            if not self.ctx.ranks.active:
                raise
            interrupted = True
        finally:
            self.student.train()
        stop, sums = self.ctx.ranks.agree(interrupted, sum(real), len(real), sum(versus_teacher), len(versus_teacher),
                                          sum(depth_errors), len(depth_errors))
        if stop:
            raise RenderInterrupted("render stopped")
        metrics = {"val_psnr": sums[0] / sums[1]}
        if sums[3]:
            metrics["teacher_psnr"] = sums[2] / sums[3]
        if sums[5]:  # mean absolute depth error against the teacher, in the ray parameter's units
            metrics["depth_mae"] = sums[4] / sums[5]
        return metrics, preview

    def choose_validation_views(self, dataset) -> None:
        """The validation views: this rank's share of them (all of them on one process)."""
        self.val = dataset.split("val")
        ranks = self.ctx.ranks
        self.val_index = validation_views(self.val, self.config.val_views)[ranks.rank::ranks.world]

    def resume_student_state(self, state: dict) -> None:
        self.optimizer.load_state_dict(state["optimizer"])
        self.guard.load_state_dict(state.get("gradient_guard"))  # (none in states saved before the guard)

    def student_state(self, step: int) -> dict | None:
        """The resume state, with every rank's ray streams (a collective); None on ranks other than 0."""
        gathered = self.ctx.ranks.gather([stream.state() for stream in self.streams])
        if gathered is None:
            return None
        streams = [state for rank_states in gathered for state in rank_states]
        state = self.base_state(step) | {
            "model": model_entry(self.student),
            "optimizer": self.optimizer.state_dict(),
            "pool": streams[0]["pool"],
            "gradient_guard": self.guard.state_dict(),
        }
        if len(streams) > 1:
            state["streams"] = streams
        return state

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
