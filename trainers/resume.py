"""Checking that a saved resume state was made with the settings of the run that wants to continue it."""

from __future__ import annotations

from .workspace import JobError


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


def check_resume_state(stage: str, state: dict, config: dict, run: dict) -> None:
    """Raise a JobError naming what differs when the state's config or run settings (seed, data, downscale)
    are not this run's. States saved before run settings were recorded are checked on their config only."""
    changed = changed_settings(state.get("config", {}), config)
    if "run" in state:
        changed += [f"--{key}" for key in changed_settings(state["run"], run)]
    if changed:
        raise JobError(
            f"the saved {stage} state was made with other settings ({', '.join(changed)}); "
            "run with the same settings to resume, or without --resume to start over"
        )
