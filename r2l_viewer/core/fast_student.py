"""A faster inference path for the R2L student on the CPU: the same function with fewer passes over memory.

Rewrites of `Student.forward` for rendering (checked against it in tests/core/test_fast_student.py):
- with the frequency encoding, the head layer is linear in the positional encoding [x, sin 2^k x, cos 2^k x], so
  it is applied as three matrix products on x, sin(S) and cos(S) with S = all octaves of x in one contiguous array
  (head weight columns regrouped once), and the encoding is never assembled;
- with the grid encoding, each level's features are read straight into the layout [features, rays] and
  multiplied by that level's columns of the head weight, so the [rays, points x features] input is never built;
- each residual block's second bias is carried forward into the next block's first bias (and the tail's), so a
  block is two matrix products and one in-place ReLU.
A student with depth gives it from the same tail product (its fourth column): `render` returns both. Plane reads
that the student multiplies (`grid_combine="product"`) are multiplied in place before their head product; rays
that cross no occupied cell get the background without running the network, as in `Student.forward`. Outside
contracted space a ray's points are a + t b in the planes' unit cube, so the grid encoding writes the planes' read
coordinates [3, P, N, 2] straight from (a, b, t), one coordinate at a time, and only for the rays that cross the
occupancy: the points are formed only where feature volumes read them."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .models import RenderOutput, Student
from .models.base import model_space_rays
from .models.feature_grids import PLANE_AXES, plane_coordinates
from .volume import stratified_samples


def split_head_weights(weight: torch.Tensor, dims: int, frequencies: int):
    """The head weight [W, D(2L+1)] as transposed blocks for x [D], sin(S) [L*D] and cos(S) [L*D], where S is laid
    out octave by octave like the positional encoding's own blocks."""
    sin_cols = torch.tensor([dims + 2 * k * dims + j for k in range(frequencies) for j in range(dims)], dtype=torch.long)
    pick = lambda cols: weight[:, cols].t().contiguous()  # noqa: E731
    return pick(torch.arange(dims)), pick(sin_cols), pick(sin_cols + dims)


def grid_head_weights(weight: torch.Tensor, config) -> tuple[list, list]:
    """The head weight [W, P*F] as transposed blocks [3CP, W] per plane level ([CP, W] when the planes' reads are
    multiplied) and [CP, W] per volume level, rows in the order grid_sample reads them (plane, channel, point);
    F = features per point, laid out per point as FeatureGrids gives them."""
    points, channels, per_point = config.points_per_ray, config.grid_channels, config.features_per_point
    p = torch.arange(points)
    c = torch.arange(channels)

    def block(offset: int, planes: int) -> torch.Tensor:
        q = torch.arange(planes)
        cols = p[None, None, :] * per_point + offset + q[:, None, None] * channels + c[None, :, None]
        return weight[:, cols.reshape(-1)].t().contiguous()

    per_level = 1 if config.grid_combine == "product" else 3
    plane_blocks = [block(per_level * channels * i, per_level) for i in range(len(config.grid_planes))]
    start = per_level * channels * len(config.grid_planes)
    volume_blocks = [block(start + channels * i, 1) for i in range(len(config.grid_volumes))]
    return plane_blocks, volume_blocks


class FastStudent:
    """Inference-only view of a Student's weights, taken once; `__call__(origins, directions)` gives rgb [N, 3],
    `render(origins, directions)` a RenderOutput with depth [N] too when the student carries it."""

    def __init__(self, student: Student):
        self.student = student
        config = student.config
        self.dims = 3 * config.points_per_ray
        self.grid = config.encoding == "grid"
        with torch.no_grad():
            if self.grid:
                self.plane_weights, self.volume_weights = grid_head_weights(student.head.weight, config)
                # texels with their channels side by side: grid_sample gathers each corner in one place (1.3-2x)
                self.planes = [p.detach().contiguous(memory_format=torch.channels_last) for p in student.grids.planes]
            else:
                self.head_x, self.head_sin, self.head_cos = split_head_weights(student.head.weight, self.dims,
                                                                               config.frequencies)
            self.head_bias = student.head.bias.detach().clone()
            self.freqs = 2.0 ** torch.arange(config.frequencies, dtype=torch.float32, device=self.head_bias.device)
            carried = torch.zeros_like(student.head.bias)
            self.blocks = []
            for block in student.body:
                bias1 = block.fc1.bias + block.fc1.weight @ carried
                self.blocks.append((block.fc1.weight.t().contiguous(), bias1, block.fc2.weight.t().contiguous()))
                carried = carried + block.fc2.bias
            self.tail = (student.tail.weight.t().contiguous(), student.tail.bias + student.tail.weight @ carried)

    def head(self, flat: torch.Tensor) -> torch.Tensor:
        """ReLU(head(positional_encoding(flat))) without building the encoding."""
        h = torch.addmm(self.head_bias, flat, self.head_x)
        if len(self.freqs):
            octaves = (flat[:, None, :] * self.freqs[None, :, None]).reshape(flat.shape[0], -1)
            h.addmm_(torch.sin(octaves), self.head_sin)
            h.addmm_(torch.cos(octaves), self.head_cos)
        return h.relu_()

    def grid_head(self, points: torch.Tensor) -> torch.Tensor:
        """ReLU(head(grid features of points [P, N, 3], point-major)) without building the [N, P*F] input."""
        by_point = self.student.unit_points(points)
        coords = plane_coordinates(by_point) if len(self.planes) else None  # [3, P, N, 2]
        return self.grid_head_at(coords, by_point, points.shape[1])

    def grid_head_at(self, coords, by_point, n: int) -> torch.Tensor:
        """ReLU(head(...)) from the planes' read coordinates [3, P, N, 2] and the points in the unit cube [P, N, 3]
        (read only by feature volumes; None without them)."""
        grids = self.student.grids
        h = None  # the first level's product starts from the bias (no [N, W] copy of it)
        for plane, weight in zip(self.planes, self.plane_weights):  # read: [3, C, P, N]
            read = F.grid_sample(plane, coords, mode="bilinear", padding_mode="zeros", align_corners=True)
            if grids.combine == "product":
                read = read[0].mul_(read[1]).mul_(read[2])  # [C, P, N]
            h = self.add_level(h, read.view(-1, n).t(), weight)
        for volume, weight in zip(grids.volumes, self.volume_weights):  # read: [1, C, 1, P, N]
            p = by_point.shape[0]
            read = F.grid_sample(volume, by_point.reshape(1, 1, p, n, 3), mode="bilinear", padding_mode="zeros",
                                 align_corners=True)
            h = self.add_level(h, read.view(-1, n).t(), weight)
        return (self.head_bias.expand(n, -1).clone() if h is None else h).relu_()

    def add_level(self, h: torch.Tensor | None, features: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
        """h + features @ weight, in place; the head's bias + features @ weight for the first level (h None)."""
        return torch.addmm(self.head_bias, features, weight) if h is None else h.addmm_(features, weight)

    def ray_head(self, rays: torch.Tensor) -> torch.Tensor:
        """ReLU(head(...)) of rays [N, 8] = (a, b, near, far) of `Student.unit_rays` and `ray_span`: the points
        a + t b at the student's t from near to far, read without forming them."""
        n, points = rays.shape[0], self.student.config.points_per_ray
        a, b = rays[:, :3], rays[:, 3:6]
        t = stratified_samples(rays[:, 6], rays[:, 7], n, points, rays.device,
                               spacing=self.student.spacing).t()[:, :, None]  # [P, N, 1]
        coords = None
        if len(self.planes):  # one coordinate at a time: a broadcast over [3, P, N, 2] at once is 2.5x slower
            coords = rays.new_empty(3, points, n, 2)
            for plane, axes in enumerate(PLANE_AXES):
                for slot, axis in enumerate(axes):
                    torch.addcmul(a[None, :, axis], t[..., 0], b[None, :, axis], out=coords[plane, :, :, slot])
        by_point = torch.addcmul(a[None], t, b[None]) if len(self.student.grids.volumes) else None
        return self.grid_head_at(coords, by_point, n)

    def __call__(self, origins: torch.Tensor, directions: torch.Tensor) -> torch.Tensor:
        """rgb [N, 3] (a view of the outputs when the student also gives depth)."""
        return self.outputs(origins, directions)[:, :3]

    @torch.inference_mode()
    def render(self, origins: torch.Tensor, directions: torch.Tensor) -> RenderOutput:
        """rgb [N, 3] and, when the student carries it, depth [N], as `Student.forward` gives them."""
        return self.student.split_outputs(self.outputs(origins, directions))

    @torch.inference_mode()
    def outputs(self, origins: torch.Tensor, directions: torch.Tensor) -> torch.Tensor:
        """The student's sigmoid outputs [N, 3 or 4] (colour, then depth as a fraction of near..far)."""
        student = self.student
        if self.grid and student.config.contraction is None:
            origins, directions = model_space_rays(student.config.ndc, origins, directions)
            near, far, empty = student.ray_span(origins, directions)
            span = [torch.as_tensor(v, dtype=origins.dtype, device=origins.device).expand(origins.shape[0])
                    for v in (near, far)]
            rays = torch.cat([*student.unit_rays(origins, directions), torch.stack(span, 1)], 1)  # [N, 8]
            return student.on_crossing_rays(lambda picked: self.network(self.ray_head(picked)), rays, empty)
        points, empty = student.placed_points(origins, directions, point_major=self.grid)
        return student.on_crossing_rays(self.evaluate, points, empty, ray_dim=1 if self.grid else 0)

    def evaluate(self, points: torch.Tensor) -> torch.Tensor:
        """The sigmoid outputs [N, 3 or 4] of the rays' points ([P, N, 3] with the grid encoding, else [N, P, 3])."""
        if self.grid:
            return self.network(self.grid_head(points))
        return self.network(self.head(((points - self.student.center) * self.student.config.scale).flatten(1)))

    def network(self, h: torch.Tensor) -> torch.Tensor:
        """The sigmoid outputs [N, 3 or 4] from the head's activations h [N, W]: the residual body and the tail."""
        y = h
        for weight1, bias1, weight2 in self.blocks:  # the first block's sum is a new tensor: h is kept, not copied
            inner = torch.addmm(bias1, y, weight1).relu_()
            y = torch.addmm(y, inner, weight2) if y is h else y.addmm_(inner, weight2)
        y = y + h if y is h else y.add_(h)
        return torch.addmm(self.tail[1], y, self.tail[0]).sigmoid_()


def fast_path(model):
    """A FastStudent for a plain Student (exactly that class), else None (render it the ordinary way)."""
    return FastStudent(model) if type(model) is Student else None
