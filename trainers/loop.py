"""The training loop every job shares: steps, progress, validation, saving, stop and resume, on one screen."""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Iterator

import torch

from r2l_viewer.core.config import to_dict

from .events import DONE, LOG, PROGRESS, SAVED, STOPPED, VALIDATION, Event, RateMeter
from .scene_io import model_entry
from .workspace import JobError, RunContext

REPORT_SECONDS = 0.25  # progress events at most this often


class TrainingJob(ABC):
    """A job that optimises one model for `config.steps` steps. Subclasses say how to set up, step, validate
    and save; `run` is the loop. All randomness comes from `self.generator`, which is saved for resume."""

    stage: str = "train"

    def __init__(self, config, ctx: RunContext):
        self.config = config
        self.ctx = ctx
        self.device = ctx.torch_device
        self.generator = torch.Generator().manual_seed(ctx.seed)
        self.start_step = 0
        self.elapsed = 0.0
        self.last_metrics: dict = {}

    # ---- what each job provides -------------------------------------------------------------------------
    @abstractmethod
    def setup(self) -> Iterator[Event]:
        """Load data and build the model and optimiser (fresh or from `resume_state`); may yield log events."""

    @abstractmethod
    def train_step(self, step: int) -> tuple[float, int] | None:
        """One optimisation step: (loss, rays used), or None when the stop flag interrupted it (not applied)."""

    @abstractmethod
    def validate(self, step: int) -> tuple[dict, object]:
        """Metrics (a dict of numbers, the first one the headline PSNR) and a preview image (or None)."""

    @abstractmethod
    def save(self, step: int, complete: bool) -> None:
        """Write the model into the scene checkpoint (and, unless complete, the resume state)."""

    @abstractmethod
    def learning_rate(self, step: int) -> float:
        """The learning rate at a step (reported in progress events)."""

    def pending_logs(self) -> list[str]:
        """Messages the last step produced (e.g. the grid grew); none by default."""
        return []

    def trained_model(self):
        """The model this job optimises (None before setup)."""
        student = getattr(self, "student", None)
        return student if student is not None else getattr(self, "model", None)

    def seeded_init(self, build):
        """Build a model with its initial weights drawn from the run's seed, so reruns start identically."""
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.ctx.seed)
            return build()

    def model_snapshot(self) -> dict | None:
        """A detached copy of the model being trained, as a plain record (None before setup)."""
        model = self.trained_model()
        return None if model is None else model_entry(model)

    # ---- resume -----------------------------------------------------------------------------------------
    def resume_state(self) -> dict | None:
        """The saved state of an interrupted run of this job, when --resume is given; checked to match."""
        if not self.ctx.resume:
            return None
        state = self.ctx.workspace.load_state(self.stage)
        if state is None:
            return None
        saved, now = state.get("config", {}), to_dict(self.config)
        if saved != now:
            changed = sorted(k for k in set(saved) | set(now) if saved.get(k) != now.get(k))
            raise JobError(
                f"the saved {self.stage} state was made with other settings ({', '.join(changed)}); "
                "run with the same settings to resume, or without --resume to start over"
            )
        self.generator.set_state(state["generator"])
        self.start_step, self.elapsed = int(state["step"]), float(state.get("elapsed", 0.0))
        return state

    def base_state(self, step: int) -> dict:
        """The parts of a resume state every job has; jobs add their model and optimiser."""
        return {
            "step": step,
            "config": to_dict(self.config),
            "generator": self.generator.get_state(),
            "elapsed": self.elapsed,
        }

    # ---- the loop -----------------------------------------------------------------------------------------
    def run(self) -> Iterator[Event]:
        yield from self.setup()
        total = self.config.steps
        if self.start_step:
            yield Event(self.stage, LOG, self.start_step, total, message=f"resuming at step {self.start_step}")
        meter, last_report, started = RateMeter(), 0.0, time.perf_counter() - self.elapsed
        step = self.start_step
        while step < total:
            if self.ctx.stop.is_set():
                yield from self._stop(step, started)
                return
            result = self.train_step(step)
            if result is None:
                continue  # interrupted mid-step: the loop sees the stop flag next
            loss, rays = result
            step += 1
            meter.update(rays)
            for message in self.pending_logs():
                yield Event(self.stage, LOG, step, total, message=message)
            self.elapsed = time.perf_counter() - started
            if time.perf_counter() - last_report > REPORT_SECONDS or step == total:
                last_report = time.perf_counter()
                yield self._progress(step, total, loss, meter)
            if self.config.val_every and step % self.config.val_every == 0 and step < total:
                yield self._validation(step, total)
                meter.restart()
            if step % self.config.save_every == 0 and step < total:
                self.save(step, complete=False)
                yield Event(self.stage, SAVED, step, total, message=f"saved at step {step}")
                meter.restart()
        yield self._validation(step, total)
        self.save(step, complete=True)
        self.ctx.workspace.drop_state(self.stage)
        done = Event(self.stage, DONE, step, total, metrics=self.last_metrics, message=self.summary())
        self.ctx.workspace.log(done)
        yield done

    def summary(self) -> str:
        return f"{self.stage} done in {self.elapsed:.0f} s"

    def _progress(self, step, total, loss, meter) -> Event:
        psnr = -10.0 * torch.log10(torch.tensor(max(loss, 1e-12))).item()
        return Event(
            self.stage, PROGRESS, step, total, loss=loss, psnr=psnr, lr=self.learning_rate(step),
            rays_per_s=meter.rate, eta_s=meter.eta(total - step),
        )

    def _validation(self, step, total) -> Event:
        metrics, preview = self.validate(step)
        self.last_metrics = metrics
        event = Event(self.stage, VALIDATION, step, total, preview=preview, metrics=metrics)
        self.ctx.workspace.log(event)
        return event

    def _stop(self, step, started) -> Iterator[Event]:
        self.elapsed = time.perf_counter() - started
        self.save(step, complete=False)
        event = Event(self.stage, STOPPED, step, self.config.steps, message=f"stopped at step {step}; saved")
        self.ctx.workspace.log(event)
        yield event
