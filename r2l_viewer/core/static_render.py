"""Fixed-shape rendering: every model call sees the same chunk of rays, so it can be compiled once with
torch.compile (on CUDA in "reduce-overhead" mode, which replays the whole forward pass as one CUDA graph)."""

from __future__ import annotations

import torch

from .precision import autocast, to_host
from .render import model_device


class StaticChunkRenderer:
    """rgb for any number of rays, computed `chunk` rays at a time with the last chunk padded to full size.
    `compile`: None for plain eager calls, else a torch.compile mode ("default", "reduce-overhead", ...)."""

    def __init__(self, model: torch.nn.Module, chunk: int, precision: str = "fp32", compile: str | None = None):
        self.model, self.chunk, self.precision = model, chunk, precision
        self.device = model_device(model)
        self.forward = self._rgb if compile is None else torch.compile(self._rgb, mode=compile, dynamic=False)

    def _rgb(self, origins: torch.Tensor, directions: torch.Tensor) -> torch.Tensor:
        with autocast(self.device, self.precision):
            return self.model(origins, directions).rgb.float()

    @torch.inference_mode()
    def __call__(self, origins: torch.Tensor, directions: torch.Tensor) -> torch.Tensor:
        """rgb [N, 3] on the model's device."""
        n = origins.shape[0]
        out = torch.empty(n, 3, device=self.device)
        for start in range(0, n, self.chunk):
            o, d = origins[start : start + self.chunk], directions[start : start + self.chunk]
            size = o.shape[0]
            if size < self.chunk:  # pad with copies of the last ray: one shape, one compiled graph
                o = torch.cat([o, o[-1:].expand(self.chunk - size, 3)])
                d = torch.cat([d, d[-1:].expand(self.chunk - size, 3)])
            rgb = self.forward(o.to(self.device, non_blocking=True), d.to(self.device, non_blocking=True))
            out[start : start + size] = rgb[:size]  # copied out at once: a replayed graph reuses its output memory
        return out

    def to_host(self, rgb: torch.Tensor) -> torch.Tensor:
        return to_host(rgb)
