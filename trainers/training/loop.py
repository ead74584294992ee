"""The training loop every job shares: steps, progress, validation, saving, stop and resume, on one screen."""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Iterator

import torch

from r2l_viewer.core.checkpoint import CheckpointError
from r2l_viewer.core.config import to_dict, validate
from r2l_viewer.core.render import RenderInterrupted

from trainers.events import DONE, LOG, PROGRESS, SAVED, STOPPED, VALIDATION, Event, RateMeter
from trainers.storage.resume import resumable_note, resumed_config, resumed_run
from trainers.storage.scene_io import model_entry
from trainers.errors import JobError
from trainers.storage.workspace import RunContext, describe_os_error

REPORT_SECONDS = 0.25  # progress events at most this often
PREVIEW_SECONDS = 5.0  # a progress event carries the last validation preview at most this often


def duration_text(seconds: float) -> str:
    """'54 s', '3 min 12 s' or '1 h 02 min'."""
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    minutes, rest = divmod(seconds, 60)
    return f"{minutes} min {rest:02d} s" if minutes < 60 else f"{minutes // 60} h {minutes % 60:02d} min"


class TrainingJob(ABC):
    """A job that optimises one model for `config.steps` steps. Subclasses say how to set up, step, validate
    and save; `run` is the loop. All randomness comes from `self.generator`, which is saved for resume.

    Under torchrun every rank runs this loop in step: the stop flag is read through a collective (`stop_agreed`),
    so all ranks stop, validate and save at the same steps."""

    stage: str = "train"
    free_on_resume: tuple = ()  # settings a resumed run may change from the interrupted one's (the given value wins)

    def __init__(self, config, ctx: RunContext):
        validate(config)
        self.config = config
        self.ctx = ctx
        self.device = ctx.torch_device
        self.generator = torch.Generator().manual_seed(ctx.seed)
        self.start_step = 0
        self.elapsed = 0.0
        self.last_metrics: dict = {}
        self.last_preview = None
        self.validation_pending = False  # stopped during a validation: the resumed run does it first
        self.validations: list[tuple[int, float]] = []  # (step, headline PSNR) of every validation so far
        self.settled: str | None = None  # why the job ended before its last step (`finished_early`), if it did
        self.current_step = self.last_saved = 0
        self._preview_sent = float("-inf")
        self._started: float | None = None
        self._last_report = 0.0
        self._state: dict | None = None
        self._state_loaded = False
        self.run_began = time.perf_counter()  # (reset when the run starts)
        self.replaced_step = 0  # starting over: the step an interrupted run of this job is saved at (0: none)

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
        """Write the model into the scene checkpoint (and, unless complete, the resume state). Under torchrun every
        rank calls it at the same step and rank 0 alone writes."""

    @abstractmethod
    def learning_rate(self, step: int) -> float:
        """The learning rate step `step` uses (reported in progress events)."""

    def finished_note(self) -> str | None:
        """When the scene already holds this job's finished result: a line saying so (`--resume` with nothing
        to resume then does nothing); None otherwise."""
        return None

    def pending_logs(self) -> list[str]:
        """Messages the last step produced (e.g. the grid grew); none by default."""
        return []

    def finished_early(self, step: int) -> str | None:
        """After a validation at `step`: why training need not go on (the job then ends there, finished), or None
        to go on. Never, by default."""
        return None

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
        """The saved state of an interrupted run of this job, when --resume is given. The run continues with the
        saved settings except those the user gave (a given one that differs is refused, naming both values).
        Loaded once; restores the step and the random stream."""
        if self._state_loaded:
            return self._state
        self._state_loaded = True
        if not self.ctx.resume:
            return None
        state = self.ctx.workspace.load_state(self.stage)
        if state is None:
            return None
        if "run" in state:  # (states saved before run settings were recorded are checked on their config only)
            resumed_run(self.stage, self.ctx, state["run"])
        self.config = resumed_config(self.stage, self.config, state.get("config", {}), self.ctx.given,
                                     free=self.free_on_resume)
        self.generator.set_state(state["generator"])
        self.start_step, self.elapsed = int(state["step"]), float(state.get("elapsed", 0.0))
        self.current_step = self.last_saved = self.start_step
        self.validation_pending = bool(state.get("validation_pending", False))
        self.validations = [(int(s), float(p)) for s, p in state.get("validations", [])]  # (none before they were kept)
        self._state = state
        return state

    def resumable_note(self) -> str | None:
        """When a run starts over while an interrupted one of this job is saved: a note saying how to continue
        that one instead."""
        try:
            state = self.ctx.workspace.load_state(self.stage)
        except CheckpointError:
            return None  # unreadable: nothing that could be continued
        if state is None:
            return None
        self.replaced_step = int(state.get("step", 0))
        total = state.get("config", {}).get("steps", "?")
        return resumable_note(self.stage, self.replaced_step, total, min(self.config.save_every, self.config.steps))

    def base_state(self, step: int) -> dict:
        """The parts of a resume state every job has; jobs add their model and optimiser."""
        return {
            "step": step,
            "config": to_dict(self.config),
            "run": self.ctx.run_settings(),
            "generator": self.generator.get_state(),
            "elapsed": self.elapsed,
            "validation_pending": self.validation_pending,
            "validations": self.validations,
        }

    # ---- the loop -----------------------------------------------------------------------------------------
    def run(self) -> Iterator[Event]:
        self.run_began = time.perf_counter()
        self.ctx.workspace.check_writable()
        if self.resume_state() is None and self.ctx.resume and (note := self.finished_note()):
            yield from self._emit(Event(self.stage, DONE, message=note))
            return
        if not self.ctx.resume and (note := self.resumable_note()):
            yield from self._log(0, note)
        step = self.start_step
        try:
            if not (yield from self._set_up()):
                yield from self._stop(self.current_step)
                return
            if self.start_step:
                yield from self._log(step, f"resuming at step {self.start_step}")
            yield from self._train(step)
        except RenderInterrupted:  # a render in setup or validation saw the stop flag
            yield from self._stop(self.current_step)
        except OSError as exc:
            raise self._failure(describe_os_error(exc)) from None

    def _set_up(self) -> Iterator[Event]:
        """`setup`, returning False when a stop interrupted it (on any rank: they agree, and stop together)."""
        interrupted = False
        try:
            for event in self.setup():
                yield from self._emit(event)
        except RenderInterrupted:  # a render in setup saw the stop flag
            interrupted = True
        return not self.ctx.ranks.any(interrupted)

    def stop_agreed(self) -> bool:
        """Whether to stop now: the stop flag, or under torchrun any rank's stop flag (a collective, so every rank
        takes the same decision at the same point, and a stop anywhere stops all within a micro-batch)."""
        return self.ctx.ranks.any(self.ctx.stop.is_set())

    def _train(self, step: int) -> Iterator[Event]:
        total = self.config.steps
        if self.validation_pending and step < total:  # (at the end, the final validation below is that one)
            yield from self._validation(step, total)
            self.settled = self.finished_early(step)
        meter, self._last_report = RateMeter(), 0.0
        self._started = time.perf_counter() - self.elapsed
        while step < total and not self.settled:
            if self.stop_agreed():
                yield from self._stop(step)
                return
            lr = self.learning_rate(step)
            result = self.train_step(step)
            if result is None:
                continue  # interrupted mid-step: the loop sees the stop flag next
            step = self.current_step = step + 1
            yield from self._after_step(step, total, result, lr, meter)
        if self.settled:
            yield from self._log(step, self.settled)
        else:
            yield from self._validation(step, total)
        self._save(step, complete=True)
        if self.ctx.ranks.leader:
            self.ctx.workspace.drop_state(self.stage)
        yield from self._emit(Event(self.stage, DONE, step, total, metrics=self.last_metrics, message=self.summary()))

    def _after_step(self, step: int, total: int, result: tuple, lr: float, meter: RateMeter) -> Iterator[Event]:
        """Report, validate and save on schedule after a step."""
        loss, rays = result
        meter.update(rays)
        for message in self.pending_logs():
            yield from self._log(step, message)
        self.elapsed = time.perf_counter() - self._started
        if time.perf_counter() - self._last_report > REPORT_SECONDS or step == total:
            self._last_report = time.perf_counter()
            yield from self._emit(self._progress(step, total, loss, lr, meter))
        if self.config.val_every and step % self.config.val_every == 0 and step < total:
            yield from self._validation(step, total)
            self.settled = self.finished_early(step)
            meter.restart()
        if step % self.config.save_every == 0 and step < total and not self.settled:  # (settled: saved complete)
            self._save(step, complete=False)
            yield from self._emit(Event(self.stage, SAVED, step, total, message=f"saved at step {step}"))
            meter.restart()

    def took(self) -> str:
        """How long this run of the stage took, setting up and validations included."""
        resumed = f" (resumed at step {self.start_step})" if self.start_step else ""
        return duration_text(time.perf_counter() - self.run_began) + resumed

    def summary(self) -> str:
        return f"{self.stage} done in {self.took()}"

    def _emit(self, event: Event) -> Iterator[Event]:
        """Yield an event after writing it to the metrics log (and a note if the log cannot be written)."""
        yield from self.ctx.workspace.emit(event)

    def _log(self, step: int, message: str) -> Iterator[Event]:
        yield from self._emit(Event(self.stage, LOG, step, self.config.steps, message=message))

    def _progress(self, step, total, loss, lr, meter) -> Event:
        psnr = -10.0 * torch.log10(torch.tensor(max(loss, 1e-12))).item()
        preview, now = None, time.monotonic()
        if self.last_preview is not None and now - self._preview_sent > PREVIEW_SECONDS:
            preview, self._preview_sent = self.last_preview, now
        return Event(self.stage, PROGRESS, step, total, loss=loss, psnr=psnr, lr=lr, rays_per_s=meter.rate,
                     eta_s=meter.eta(total - step), preview=preview)

    def _validation(self, step, total) -> Iterator[Event]:
        self.validation_pending = True  # until it has finished: a stop during it saves this, resume redoes it
        metrics, preview = self.validate(step)
        self.validation_pending = False
        self.last_metrics, self.last_preview = metrics, preview
        if metrics:
            self.validations.append((step, float(next(iter(metrics.values())))))
        yield from self._emit(Event(self.stage, VALIDATION, step, total, preview=preview, metrics=metrics))

    def _save(self, step: int, complete: bool) -> None:
        """`save`, with a failure to write turned into one line that says what to do."""
        try:
            self.save(step, complete)
        except (OSError, CheckpointError) as exc:
            text = describe_os_error(exc) if isinstance(exc, OSError) else str(exc)
            raise JobError(f"{self.stage}: could not save at step {step}: {text}; free space (or choose another "
                           "--out), then run the same command with --resume") from None
        self.last_saved = step

    def _stop(self, step: int) -> Iterator[Event]:
        """Stopped: save what is meaningful. Nothing goes into the scene before the first step (an untrained
        model would replace a good one), nothing new when no step ran since the last save, and nothing over an
        interrupted run of this job that had got further (this run started over and had not saved yet)."""
        if step and not self.last_saved and step <= self.replaced_step:
            message = (f"stopped at step {step}; not saved, so the interrupted run saved at step "
                       f"{self.replaced_step} is kept: continue it with --resume")
        elif step and (step != self.last_saved or self.validation_pending):
            if self._started is not None:
                self.elapsed = time.perf_counter() - self._started
            self._save(step, complete=False)
            message = f"stopped at step {step}; saved"
        elif step:
            message = f"stopped at step {step}; the save at that step is kept"
        else:
            message = "stopped before the first step; nothing saved"
        yield from self._emit(Event(self.stage, STOPPED, step, self.config.steps, message=message))

    def _failure(self, text: str) -> JobError:
        """An OS error during training as a JobError; the state is saved first when a step ran since the last save."""
        step = self.current_step
        if step > max(self.start_step, self.last_saved) and not self.ctx.ranks.active:  # (a save needs every rank)
            try:
                self.save(step, complete=False)
                return JobError(f"{self.stage}: {text}; saved at step {step}: fix it, then run the same command "
                                "with --resume")
            except (OSError, CheckpointError):
                pass
        saved = self.last_saved
        kept = f"the save at step {saved} is kept" if saved else "nothing was saved"
        return JobError(f"{self.stage}: {text}; {kept}: fix it, then run the same command"
                        + (" with --resume" if saved else ""))
