"""Adam for every job: the fused kernel (one pass over each parameter per step) where this torch has it."""

from __future__ import annotations

import torch

FUSED_CPU_SINCE = (2, 4)  # torch's first release with a fused Adam kernel for the CPU
FUSED_DTYPES = (torch.float16, torch.bfloat16, torch.float32, torch.float64)


def torch_release() -> tuple[int, int]:
    major, minor = torch.__version__.split("+")[0].split(".")[:2]
    return int(major), int(minor)


def fused_devices() -> set[str]:
    """Device types this torch build runs the fused Adam kernel on."""
    if torch_release() < FUSED_CPU_SINCE:
        return {"cuda"}
    try:
        from torch.utils._foreach_utils import _get_fused_kernels_supported_devices
    except ImportError:  # the helper moved: the devices of the releases that had it
        return {"cuda", "cpu"}
    return set(_get_fused_kernels_supported_devices())


def can_fuse(params: list) -> bool:
    """Whether every parameter is a floating-point tensor on a device with the fused kernel."""
    devices = fused_devices()
    tensors = [p for group in params for p in (group["params"] if isinstance(group, dict) else [group])]
    return all(p.dtype in FUSED_DTYPES and p.device.type in devices for p in tensors)


def adam(params, **options) -> torch.optim.Adam:
    """torch.optim.Adam, fused where every parameter's device and dtype allow it (the same update as its loop of
    element-wise operations, several times as fast on large grids: docs/BENCHMARKS.md, "The importance sampler").
    A state saved by either kind loads into either: loading keeps this optimiser's own choice."""
    params = list(params)
    fused = can_fuse(params)
    optimizer = torch.optim.Adam(params, fused=fused or None, **options)
    optimizer.register_load_state_dict_post_hook(lambda opt: keep_kernel(opt, fused))
    return optimizer


def keep_kernel(optimizer: torch.optim.Adam, fused: bool) -> None:
    """After a state load (which takes the saved groups' flags): this optimiser's kernel again, and, when fused,
    each step count where the kernel reads it (a float32 tensor on its parameter's device)."""
    for group in optimizer.param_groups:
        group["fused"], group["foreach"] = (True if fused else None), None
    if fused:
        for param, state in optimizer.state.items():
            if "step" in state:
                state["step"] = torch.as_tensor(state["step"], dtype=torch.float32).to(param.device)
