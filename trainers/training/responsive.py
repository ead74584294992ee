"""Work sizes that let a job answer its stop flag within a second on a CPU: rays per model call by FLOPs per ray."""

from __future__ import annotations

import torch

from r2l_viewer.core.render import samples_per_ray

CPU_FLOPS_PER_CALL = 2.5e10  # about a quarter of a second of a 2-core CPU (~100 GFLOP/s in practice)
MIN_RAYS = 64
TRAINING_COST = 3.0  # a training step costs about three forward passes (forward, and backward for inputs and weights)


def linear_flops_per_ray(model: torch.nn.Module) -> float:
    """An upper bound of a model's matrix-product FLOPs per ray, from its shape alone (no run): every linear
    layer's multiply-adds (x2) for each sample per ray its network sees (`network_samples_per_ray` where a model
    probes more points than it evaluates). Exact for the student (one evaluation per ray)."""
    per_point = sum(2.0 * m.in_features * m.out_features for m in model.modules() if isinstance(m, torch.nn.Linear))
    return per_point * getattr(model, "network_samples_per_ray", samples_per_ray(model))


def rays_per_call(model: torch.nn.Module, device: torch.device, limit: int, training: bool = False) -> int:
    """Rays per forward (or forward and backward, when `training`) call: `limit` on a GPU; on a CPU few enough
    that one call takes well under a second (the paper's student trains ~700 rays per call, not 8,192)."""
    if torch.device(device).type != "cpu":
        return int(limit)
    cost = linear_flops_per_ray(model) * (TRAINING_COST if training else 1.0)
    return max(MIN_RAYS, min(int(limit), int(CPU_FLOPS_PER_CALL / max(cost, 1.0))))
