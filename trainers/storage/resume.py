"""Continuing an interrupted run with the settings it was saved with, and naming any setting that conflicts."""

from __future__ import annotations

from pathlib import Path

from r2l_viewer.core.config import from_dict, to_dict, validate

from trainers.errors import JobError

RUN_SETTINGS = ("seed", "data", "downscale")  # RunContext fields a run's results depend on, besides its config
# settings a job had once and no longer has (nothing read them): a run saved with one continues without it
REMOVED_SETTINGS = {"teacher": ("tv_weight",)}


def changed_settings(saved: dict, now: dict, prefix: str = "") -> list[str]:
    """Names (dotted for nested settings) whose values differ between two plain-dict configs."""
    changed = []
    for key in sorted(set(saved) | set(now)):
        a, b = saved.get(key), now.get(key)
        if isinstance(a, dict) and isinstance(b, dict):
            changed += changed_settings(a, b, f"{prefix}{key}.")
        elif a != b:
            changed.append(f"{prefix}{key}")
    return changed


ABSENT = object()  # a setting one of two configs does not have


def setting(config: dict, dotted: str):
    """The value of a dotted setting name in a plain-dict config (ABSENT when it has no such setting)."""
    for part in dotted.split("."):
        config = config.get(part, ABSENT) if isinstance(config, dict) else ABSENT
    return config


def _shown(value) -> str:
    if value is ABSENT:
        return "(absent)"
    if value is None:
        return "none"
    return ",".join(map(str, value)) if isinstance(value, (list, tuple)) else str(value)


def conflict_error(stage: str, conflicts: list[tuple[str, object, object]]) -> JobError:
    """A JobError naming each (flag, saved, given) that stops an interrupted run from continuing."""
    named = "; ".join(f"{flag} {_shown(saved)} saved, {_shown(given)} given" for flag, saved, given in conflicts)
    return JobError(
        f"the interrupted {stage} run was saved with other settings ({named}); leave those options out to "
        "continue with the saved values, or run without --resume to start over"
    )


def with_defaults(saved: dict, defaults: dict) -> dict:
    """A saved config with the settings added to the job since it was saved filled in with their defaults (a new
    setting's default keeps the old behaviour)."""
    filled = dict(saved)
    for key, value in defaults.items():
        if key not in filled:
            filled[key] = value
        elif isinstance(value, dict) and isinstance(filled[key], dict):
            filled[key] = with_defaults(filled[key], value)
    return filled


def without_removed(stage: str, saved: dict) -> dict:
    """A saved config without the settings removed from the job since it was saved (REMOVED_SETTINGS)."""
    return {key: value for key, value in saved.items() if key not in REMOVED_SETTINGS.get(stage, ())}


def _set(config: dict, dotted: str, value) -> None:
    *parents, last = dotted.split(".")
    for part in parents:
        config = config[part]
    config[last] = value


def _flag(stage: str, name: str) -> str:
    return f"--{name}" if name in RUN_SETTINGS else f"--{stage}.{name}"


def resumed_config(stage: str, config, saved: dict, given: frozenset | None, free: tuple = ()):
    """`config` with every setting the user did not give (`given`: dotted names such as 'distill.steps'; None:
    all of them count as given) taken from the interrupted run's `saved` config. A given setting that differs is a
    JobError naming both values, unless it is in `free` (the job decides about those)."""
    now = to_dict(config)
    saved = with_defaults(without_removed(stage, saved), to_dict(type(config)()))
    conflicts = []
    for name in changed_settings(saved, now):
        before, after = setting(saved, name), setting(now, name)
        if given is not None and f"{stage}.{name}" not in given and ABSENT not in (before, after):
            _set(now, name, before)
        elif name not in free:
            conflicts.append((_flag(stage, name), before, after))
    if conflicts:
        raise conflict_error(stage, conflicts)
    adopted = from_dict(type(config), now)
    validate(adopted)
    return adopted


def resumed_seed(stage: str, ctx, saved) -> None:
    """Take the interrupted run's seed (None: not recorded) when none was given; a given one that differs is a
    JobError naming both."""
    if saved is None or int(saved) == ctx.seed:
        return
    if ctx.given is None or "seed" in ctx.given:
        raise conflict_error(stage, [("--seed", saved, ctx.seed)])
    ctx.seed = int(saved)


def _moved(data) -> bool:
    """Whether a recorded dataset folder is gone (moved): the run may then continue on the one given."""
    return isinstance(data, str) and data != "demo" and not Path(data).exists()


def resumed_run(stage: str, ctx, saved: dict) -> None:
    """Take the interrupted run's seed when none was given; a given seed, dataset or downscale that differs from
    the saved one is a JobError naming both values."""
    resumed_seed(stage, ctx, saved.get("seed"))
    now = ctx.run_settings()
    changed = [name for name in changed_settings(saved, now) if not (name == "data" and _moved(saved["data"]))]
    conflicts = [(_flag(stage, name), saved.get(name), now.get(name)) for name in changed]
    if conflicts:
        raise conflict_error(stage, conflicts)


def resumable_note(stage: str, step: int, total, first_save: int) -> str:
    """The note for a run that starts over while an interrupted one could be continued."""
    return (f"note: an interrupted {stage} run is saved at step {step} of {total}; this run starts over from step 0 "
            f"and replaces it at its first save (step {first_save}). To continue that one instead, stop this run "
            "now and run the same command with --resume")
