"""The pipeline's jobs by name, and `all`: teacher, pseudo data, distil, finetune, skipping finished stages."""

from __future__ import annotations

from collections.abc import Iterator

from r2l_viewer.core.config import validate
from r2l_viewer.core.errors import UserError

from trainers.jobs.distill import Distill
from trainers.jobs.evaluate import Evaluate
from trainers.events import LOG, STOPPED, Event
from trainers.jobs.finetune import Finetune
from trainers.presets import Preset
from trainers.jobs.pseudo import make_pseudo_data
from trainers.storage.pseudo_store import PseudoStore
from trainers.jobs.teacher import TrainTeacher
from trainers.storage.workspace import RunContext

JOBS = ("teacher", "pseudo", "distill", "finetune")


class PseudoJob:
    """The pseudo-data job with the same face as the training jobs (`run`, `model_snapshot`)."""

    stage = "pseudo"

    def __init__(self, config, ctx: RunContext):
        validate(config)
        self.config, self.ctx = config, ctx

    def run(self) -> Iterator[Event]:
        return make_pseudo_data(self.config, self.ctx)

    def model_snapshot(self) -> dict | None:
        return None


def make_job(name: str, preset: Preset, ctx: RunContext):
    """A job object: `.run()` yields its events; `.model_snapshot()` copies the model it trains (call it
    between events, from the thread that runs the job, to show a model while it learns)."""
    if name == "teacher":
        return TrainTeacher(preset.teacher, ctx)
    if name == "pseudo":
        return PseudoJob(preset.pseudo, ctx)
    if name == "distill":
        return Distill(preset.distill, ctx, preset.pseudo)
    if name == "finetune":
        return Finetune(preset.finetune, ctx)
    if name == "evaluate":
        return Evaluate(preset.evaluate, ctx)
    raise UserError(f"unknown job '{name}': choose one of {', '.join(JOBS + ('evaluate',))}")


def run_job(name: str, preset: Preset, ctx: RunContext) -> Iterator[Event]:
    """Run one job with the preset's settings for it."""
    return make_job(name, preset, ctx).run()


def finished(name: str, ctx: RunContext) -> bool:
    """Whether the scene already holds this stage's finished result (so `all --resume` can skip it)."""
    scene = ctx.scene()
    if scene is None or scene.teacher is None:
        return False
    if name == "teacher":
        return bool(scene.teacher.get("complete"))
    if name == "pseudo":
        store = PseudoStore(ctx.workspace.pseudo_dir)
        if not store.exists:
            return False
        manifest = store.manifest()
        return bool(manifest.get("complete")) and manifest.get("teacher_id") == scene.teacher.get("id")
    student = scene.student
    if student is None or not student.get("complete") or student.get("teacher_id") != scene.teacher.get("id"):
        return False
    return name == "distill" or student.get("stage") == "finetuned"


def validate_preset(preset: Preset, names=JOBS) -> None:
    """Check every named job's settings before any job runs (a ConfigError names the job and the setting)."""
    for name in names:
        validate(getattr(preset, name), f"--{name}")


def run_all(preset: Preset, ctx: RunContext) -> Iterator[Event]:
    """Every job in order; with --resume, finished stages are skipped and an interrupted one continues. Once a
    stage has run, the later stages' saved states and results are stale: they start afresh and replace them."""
    validate_preset(preset)
    ctx.workspace.check_writable()
    stale = False  # once a stage has run
    for name in JOBS:
        if name == "pseudo" and preset.distill.online:
            continue
        if ctx.resume and finished(name, ctx):
            yield Event(name, LOG, message=f"{name}: already finished in {ctx.workspace.checkpoint.name}, skipped")
            continue
        if stale:
            ctx.workspace.drop_state(name)  # made from an earlier stage's old result: nothing to continue
        stopped = False
        for event in run_job(name, preset, ctx):
            stopped = stopped or event.kind == STOPPED
            yield event
        if stopped:
            return
        ctx.resume, ctx.force, stale = False, True, True  # a stage that ran makes the later ones' states and
        # results stale
