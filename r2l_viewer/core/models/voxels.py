"""A sparse voxel lattice: trainable channels-last values only for allocated voxels, a constant elsewhere."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.autograd.function import once_differentiable


def trilinear_corners(coords: torch.Tensor, shape: tuple[int, int, int]) -> tuple[torch.Tensor, torch.Tensor]:
    """Flat lattice indices [M, 8] of the 8 voxels around points in voxel units [M, 3] (x, y, z), and their
    trilinear weights [M, 8]. Flat index = (z * ny + y) * nx + x."""
    nx, ny, nz = shape
    top = torch.tensor([nx - 2, ny - 2, nz - 2], device=coords.device)
    coords = torch.minimum(coords.clamp_min(0.0), top + 1.0)
    base = torch.minimum(coords.floor().long(), top)
    frac = coords - base
    x, y, z = base.unbind(-1)
    fx, fy, fz = frac.unbind(-1)
    idx, weights = [], []
    for dz in (0, 1):
        wz = fz if dz else 1.0 - fz
        for dy in (0, 1):
            wy = fy if dy else 1.0 - fy
            row = ((z + dz) * ny + (y + dy)) * nx
            for dx in (0, 1):
                idx.append(row + x + dx)
                weights.append(wz * wy * (fx if dx else 1.0 - fx))
    return torch.stack(idx, dim=-1), torch.stack(weights, dim=-1)


class WeightedRows(torch.autograd.Function):
    """sum_k weights[m, k] * table[rows[m, k]] [M, C] for rows and weights [M, K]: the trilinear read of a voxel
    table. The values and gradients of gathering [M, K, C], weighting and summing (to float rounding: the sums run
    in another order), without forming that array: forward is one fused gather (embedding_bag), backward one
    accumulating scatter into the table's gradient. On a 2-core CPU a teacher's 12 feature channels read 7-8x and
    back-propagate 1.4-1.75x as fast (60k samples, one or two threads); tests/core/test_voxels.py holds values and
    gradients equal."""

    @staticmethod
    def forward(ctx, table: torch.Tensor, rows: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(table, rows, weights)
        return F.embedding_bag(rows, table, mode="sum", per_sample_weights=weights.to(table.dtype))

    @staticmethod
    @once_differentiable
    def backward(ctx, grad: torch.Tensor):
        table, rows, weights = ctx.saved_tensors
        grad_table = grad_weights = None
        if ctx.needs_input_grad[0]:
            spread = grad.repeat_interleave(rows.shape[1], 0).mul_(weights.to(grad.dtype).reshape(-1, 1))
            grad_table = torch.zeros_like(table).index_put_((rows.reshape(-1),), spread, accumulate=True)
        if ctx.needs_input_grad[2]:
            gathered = table.detach().index_select(0, rows.reshape(-1)).reshape(*rows.shape, table.shape[1])
            grad_weights = (gathered * grad[:, None, :]).sum(-1).to(weights.dtype)
        return grad_table, None, grad_weights


class SparseVoxels(nn.Module):
    """Values of named channels (e.g. density [.., 1], feature [.., C]) on an nx x ny x nz lattice.

    `cells` [V] maps each lattice voxel to its row in the value tables, or -1 where the voxel is not allocated;
    unallocated voxels read as each channel's constant fill (e.g. 'empty' density), cost no memory and no
    optimiser work. This is what makes a dense-grid teacher cheap on a CPU: only the object's voxels train.
    """

    def __init__(self, shape: tuple[int, int, int], channels: dict[str, tuple[int, float]]):
        super().__init__()
        self.shape = tuple(shape)
        self.fills = {name: fill for name, (_, fill) in channels.items()}
        voxels = self.voxel_count
        self.register_buffer("cells", torch.arange(voxels, dtype=torch.int32))
        for name, (width, fill) in channels.items():
            setattr(self, name, nn.Parameter(torch.zeros(voxels, width)))
        self._register_load_state_dict_pre_hook(self._resize_to_incoming)

    @property
    def voxel_count(self) -> int:
        return self.shape[0] * self.shape[1] * self.shape[2]

    @property
    def allocated(self) -> torch.Tensor:
        """Which lattice voxels [V] have trainable values."""
        return self.cells >= 0

    def corners(self, coords: torch.Tensor):
        """Table rows [M, 8], weights of allocated corners [M, 8] and total weight of unallocated ones [M]."""
        idx, weights = trilinear_corners(coords, self.shape)
        rows = self.cells[idx].long()
        present = rows >= 0
        missing = (weights * ~present).sum(dim=-1)
        return rows.clamp_min(0), weights * present, missing

    def lookup(self, name: str, rows: torch.Tensor, weights: torch.Tensor, missing: torch.Tensor) -> torch.Tensor:
        """Trilinear values [M, C] of a channel at the corners from `corners`."""
        values = WeightedRows.apply(getattr(self, name), rows, weights)
        fill = self.fills[name]
        return values + fill * missing[:, None] if fill else values

    def dense(self, name: str) -> torch.Tensor:
        """A channel for every lattice voxel [V, C], the fill where unallocated."""
        table = getattr(self, name)
        out = torch.full((self.voxel_count, table.shape[1]), self.fills[name], dtype=table.dtype, device=table.device)
        alloc = self.allocated
        out[alloc] = table.detach()[self.cells[alloc].long()]
        return out

    def volume(self, values: torch.Tensor) -> torch.Tensor:
        """Per-voxel values [V, C] as a volume [1, C, nz, ny, nx]."""
        nx, ny, nz = self.shape
        return values.T.reshape(1, values.shape[1], nz, ny, nx)

    @torch.no_grad()
    def keep_only(self, keep: torch.Tensor) -> None:
        """Free every voxel outside `keep` [V] (its values revert to the fill). Parameters are replaced."""
        alloc = self.allocated & keep
        rows = self.cells[alloc].long()
        cells = torch.full_like(self.cells, -1)
        cells[alloc] = torch.arange(int(alloc.sum()), dtype=torch.int32, device=cells.device)
        for name in self.fills:
            setattr(self, name, nn.Parameter(getattr(self, name).detach()[rows].contiguous()))
        self.cells = cells

    @torch.no_grad()
    def resize(self, shape: tuple[int, int, int], allocate: torch.Tensor | None = None) -> None:
        """Resample every channel to a new lattice by trilinear interpolation; allocate the voxels in
        `allocate` [V_new] (default: all). Parameters are replaced."""
        nx, ny, nz = shape
        resampled = {
            name: F.interpolate(self.volume(self.dense(name)), size=(nz, ny, nx), mode="trilinear", align_corners=True)
            for name in self.fills
        }
        self.shape = tuple(shape)
        device = self.cells.device
        alloc = torch.ones(self.voxel_count, dtype=torch.bool, device=device) if allocate is None else allocate
        cells = torch.full((self.voxel_count,), -1, dtype=torch.int32, device=device)
        cells[alloc] = torch.arange(int(alloc.sum()), dtype=torch.int32, device=device)
        for name, vol in resampled.items():
            values = vol.reshape(vol.shape[1], -1).T
            setattr(self, name, nn.Parameter(values[alloc].contiguous()))
        self.cells = cells

    def _resize_to_incoming(self, state_dict, prefix, *args, **kwargs):
        """Let a checkpoint with another allocation (or lattice) load: take the stored tables' sizes."""
        cells = state_dict.get(prefix + "cells")
        if cells is not None:
            self.cells = torch.empty_like(cells, device=self.cells.device)
        for name in self.fills:
            stored = state_dict.get(prefix + name)
            if stored is not None:
                setattr(self, name, nn.Parameter(torch.empty_like(stored, device=self.cells.device)))
