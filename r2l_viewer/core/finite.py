"""Non-finite numbers (NaN, Inf) refused where they would be shown as if they were fine: model weights when a
model is built, images before they are written or shown, metrics before they are reported."""

from __future__ import annotations

import math

import torch

from .errors import UserError


class NonFiniteError(UserError):
    """Weights, an image or a metric hold NaN or Inf; the message says which and what to do."""


def first_non_finite(tensors: dict[str, torch.Tensor]) -> str | None:
    """The name of the first floating-point tensor holding a NaN or Inf, or None when all are finite."""
    for name, tensor in tensors.items():
        if isinstance(tensor, torch.Tensor) and tensor.is_floating_point() and not torch.isfinite(tensor).all():
            return name
    return None


def check_finite_image(image, what: str) -> None:
    """Refuse an image (a tensor or numpy array) holding NaN or Inf before it is written or shown; `what` names
    it ('frame 12 of the student')."""
    tensor = torch.as_tensor(image)
    if tensor.is_floating_point() and not torch.isfinite(tensor).all():
        bad = int((~torch.isfinite(tensor)).sum())
        raise NonFiniteError(f"{what} has {bad} non-finite values (NaN or Inf): the model's weights are damaged or "
                             "its training diverged; it is neither written nor shown")


def check_finite_metric(value: float, what: str) -> float:
    """`value` when it is a number; a NonFiniteError naming the metric when it is NaN or -Inf (+Inf is a PSNR's
    perfect match, not damage)."""
    if not math.isfinite(value) and value != math.inf:
        raise NonFiniteError(f"{what} is {value} (not a finite number): the model's output holds NaN or Inf, "
                             "so its weights are damaged or its training diverged")
    return value
