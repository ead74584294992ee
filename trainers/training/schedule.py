"""Learning-rate schedules: exponential decay, and R2L's linear warm-up followed by decay."""

from __future__ import annotations


def exponential_decay(step: int, total: int, lr: float, final_factor: float) -> float:
    """lr at step 0, falling exponentially to lr * final_factor at `total`."""
    return lr * final_factor ** (min(step, total) / max(total, 1))


def warmup_then_decay(step: int, lr: float, warmup_steps: int, warmup_lr: float, decay_steps: float) -> float:
    """R2L's schedule: linear from warmup_lr to lr over warmup_steps, then lr * 0.1 ** (step / decay_steps)."""
    if step < warmup_steps:
        return warmup_lr + (lr - warmup_lr) * step / warmup_steps
    return lr * 0.1 ** (step / decay_steps)


def set_learning_rates(optimizer, rates: list[float]) -> None:
    """Set each parameter group's learning rate."""
    for group, rate in zip(optimizer.param_groups, rates):
        group["lr"] = rate
