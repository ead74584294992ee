"""The R2L student: a deep residual MLP that maps the points sampled along one ray straight to its colour.

The points are encoded either as in the paper (sines and cosines of their coordinates) or by learned feature
planes read at each point (`encoding="grid"`, see feature_grids.py); either way one network evaluation per ray."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ..config import param
from ..contraction import OUTER, ContractedRays, ContractedSpace
from ..encoding import encoded_dim, positional_encoding
from ..errors import UserError
from ..occupancy import dilate, occupied_span, pack_bits, picks_rows, unpack_bits
from ..rays import intersect_aabb
from ..volume import stratified_samples
from .base import RenderOutput, model_space_rays
from .feature_grids import COMBINES, FeatureGrids, features_per_point

ENCODINGS = ("frequency", "grid")


@dataclass
class StudentConfig:
    """Shape of the neural light field; the defaults are the paper's 88-layer network."""

    points_per_ray: int = param(16, "points sampled along each ray between near and far (evenly, or as point_spacing "
                                "says)", min=1, max=256, gui=True)
    encoding: str = param("frequency", "how each point is encoded: 'frequency' (sines and cosines of its coordinates, "
                          "the paper) or 'grid' (learned feature planes over the scene box)", choices=ENCODINGS,
                          gui=True)
    frequencies: int = param(10, "frequency encoding: octaves per coordinate (2^0 .. 2^(L-1))", min=0, max=16, gui=True)
    grid_planes: tuple[int, ...] = param((64, 128, 256), "grid encoding: texels per side of each level of xy/xz/yz feature "
                               "planes (coarse to fine)", min=2, max=4096, order="<=")
    grid_volumes: tuple[int, ...] = param((), "grid encoding: voxels per side of each level of dense feature volumes "
                                "(coarse to fine; none by default: planes are finer for their size and faster on a "
                                "CPU)", min=2, max=1024, order="<=")
    grid_channels: int = param(4, "grid encoding: features per texel of every plane and volume", min=1, max=64)
    grid_combine: str = param("concat", "grid encoding: each plane level's xy, xz, yz features side by side ('concat')"
                              " or multiplied elementwise ('product', as K-Planes and TensoRF: a third of the head "
                              "inputs)", choices=COMBINES)
    occupancy_resolution: int = param(0, "cells per side of the teacher's occupancy grid over the box: each ray's "
                                      "points go only between the first and last occupied cell it crosses, rays "
                                      "crossing none show the background (0: off; only with a box: off for NDC and "
                                      "contracted scenes, which have none)", min=0, max=256)
    width: int = param(256, "neurons per hidden layer", min=4, max=4096, gui=True)
    blocks: int = param(43, "residual blocks of two linear layers (linear layers = 2 * blocks + 2)", min=0, max=512, gui=True)
    near: float = param(2.0, "ray parameter of the first point (scene's near bound)", min=0.0, scene=True)
    far: float = param(6.0, "ray parameter of the last point (scene's far bound)", min=0.0, scene=True)
    center: tuple = param((0.0, 0.0, 0.0), "points are shifted by -center before encoding", scene=True)
    scale: float = param(1.0, "then multiplied by scale (1 = raw coordinates, as in the paper)", min=1e-6, scene=True)
    ndc: dict | None = param(None, "NDC space of a forward-facing scene, or None for world space", scene=True)
    box_min: tuple | None = param(None, "with box_max: sample each ray only where it crosses this box (None: near to far)", scene=True)
    box_max: tuple | None = param(None, "upper corner of that box", scene=True)
    background: tuple = param((1.0, 1.0, 1.0), "colour of rays that cross no occupied cell (with the occupancy grid)",
                              scene=True)
    contraction: dict | None = param(None, "the contracted space of an unbounded scene: points go evenly along each "
                                     "ray's contracted path and are encoded there (None: world or NDC space)",
                                     scene=True)
    point_spacing: float = param(1.0, "with an occupancy grid: the points go at u^s of the way from the first to the "
                                 "last occupied cell, u evenly spaced in [0, 1] (1: evenly; above 1: closer together "
                                 "near the first, where an opaque surface is seen)", min=1.0, max=4.0)
    depth: bool = param(False, "also predict each ray's depth (the teacher's expected ray parameter, near to far) as "
                        "a fourth output of the last layer: same single evaluation per ray", gui=True)

    @property
    def features_per_point(self) -> int:
        """Values that encode one point."""
        if self.encoding == "grid":
            return features_per_point(len(self.grid_planes), len(self.grid_volumes), self.grid_channels,
                                      self.grid_combine)
        return encoded_dim(3, self.frequencies)

    @property
    def uses_occupancy(self) -> bool:
        """Whether points follow an occupancy grid: one is asked for and there is a box to hold it (never in NDC
        or contracted space)."""
        return bool(self.occupancy_resolution) and self.box_min is not None and self.ndc is None \
            and self.contraction is None

    @property
    def input_dim(self) -> int:
        return self.points_per_ray * self.features_per_point

    @property
    def linear_layers(self) -> int:
        return 2 * self.blocks + 2

    @property
    def outputs(self) -> int:
        """Values the last layer gives per ray: colour, and depth when the student carries it."""
        return 4 if self.depth else 3


class ResidualBlock(nn.Module):
    """Linear -> ReLU -> Linear, plus the block's input; no activation after the sum, no normalisation."""

    def __init__(self, width: int):
        super().__init__()
        self.fc1 = nn.Linear(width, width)
        self.fc2 = nn.Linear(width, width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.fc2(F.relu(self.fc1(x)))


class Student(nn.Module):
    """Head Linear+ReLU, residual body with a skip around it, tail Linear+sigmoid: one evaluation per ray. With
    `config.depth` the tail gives a fourth value, the ray's depth (as a fraction of near..far)."""

    kind = "student"
    skips_empty_rays = True  # rays that cross no occupied cell skip the network (see on_crossing_rays)

    def __init__(self, config: StudentConfig):
        super().__init__()
        self.config = config
        if config.encoding not in ENCODINGS:
            raise UserError(f"unknown student encoding {config.encoding!r}; expected one of {', '.join(ENCODINGS)}")
        if config.encoding == "grid":
            self.grids = FeatureGrids(tuple(config.grid_planes), tuple(config.grid_volumes), config.grid_channels,
                                      config.grid_combine)
        self.head = nn.Linear(config.input_dim, config.width)
        self.body = nn.Sequential(*[ResidualBlock(config.width) for _ in range(config.blocks)])
        self.tail = nn.Linear(config.width, config.outputs)
        self.register_buffer("center", torch.tensor(config.center, dtype=torch.float32), persistent=False)
        if config.box_min is not None:
            self.register_buffer("box_min", torch.tensor(config.box_min, dtype=torch.float32), persistent=False)
            self.register_buffer("box_max", torch.tensor(config.box_max, dtype=torch.float32), persistent=False)
        if config.uses_occupancy:
            r = config.occupancy_resolution
            self.register_buffer("occupancy_bits", pack_bits(torch.ones(r, r, r, dtype=torch.bool)))
            self.register_buffer("occupied_cells", torch.ones(r, r, r, dtype=torch.bool), persistent=False)
            self.register_buffer("background", torch.tensor(config.background, dtype=torch.float32), persistent=False)
            self.register_load_state_dict_post_hook(lambda module, _keys: module.unpack_occupancy())

    def set_occupancy(self, cells: torch.Tensor) -> None:
        """Store the teacher's occupancy, bool cells [R, R, R] indexed [x, y, z] over the box (see occupancy.py)."""
        r = self.config.occupancy_resolution
        if not self.config.uses_occupancy:
            raise ValueError("this student has no occupancy grid (none asked for, or no box to hold one)")
        if tuple(cells.shape) != (r, r, r):
            raise ValueError(f"occupancy cells {tuple(cells.shape)} do not match occupancy_resolution {r}")
        self.occupancy_bits = pack_bits(cells.bool()).to(self.occupancy_bits.device)
        self.unpack_occupancy()

    def unpack_occupancy(self) -> None:
        """Cells the points are placed by: the stored bits grown by one cell, so that sampling misses no edge."""
        if self.config.uses_occupancy:
            self.occupied_cells = dilate(unpack_bits(self.occupancy_bits, self.config.occupancy_resolution), 1)

    def ray_points(self, origins, directions, randomize=False, generator=None, point_major=False) -> torch.Tensor:
        """Points [N, P, 3] along the rays ([P, N, 3] when `point_major`), fixed in their bins for rendering,
        jittered inside them for training."""
        return self.placed_points(origins, directions, randomize, generator, point_major)[0]

    def placed_points(self, origins, directions, randomize=False, generator=None, point_major=False):
        """(points as `ray_points` gives them, and which rays cross no occupied cell [N] bool, or None without an
        occupancy grid): those rays show the background (`with_background`)."""
        cfg = self.config
        if cfg.contraction is not None:
            return self.contracted_points(origins, directions, randomize, generator, point_major), None
        origins, directions = model_space_rays(cfg.ndc, origins, directions)
        near, far, empty = self.ray_span(origins, directions)
        t = stratified_samples(near, far, origins.shape[0], cfg.points_per_ray, origins.device, generator,
                               jitter=randomize, spacing=self.spacing)
        if point_major:
            return torch.addcmul(origins, t.t()[..., None], directions), empty
        return origins[:, None, :] + t[..., None] * directions[:, None, :], empty

    @property
    def spacing(self) -> float:
        """The points' spacing along a ray's span: the config's with an occupancy grid, else even (1)."""
        return self.config.point_spacing if self.config.uses_occupancy else 1.0

    def with_background(self, values: torch.Tensor, empty: torch.Tensor | None) -> torch.Tensor:
        """The sigmoid outputs [N, outputs] with rays that cross no occupied cell set to the background colour (and
        depth to far)."""
        if empty is None:
            return values
        return torch.where(empty[:, None], self.background_values().to(values.dtype), values)

    def background_values(self) -> torch.Tensor:
        """What a ray that crosses no occupied cell gives [outputs]: the background colour (and depth at far)."""
        return self.background if not self.config.depth else torch.cat([self.background, self.background.new_ones(1)])

    def on_crossing_rays(self, evaluate, points: torch.Tensor, empty: torch.Tensor | None, ray_dim: int = 0):
        """`evaluate(points)` [M, outputs] run only on the rays that cross an occupied cell (points [N, P, 3], or
        [P, N, 3] with ray_dim 1), the background for the rest: the same values as evaluating every ray and
        `with_background`, for the cost of the rays that show something. On a CPU only (on a GPU picking the rays
        waits for the device at every call; not measured there), not while tracing or compiling (fixed shapes: see
        `picks_rows`) and not with `skips_empty_rays` off: then every ray is evaluated."""
        if empty is None or not self.skips_empty_rays or not picks_rows(points):
            return self.with_background(evaluate(points), empty)
        crossing = (~empty).nonzero().squeeze(1)
        if len(crossing) == len(empty):
            return evaluate(points)
        fill = self.background_values()
        if not len(crossing) and not torch.is_grad_enabled():
            return fill.expand(len(empty), -1).clone()
        values = evaluate(points.index_select(ray_dim, crossing))  # (zero rows in training: a graph all the same)
        return fill.to(values.dtype).expand(len(empty), -1).index_copy(0, crossing, values)

    def contracted_points(self, origins, directions, randomize=False, generator=None, point_major=False):
        """Points [N, P, 3] (or [P, N, 3]) of an unbounded scene, in contracted space, evenly spaced along each
        ray's contracted path from the camera to the far shell."""
        rays = ContractedRays(ContractedSpace.from_dict(self.config.contraction), origins, directions)
        lengths = stratified_samples(0.0, rays.length, origins.shape[0], self.config.points_per_ray, origins.device,
                                     generator, jitter=randomize)
        points = rays.points(rays.at(lengths))
        return points.transpose(0, 1) if point_major else points

    def ray_span(self, origins, directions):
        """Where the points go on each ray, and which rays cross no occupied cell (None without occupancy): near to
        far, or the part inside the box (rays missing it: near to far), or with occupancy the part between the
        first and last occupied cell."""
        cfg = self.config
        if cfg.box_min is None:
            return cfg.near, cfg.far, None
        enter, leave = intersect_aabb(origins, directions, self.box_min, self.box_max)
        enter, leave = enter.clamp(cfg.near, cfg.far), leave.clamp(cfg.near, cfg.far)
        hit = leave > enter + 1e-4
        near = torch.where(hit, enter, torch.full_like(enter, cfg.near))
        far = torch.where(hit, leave, torch.full_like(leave, cfg.far))
        if not cfg.uses_occupancy:
            return near, far, None
        first, last, crossed = occupied_span(origins, directions, near, far, hit, self.occupied_cells, self.box_min,
                                             self.box_max)
        return torch.where(crossed, first, near), torch.where(crossed, last, far), ~crossed

    def grid_parameters(self) -> list[nn.Parameter]:
        """The learned encoding's parameters (none for the frequency encoding); they train at their own rate."""
        return list(self.grids.parameters()) if self.config.encoding == "grid" else []

    def network_parameters(self) -> list[nn.Parameter]:
        """The MLP's parameters."""
        grid = {id(p) for p in self.grid_parameters()}
        return [p for p in self.parameters() if id(p) not in grid]

    def unit_points(self, points: torch.Tensor) -> torch.Tensor:
        """Points [N, P, 3] mapped so that the box the features cover is [-1, 1]^3 (the box's own axes when the
        student has one, else the cube of side 2 / scale around center)."""
        if self.config.box_min is not None:
            return (points - self.box_min) * (2.0 / (self.box_max - self.box_min)) - 1.0
        if self.config.contraction is not None:  # the contracted cube [-2, 2]^3
            return points * (1.0 / OUTER)
        return (points - self.center) * self.config.scale

    def unit_rays(self, origins: torch.Tensor, directions: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(a, b) [N, 3] with unit_points(origins + t * directions) = a + t * b for every t: the model-space rays in
        the features' unit cube. Not for contracted space, where the points do not lie on straight rays."""
        if self.config.contraction is not None:
            raise ValueError("a contracted student's points do not lie on straight rays: use contracted_points")
        if self.config.box_min is not None:
            scale = 2.0 / (self.box_max - self.box_min)
            return (origins - self.box_min) * scale - 1.0, directions * scale
        return (origins - self.center) * self.config.scale, directions * self.config.scale

    def encode(self, points: torch.Tensor) -> torch.Tensor:
        """Network input [N, P * features_per_point] from points [N, P, 3], the points' encodings in ray order."""
        if self.config.encoding == "grid":
            n, p, _ = points.shape
            return self.grids(self.unit_points(points).reshape(n * p, 3)).reshape(n, self.config.input_dim)
        flat = ((points - self.center) * self.config.scale).flatten(1)
        return positional_encoding(flat, self.config.frequencies)

    def forward_encoded(self, x: torch.Tensor) -> torch.Tensor:
        """The last layer's values [N, outputs] after the sigmoid: colour, then (with depth) depth in [0, 1]."""
        h = F.relu(self.head(x))
        h = self.body(h) + h
        return torch.sigmoid(self.tail(h))

    def split_outputs(self, values: torch.Tensor) -> RenderOutput:
        """rgb [N, 3] and depth [N] (None without depth) from the sigmoid outputs [N, outputs]; depth 0..1 spans
        near..far, so a ray that meets nothing can sit at far, as the teachers put it."""
        if not self.config.depth:
            return RenderOutput(rgb=values)
        near, far = self.config.near, self.config.far
        return RenderOutput(rgb=values[:, :3], depth=values[:, 3] * (far - near) + near)

    def depth_fraction(self, depth: torch.Tensor) -> torch.Tensor:
        """Depth in the ray parameter's units as a fraction of near..far (what the depth loss compares)."""
        return (depth - self.config.near) / (self.config.far - self.config.near)

    def forward(self, origins, directions, randomize: bool = False, generator=None) -> RenderOutput:
        points, empty = self.placed_points(origins, directions, randomize, generator)
        values = self.on_crossing_rays(lambda crossing: self.forward_encoded(self.encode(crossing)), points, empty)
        return self.split_outputs(values)
