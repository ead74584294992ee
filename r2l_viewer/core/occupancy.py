"""Where the teacher's scene is: a coarse occupancy grid over the student's box, stored as a bitfield.

The student places its points only between the first and the last occupied cell a ray crosses (same number of
points, more of them on surfaces); a ray that crosses no occupied cell shows the background. Cells are indexed
[x, y, z] over the box; a cell is occupied when the teacher's density at any of its 8 sub-samples would make a
step of one cell diagonal at least OCCUPANCY_ALPHA opaque. Only scenes with a box (objects) use it: NDC and
contracted scenes have none."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

OCCUPANCY_ALPHA = 0.01  # opacity across one cell diagonal above which a cell counts as occupied
SUB_SAMPLES = 2  # teacher samples per cell side (at 1/4 and 3/4 of it)
DENSITY_CHUNK = 1 << 16
BIT_WEIGHTS = torch.tensor([1, 2, 4, 8, 16, 32, 64, 128], dtype=torch.uint8)


def pack_bits(cells: torch.Tensor) -> torch.Tensor:
    """Bool cells (any shape) as uint8 bytes [ceil(n / 8)], 8 cells a byte, first cell in the lowest bit."""
    flat = cells.reshape(-1).to(torch.uint8)
    flat = F.pad(flat, (0, (-flat.numel()) % 8))
    return (flat.view(-1, 8) * BIT_WEIGHTS.to(flat.device)).sum(1, dtype=torch.uint8)


def unpack_bits(bits: torch.Tensor, resolution: int) -> torch.Tensor:
    """The bool cells [R, R, R] that `pack_bits` packed into `bits`."""
    weights = BIT_WEIGHTS.to(bits.device)
    cells = (bits[:, None] & weights) > 0
    return cells.reshape(-1)[: resolution**3].reshape(resolution, resolution, resolution)


def dilate(cells: torch.Tensor, by: int = 1) -> torch.Tensor:
    """Bool cells [D, H, W] grown by `by` cells in every direction (the student's occupancy, so that points placed
    by sampling miss no edge; the grid teacher's kept voxels)."""
    if by <= 0:
        return cells
    grown = F.max_pool3d(cells[None, None].float(), 2 * by + 1, stride=1, padding=by)
    return grown[0, 0] > 0


def density_threshold(box_min, box_max, resolution: int, alpha: float = OCCUPANCY_ALPHA) -> float:
    """The density at which one cell diagonal of the grid is `alpha` opaque."""
    diagonal = math.sqrt(sum(((hi - lo) / resolution) ** 2 for lo, hi in zip(box_min, box_max)))
    return -math.log(1.0 - alpha) / diagonal


def cell_sample_points(box_min, box_max, resolution: int) -> torch.Tensor:
    """Sample points [R, R, R, S^3, 3] inside every cell (S = SUB_SAMPLES per side, evenly inside the cell)."""
    lo, hi = torch.tensor(box_min, dtype=torch.float32), torch.tensor(box_max, dtype=torch.float32)
    fine = resolution * SUB_SAMPLES
    axes = [lo[i] + (torch.arange(fine, dtype=torch.float32) + 0.5) / fine * (hi[i] - lo[i]) for i in range(3)]
    x, y, z = torch.meshgrid(*axes, indexing="ij")
    points = torch.stack([x, y, z], -1)  # [RS, RS, RS, 3]
    r, s = resolution, SUB_SAMPLES
    points = points.view(r, s, r, s, r, s, 3).permute(0, 2, 4, 1, 3, 5, 6)
    return points.reshape(r, r, r, s**3, 3)


@torch.no_grad()
def teacher_occupancy(teacher, box_min, box_max, resolution: int, alpha: float = OCCUPANCY_ALPHA) -> torch.Tensor:
    """Bool cells [R, R, R] over the box where the teacher's density (`teacher.point_density`) exceeds
    `density_threshold` at any of the cell's sub-samples."""
    device = next(teacher.parameters()).device
    points = cell_sample_points(box_min, box_max, resolution).reshape(-1, 3)
    density = torch.cat([teacher.point_density(chunk.to(device)).cpu() for chunk in points.split(DENSITY_CHUNK)])
    threshold = density_threshold(box_min, box_max, resolution, alpha)
    return (density.view(resolution, resolution, resolution, -1) > threshold).any(-1)


def occupied_span(origins, directions, near, far, hit, cells, box_min, box_max):
    """Where each ray crosses occupied space: (first [N], last [N], any [N] bool) of the ray parameter, from its
    box span near..far [N] (`hit`: the ray crosses the box) sampled at 2R evenly spaced points and looked up in the
    (already dilated) cells [R, R, R]; the span covers whole sample bins. first and last mean something only where
    `any` is true. On a CPU outside tracing, only the rays that cross the box are looked up (a frame's rays that miss
    it cost nothing); traced or on a GPU every ray is, with no data-dependent shapes."""
    if not picks_rows(origins):
        return occupied_span_every_ray(origins, directions, near, far, cells, box_min, box_max, hit)
    rows = hit.nonzero().squeeze(1)
    if len(rows) == len(hit):
        return occupied_span_every_ray(origins, directions, near, far, cells, box_min, box_max)
    first, last, any_hit = near.clone(), far.clone(), torch.zeros_like(hit)
    if len(rows):
        pick = lambda t: t.index_select(0, rows)  # noqa: E731
        span = occupied_span_every_ray(pick(origins), pick(directions), pick(near), pick(far), cells, box_min, box_max)
        for whole, part in zip((first, last, any_hit), span):
            whole.index_copy_(0, rows, part)
    return first, last, any_hit


def picks_rows(tensor: torch.Tensor) -> bool:
    """Whether rays may be picked by their data (shapes that depend on values) for work on `tensor`'s device: on a
    CPU, outside torch.jit tracing, ONNX export and torch.compile (on a GPU picking waits for the device)."""
    tracing = torch.jit.is_tracing() or torch.onnx.is_in_onnx_export() or torch.compiler.is_compiling()
    return tensor.device.type == "cpu" and not tracing


def occupied_span_every_ray(origins, directions, near, far, cells, box_min, box_max, hit=None):
    """occupied_span on every ray given, with no data-dependent shapes (with `hit`, rays outside the box cross
    nothing)."""
    r = cells.shape[0]
    samples = 2 * r
    to_cells = r / (box_max - box_min)
    start = (origins - box_min) * to_cells  # the rays in cell units: cell i spans [i, i + 1) on each axis
    step = directions * to_cells
    fractions = (torch.arange(samples, device=origins.device, dtype=origins.dtype) + 0.5) / samples  # [M]
    length = far - near
    t = near[:, None] + fractions[None, :] * length[:, None]  # [N, M]
    flat = None  # [N, M] flat cell index, axis by axis (an [N, M, 3] array is slower on a CPU)
    for axis in range(3):
        at = (t * step[:, axis, None]).add_(start[:, axis, None]).floor_().clamp_(0, r - 1)
        flat = at if flat is None else flat.mul_(r).add_(at)  # exact in float32 while R^3 < 2^24
    occupied = torch.take(cells, flat.long())  # [N, M]
    if hit is not None:
        occupied = occupied & hit[:, None]  # (not in place: ONNX has no in-place and)
    order = torch.arange(samples, device=origins.device, dtype=origins.dtype)
    marks = occupied.to(origins.dtype)
    last = (marks * order).amax(1)
    first = (samples - 1) - (marks * (samples - 1 - order)).amax(1)
    any_hit = marks.amax(1) > 0
    bin_size = length / samples
    return near + first * bin_size, near + (last + 1) * bin_size, any_hit
