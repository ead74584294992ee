"""The student as one traceable function of world rays, for ONNX: NDC warp, box intersection, occupied span, points,
encoding, MLP, background for rays that cross no occupied cell (and the depth output, when the student carries it).

Built from the student's weights as r2l_viewer/core/fast_student.py regroups them (the head applied to x, sin and
cos of the octaves, or to each grid level's reads, without assembling the encoding; residual biases carried
forward), so that the exported graph does fewer passes over memory; its ray-to-point steps are the student's own
(`Student.ray_points`, `Student.unit_points`); the occupied-span search takes its traceable every-ray form under
tracing (its few in-place steps the exporter turns into plain ones; tests/trainers/export checks the graph)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from r2l_viewer.core.fast_student import FastStudent
from r2l_viewer.core.models import Student

VOLUME_OPSET = 20  # ONNX GridSample reads 3D volumes from opset 20 on (opset 16-19: 2D only)
DEFAULT_OPSET = 17


def minimum_opset(student: Student) -> int:
    """The lowest ONNX opset that can hold this student's graph (17, or 20 for grid volumes)."""
    config = student.config
    return VOLUME_OPSET if config.encoding == "grid" and len(config.grid_volumes) else DEFAULT_OPSET


class StudentGraph(nn.Module):
    """`forward(origins, directions)` -> rgb [N, 3] for world rays [N, 3], equal to `student(o, d).rgb`; for a
    student with depth, (rgb [N, 3], depth [N]) equal to `student(o, d)`'s."""

    def __init__(self, student: Student):
        super().__init__()
        self.student = student.eval()
        fast = FastStudent(student)
        self.grid = fast.grid
        if self.grid:
            self.plane_weights = [w.detach() for w in fast.plane_weights]
            self.volume_weights = [w.detach() for w in fast.volume_weights]
        else:
            self.head_x, self.head_sin, self.head_cos = (w.detach() for w in (fast.head_x, fast.head_sin, fast.head_cos))
            self.freqs = fast.freqs
        self.head_bias = fast.head_bias.detach()
        self.blocks = [tuple(t.detach() for t in block) for block in fast.blocks]
        self.tail_weight, self.tail_bias = (t.detach() for t in fast.tail)

    @property
    def output_names(self) -> list[str]:
        return ["rgb", "depth"] if self.student.config.depth else ["rgb"]

    def frequency_head(self, points: torch.Tensor) -> torch.Tensor:
        """ReLU(head(positional encoding)) of points [N, P, 3], from x, sin and cos of all octaves at once."""
        config = self.student.config
        flat = ((points - self.student.center) * config.scale).flatten(1)
        h = flat @ self.head_x + self.head_bias
        if len(self.freqs):
            octaves = (flat[:, None, :] * self.freqs[None, :, None]).flatten(1)
            h = h + torch.sin(octaves) @ self.head_sin + torch.cos(octaves) @ self.head_cos
        return F.relu(h)

    def grid_head(self, points: torch.Tensor) -> torch.Tensor:
        """ReLU(head(grid features)) of points [N, P, 3]: each level read as [features, rays] and multiplied by
        its block of the head weight."""
        grids, n, p = self.student.grids, points.shape[0], points.shape[1]
        by_point = self.student.unit_points(points).transpose(0, 1)  # [P, N, 3]
        h = self.head_bias
        coords = torch.stack([by_point[..., [0, 1]], by_point[..., [0, 2]], by_point[..., [1, 2]]])  # [3, P, N, 2]
        for plane, weight in zip(grids.planes, self.plane_weights):  # read: [3, C, P, N]
            read = F.grid_sample(plane, coords, mode="bilinear", padding_mode="zeros", align_corners=True)
            if grids.combine == "product":
                read = read[0] * read[1] * read[2]  # [C, P, N]
            h = h + read.reshape(-1, n).t() @ weight
        for volume, weight in zip(grids.volumes, self.volume_weights):  # read: [1, C, 1, P, N]
            read = F.grid_sample(volume, by_point.reshape(1, 1, p, n, 3), mode="bilinear", padding_mode="zeros",
                                 align_corners=True)
            h = h + read.reshape(-1, n).t() @ weight
        return F.relu(h)

    def forward(self, origins: torch.Tensor, directions: torch.Tensor) -> torch.Tensor:
        points, empty = self.student.placed_points(origins, directions)
        h = self.grid_head(points) if self.grid else self.frequency_head(points)
        y = h
        for weight1, bias1, weight2 in self.blocks:
            y = y + F.relu(y @ weight1 + bias1) @ weight2
        values = torch.sigmoid((y + h) @ self.tail_weight + self.tail_bias)
        out = self.student.split_outputs(self.student.with_background(values, empty))
        return out.rgb if out.depth is None else (out.rgb, out.depth)
