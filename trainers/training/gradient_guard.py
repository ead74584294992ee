"""A guard against loss spikes: a step whose gradient norm is far above its running average is scaled down to the
limit, and the learning rate is halved from that step on.

A student trains for thousands of steps at a learning rate that is safe early on. Late in a long run the network
can reach a state where that rate is too high. On lego, at step 6224 of a 52,797-step distillation, one step's
gradient came out 35x its usual norm while the batch's loss was ordinary, and so did the following batches' even
with the weights held still. Applied, they raised the loss 50x within six steps, and the student took some 20,000
steps to recover (docs/BENCHMARKS.md, "The learning curve"). Skipping those steps only postponed the jolt, and
scaling them down alone only softened it. A lower rate is what such a state needs. Ordinary steps (at most 1.5x the
average there) are untouched, bit for bit."""

from __future__ import annotations

import math

import torch

WARMUP_STEPS = 100  # steps before the guard acts: the norm falls fast at first, and the average needs a history
AVERAGE_DECAY = 0.99  # the running average's memory: about the last 100 steps
BACKOFF = 0.5  # the learning rate's factor at each outlier episode
BACKOFF_GAP = 100  # steps after a halving in which further outliers are scaled down but do not halve it again


class GradientGuard:
    """`guard(parameters)` after the backward pass, before the optimiser's step. When the step's gradient norm
    exceeds `limit` x the running average of earlier steps', it scales the gradients down to that, halves
    `rate_factor` (the learning rate's multiplier from then on; once per BACKOFF_GAP steps), and returns the ratio;
    else it returns None (off, warming up, or within the limit). It judges no step before `warmup_steps` steps of
    history (at least WARMUP_STEPS; a job passes its learning-rate warm-up's length when that is longer). While
    off (limit 0) it counts nothing: turned on again, it judges against the average it had. Under torchrun the
    gradients are already averaged over the ranks, so every rank takes the same decision."""

    def __init__(self, limit: float, warmup_steps: int = WARMUP_STEPS):
        self.limit = float(limit)
        self.warmup_steps = warmup_steps
        self.average: float | None = None
        self.steps = 0
        self.outliers = 0
        self.rate_factor = 1.0
        self.last_backoff: int | None = None  # the guard's step count at the last halving

    def __call__(self, parameters) -> float | None:
        if not self.limit:
            return None
        grads = [p.grad for p in parameters if p.grad is not None]
        norm = gradient_norm(grads)
        if not grads or not math.isfinite(norm):
            return None  # (a non-finite norm is no measure of size: the guard judges finite ones only)
        previous = self.average
        outlier = bool(previous) and self.steps >= self.warmup_steps and norm > self.limit * previous
        counted = self.limit * previous if outlier else norm
        self.average = counted if previous is None else AVERAGE_DECAY * previous + (1 - AVERAGE_DECAY) * counted
        self.steps += 1
        if not outlier:
            return None
        for grad in grads:
            grad.mul_(counted / norm)
        self.outliers += 1
        if self.last_backoff is None or self.steps - self.last_backoff >= BACKOFF_GAP:
            self.rate_factor *= BACKOFF
            self.last_backoff = self.steps
        return norm / previous

    @property
    def learning_rate_factor(self) -> float:
        """The learning rate's factor: `rate_factor` while the guard is on, 1 when it is off (limit 0), even after
        halvings made while it was on."""
        return self.rate_factor if self.limit else 1.0

    def state_dict(self) -> dict:
        return {"average": self.average, "steps": self.steps, "outliers": self.outliers,
                "rate_factor": self.rate_factor, "last_backoff": self.last_backoff}

    def load_state_dict(self, state: dict | None) -> None:
        """Continue from a saved state (None, from a run saved before the guard existed: start afresh)."""
        state = state or {}
        self.average, self.steps = state.get("average"), int(state.get("steps", 0))
        self.outliers, self.rate_factor = int(state.get("outliers", 0)), float(state.get("rate_factor", 1.0))
        self.last_backoff = state.get("last_backoff")


def gradient_norm(grads: list[torch.Tensor]) -> float:
    """The norm of all the gradients together (0 for none)."""
    if not grads:
        return 0.0
    return float(torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g.float()) for g in grads])))
