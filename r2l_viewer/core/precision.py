"""Reduced precision: bf16/fp16 autocast for rendering and training, and fast copies of results to the host."""

from __future__ import annotations

import contextlib

import torch

from .errors import UserError

PRECISIONS = ("auto", "fp32", "bf16", "fp16")
DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}


def resolve_precision(name: str, device: torch.device) -> str:
    """'auto' is bf16 on CUDA (tensor cores; the student's PSNR barely moves) and fp32 on a CPU (most CPUs have no
    fast bf16 matrix units, so autocast there is slower); other names are checked and returned."""
    if name not in PRECISIONS:
        raise UserError(f"unknown precision '{name}': use one of {', '.join(PRECISIONS)}")
    if name == "auto":
        return "bf16" if device.type == "cuda" else "fp32"
    return name


def autocast(device: torch.device, precision: str):
    """A context in which matrix products run in `precision` on `device` (fp32: no change)."""
    precision = resolve_precision(precision, device)
    if precision == "fp32":
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=DTYPES[precision])


def to_host(tensor: torch.Tensor) -> torch.Tensor:
    """`tensor` on the CPU. From a GPU the copy goes through page-locked memory without blocking the stream's
    other work, then waits for that copy only."""
    if tensor.device.type != "cuda":
        return tensor
    host = torch.empty(tensor.shape, dtype=tensor.dtype, pin_memory=True)
    host.copy_(tensor, non_blocking=True)
    torch.cuda.current_stream(tensor.device).synchronize()
    return host
