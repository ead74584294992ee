"""The fast grid teacher: dense voxel grids of density and features, a small colour MLP, empty-space skipping."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ..config import param
from ..contraction import DEPTH_SPAN, ContractedRays, ContractedSpace
from ..encoding import encoded_dim, positional_encoding
from ..occupancy import dilate
from ..rays import intersect_aabb
from ..volume import alpha_from_density, composite, distortion, termination_depth, uniform, weights_from_alpha
from .base import RenderOutput, model_space_rays
from .grid_samples import RaySamples, drawn_edges, even_edges, probe_points
from .voxels import SparseVoxels

EMPTY_RAW = -40.0  # raw density of carved voxels: softplus(-40 + shift) is ~1e-18, no opacity at all
SAMPLERS = ("march", "importance")


@dataclass
class GridConfig:
    """A DVGO-style teacher: trilinear density and feature grids over a box, colour from features and view."""

    resolution: int = param(128, "voxels along the longest side of the box", min=4, max=1024, gui=True)
    features: int = param(12, "feature channels per voxel fed to the colour MLP", min=1, max=64)
    mlp_width: int = param(64, "neurons per hidden layer of the colour MLP", min=4, max=1024)
    mlp_layers: int = param(2, "hidden layers of the colour MLP", min=1, max=8)
    view_frequencies: int = param(4, "positional-encoding octaves of the view direction (-1: no view input)", min=-1, max=10)
    step_ratio: float = param(0.5, "distance between ray samples, in voxels (the march; for the importance "
                              "sampler the reference step of initial_alpha and of empty-space skipping)", min=0.05,
                              max=4.0)
    initial_alpha: float = param(1e-4, "opacity of one sample step in an untrained grid", min=1e-9, max=0.5)
    skip_alpha: float = param(1e-4, "samples in voxels whose opacity is below this are skipped", min=0.0, max=0.5)
    sampler: str = param("march", "where a ray's samples go: 'march' (every step_ratio voxels through the occupied "
                         "voxels: an object in a box) or 'importance' (a no-gradient probe of the density at "
                         "probe_samples even steps, then `samples` intervals drawn where its weights are: for NDC "
                         "and contracted scenes, whose space is full); the teacher job sets it (--teacher.sampler)",
                         choices=SAMPLERS, scene=True)
    probe_samples: int = param(128, "importance sampler: even steps of the density probe along each ray", min=2,
                               max=4096)
    samples: int = param(32, "importance sampler: intervals per ray drawn where the probe's weights are, rendered "
                         "at their midpoints", min=1, max=1024)
    box_min: tuple = param((-1.5, -1.5, -1.5), "lower corner of the box holding the scene", scene=True)
    box_max: tuple = param((1.5, 1.5, 1.5), "upper corner of the box holding the scene", scene=True)
    near: float = param(2.0, "near bound of the rays", min=0.0, scene=True)
    far: float = param(6.0, "far bound of the rays", min=0.0, scene=True)
    background: tuple = param((1.0, 1.0, 1.0), "colour behind the scene", scene=True)
    ndc: dict | None = param(None, "NDC space of a forward-facing scene, or None for world space", scene=True)
    contraction: dict | None = param(None, "the contracted space of an unbounded scene (the box is then the contracted "
                                     "cube [-2, 2]^3), or None", scene=True)
    appearance_codes: int = param(0, "per-image appearance codes (one per training image; 0: none)", min=0, scene=True)
    appearance_dim: int = param(8, "values per appearance code, fed to the colour MLP beside the features", min=1,
                                max=64)

    def grid_shape(self) -> tuple[int, int, int]:
        """Voxels along (x, y, z)."""
        extent = [hi - lo for lo, hi in zip(self.box_min, self.box_max)]
        voxel = max(extent) / self.resolution
        return tuple(max(2, round(e / voxel)) for e in extent)

    def voxel_size(self) -> float:
        return max(hi - lo for lo, hi in zip(self.box_min, self.box_max)) / self.resolution


def gather_rows(values: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """values[index] for a 1-D index. On a CPU by index_select, whose backward is one index_add: plain indexing's
    backward, an accumulating index_put, runs on one thread there (3x as long for a teacher step's samples). On a
    GPU by plain indexing, whose backward sorts and stays deterministic (index_add's atomic adds would not)."""
    return values.index_select(0, index) if values.device.type == "cpu" else values[index]


class GridTeacher(nn.Module):
    """Sparse voxel tables of density and features over a box, interpolated trilinearly along each ray."""

    kind = "grid"
    depth_statistic = "median"  # how a ray's depth is read from its weights (core/volume.py DEPTH_STATISTICS)

    def __init__(self, config: GridConfig):
        super().__init__()
        self.config = config
        self.voxels = SparseVoxels(config.grid_shape(), {"density": (1, EMPTY_RAW), "feature": (config.features, 0.0)})
        dir_dim = encoded_dim(3, config.view_frequencies) if config.view_frequencies >= 0 else 0
        code_dim = config.appearance_dim if config.appearance_codes else 0
        if config.appearance_codes:  # zero codes: every image starts with the same appearance
            self.appearance = nn.Parameter(torch.zeros(config.appearance_codes, code_dim))
        layers, width_in = [], config.features + dir_dim + code_dim
        for _ in range(config.mlp_layers):
            layers += [nn.Linear(width_in, config.mlp_width), nn.ReLU()]
            width_in = config.mlp_width
        layers.append(nn.Linear(width_in, 3))
        self.rgbnet = nn.Sequential(*layers)
        self.register_buffer("occupied", torch.ones(self.voxels.voxel_count, dtype=torch.bool), persistent=False)
        self.register_buffer("box_min", torch.tensor(config.box_min, dtype=torch.float32), persistent=False)
        self.register_buffer("box_max", torch.tensor(config.box_max, dtype=torch.float32), persistent=False)
        self.register_buffer("active_min", self.box_min.clone(), persistent=False)
        self.register_buffer("active_max", self.box_max.clone(), persistent=False)
        self.register_buffer("background", torch.tensor(config.background, dtype=torch.float32), persistent=False)
        self._occupancy_epoch, self._probe_key, self._probe = 0, None, None
        self.register_load_state_dict_post_hook(lambda module, _keys: module.refresh_probe())

    @property
    def shape(self) -> tuple[int, int, int]:
        return self.voxels.shape

    @property
    def step_size(self) -> float:
        """World distance between consecutive samples on a ray."""
        return self.config.step_ratio * self.config.voxel_size()

    @property
    def samples_per_ray(self) -> int:
        """Samples a ray can take at most: across the occupied box's diagonal (the longest contracted path in an
        unbounded scene), or the importance sampler's probe; sizes render chunks."""
        if self.config.sampler == "importance":
            return max(self.config.probe_samples, self.config.samples)
        return self.marched_samples_per_ray

    @property
    def network_samples_per_ray(self) -> int:
        """Samples per ray the colour MLP can see at most (FLOP bounds): the drawn intervals, or the march's."""
        return self.config.samples if self.config.sampler == "importance" else self.marched_samples_per_ray

    @property
    def marched_samples_per_ray(self) -> int:
        """Samples the march can take on one ray."""
        if self.config.contraction is not None:
            return int(DEPTH_SPAN / self.step_size) + 2
        return int(float((self.active_max - self.active_min).norm()) / self.step_size) + 2

    @property
    def density_shift(self) -> float:
        """Bias that makes a zero density value have `initial_alpha` opacity per sample step."""
        target = -math.log(1.0 - self.config.initial_alpha) / self.step_size
        return math.log(math.expm1(target))

    def density_at(self, raw: torch.Tensor) -> torch.Tensor:
        return F.softplus(raw + self.density_shift)

    def voxel_density(self) -> torch.Tensor:
        """Density at every voxel centre [V] (unallocated voxels: the empty fill's)."""
        return self.density_at(self.voxels.dense("density")[:, 0])

    def voxel_alpha(self) -> torch.Tensor:
        """Opacity of one sample step at every voxel centre [V]."""
        return alpha_from_density(self.voxel_density(), self.step_size)

    def point_density(self, points: torch.Tensor) -> torch.Tensor:
        """Density [M] at model-space points [M, 3] as rendering sees it: zero outside the box and in skipped voxels."""
        coords = self.voxel_coords(points)
        inside = ((points >= self.box_min) & (points <= self.box_max)).all(-1) & self.occupied_at(coords)
        rows, weights, missing = self.voxels.corners(coords)
        density = self.density_at(self.voxels.lookup("density", rows, weights, missing)[:, 0])
        return torch.where(inside, density, torch.zeros_like(density))

    def refresh_probe(self) -> None:
        """Have the importance sampler's probe read the density as it is now (at its next use)."""
        self._occupancy_epoch += 1

    def probe_volume(self) -> torch.Tensor:
        """The density at every voxel as a dense volume [1, 1, nz, ny, nx], zero where skipped: what the importance
        sampler's probe reads (one trilinear read per point instead of sparse lookups). Rebuilt with the occupancy
        map (training: every occupancy_every steps once skipping has begun, and at each growth; before that it
        keeps the untrained grid's even density, so samples spread evenly along the rays), after a load or a move
        to another device, and on `refresh_probe`; an optimiser step alone does not rebuild it (it only places
        samples, and rebuilding it costs a pass over every voxel)."""
        table = self.voxels.density
        key = (table.data_ptr(), self._occupancy_epoch)
        if self._probe_key != key:
            with torch.no_grad():
                density = self.voxel_density() * self.occupied
                self._probe = self.voxels.volume(density[:, None]).contiguous()
            self._probe_key = key
        return self._probe

    def probe_density(self, points: torch.Tensor) -> torch.Tensor:
        """Density [M] at grid-space points [M, 3], read trilinearly from `probe_volume` (zero outside the box).
        On a CPU the points are read as a batch of one part per thread against the same volume (a view, not a
        copy): PyTorch's 3D grid_sample shares out its work by batch entry, so one entry runs on one thread."""
        unit = (points - self.box_min) / (self.box_max - self.box_min) * 2.0 - 1.0
        m = unit.shape[0]
        parts = max(1, min(torch.get_num_threads() if unit.device.type == "cpu" else 1, m))
        if m % parts:
            unit = torch.cat([unit, unit.new_zeros(parts - m % parts, 3)])
        volume = self.probe_volume().expand(parts, -1, -1, -1, -1)
        read = F.grid_sample(volume, unit.reshape(parts, 1, 1, -1, 3), mode="bilinear", padding_mode="zeros",
                             align_corners=True)
        return read.reshape(-1)[:m]

    def voxel_coords(self, points: torch.Tensor) -> torch.Tensor:
        """World points [M, 3] in voxel units (0 at the first voxel centre, n - 1 at the last)."""
        size = torch.tensor([n - 1 for n in self.shape], device=points.device, dtype=points.dtype)
        return (points - self.box_min) / (self.box_max - self.box_min) * size

    def voxel_centres(self) -> torch.Tensor:
        """World positions [V, 3] of all voxel centres, in lattice order."""
        axes = [torch.linspace(lo, hi, n) for lo, hi, n in zip(self.config.box_min, self.config.box_max, self.shape)]
        z, y, x = torch.meshgrid(axes[2], axes[1], axes[0], indexing="ij")
        return torch.stack([x, y, z], dim=-1).reshape(-1, 3).to(self.box_min.device)

    def occupied_at(self, coords: torch.Tensor) -> torch.Tensor:
        """Whether the voxels nearest to voxel coordinates [M, 3] may hold anything (empty-space skipping)."""
        nx, ny, nz = self.shape
        top = torch.tensor([nx - 1, ny - 1, nz - 1], device=coords.device)
        i = torch.minimum(coords.round().long().clamp_min(0), top)
        return self.occupied[(i[:, 2] * ny + i[:, 1]) * nx + i[:, 0]]

    def _dilate(self, mask: torch.Tensor, voxels: int) -> torch.Tensor:
        """A per-voxel mask [V] grown by `voxels` in every direction."""
        if voxels <= 0:
            return mask
        return dilate(self.voxels.volume(mask[:, None].float())[0, 0] > 0, voxels).reshape(-1)

    @torch.no_grad()
    def update_occupancy(self, dilation: int = 1, min_alpha: float | None = None) -> float:
        """Sample only voxels whose opacity per step exceeds `min_alpha` (default skip_alpha), grown by `dilation`
        voxels, and clip rays to the box around them. Returns the occupied fraction of the lattice."""
        threshold = self.config.skip_alpha if min_alpha is None else min_alpha
        self.refresh_probe()
        self.occupied = self._dilate(self.voxel_alpha() > threshold, dilation) & self.voxels.allocated
        centres = self.voxel_centres()[self.occupied]
        if centres.numel() == 0:
            self.active_min, self.active_max = self.box_min.clone(), self.box_min.clone()
        else:
            half = self.config.voxel_size()
            self.active_min = torch.maximum(centres.amin(0) - half, self.box_min)
            self.active_max = torch.minimum(centres.amax(0) + half, self.box_max)
        return float(self.occupied.float().mean())

    @torch.no_grad()
    def carve(self, empty: torch.Tensor) -> None:
        """Free voxels [V] known to be empty for good: they read as empty space and are never sampled.
        Parameters are replaced (build a new optimiser)."""
        self.voxels.keep_only(~empty)
        self.update_occupancy(min_alpha=0.0)

    @torch.no_grad()
    def prune(self, min_alpha: float, margin: int = 2) -> float:
        """Free voxels farther than `margin` voxels from any voxel with opacity above `min_alpha`; returns the
        allocated fraction. Parameters are replaced (build a new optimiser)."""
        self.voxels.keep_only(self._dilate(self.voxel_alpha() > min_alpha, margin))
        self.update_occupancy(min_alpha=min_alpha)
        return float(self.voxels.allocated.float().mean())

    @torch.no_grad()
    def resample(self, resolution: int, margin: int = 2) -> None:
        """Grow (or shrink) the lattice by trilinear interpolation, keeping what was learned; allocate the new
        voxels near the occupied ones. Parameters are replaced (build a new optimiser)."""
        keep = self.voxels.volume(self._dilate(self.occupied, margin)[:, None].float())
        self.config.resolution = resolution
        new_shape = self.config.grid_shape()
        nx, ny, nz = new_shape
        keep_new = F.interpolate(keep, size=(nz, ny, nx), mode="trilinear", align_corners=True).reshape(-1) > 0
        self.voxels.resize(new_shape, keep_new)
        self.occupied = torch.ones(self.voxels.voxel_count, dtype=torch.bool, device=self.box_min.device)
        self.update_occupancy(min_alpha=0.0)

    def space(self) -> ContractedSpace | None:
        """The contracted space of an unbounded scene (the grid's box is then [-2, 2]^3 in it), else None."""
        contraction = self.config.contraction
        return None if contraction is None else ContractedSpace.from_dict(contraction)

    def _offsets(self, n: int, device, randomize: bool, generator) -> torch.Tensor:
        """Where the first sample sits in its step [N, 1]: jittered for training, mid-step for rendering."""
        if randomize:
            return uniform((n, 1), device, generator)
        return torch.full((n, 1), 0.5, device=device)

    def contracted_samples(self, origins, directions, randomize=False, generator=None):
        """For an unbounded scene: the path length [N, S] of each sample along the contracted path (in radii,
        evenly spaced by the step size), which are live (before the path's end), each sample's contracted point
        [N, S, 3] and each path's whole length [N]."""
        rays = ContractedRays(self.space(), origins, directions)
        total = rays.length
        n_steps = max(1, int((total.max() / self.step_size).ceil().item()) if total.numel() else 1)
        steps = torch.arange(n_steps, device=origins.device, dtype=torch.float32)[None]
        lengths = (steps + self._offsets(origins.shape[0], origins.device, randomize, generator)) * self.step_size
        live = lengths < total[:, None]
        lengths = torch.minimum(lengths, total[:, None])
        return lengths, live, rays.points(rays.at(lengths)), total

    def sample_along_rays(self, origins, directions, randomize=False, generator=None):
        """Ray parameters t [N, S] where the rays cross the active box (in NDC space also within near/far), and
        which are live samples. The box, not fixed distances from the camera, bounds them: whatever is inside it
        renders from any distance."""
        cfg = self.config
        t_enter, t_exit, _ = self.ray_spans(origins, directions)
        step_t = self.step_size / directions.norm(dim=-1)
        span = ((t_exit - t_enter) / step_t).clamp_min(0.0)
        n_steps = int(span.max().ceil().item()) if span.numel() else 0
        n_steps = max(1, min(n_steps, int(math.ceil(3**0.5 * cfg.resolution / cfg.step_ratio)) + 1))
        offset = self._offsets(origins.shape[0], origins.device, randomize, generator)
        steps = torch.arange(n_steps, device=origins.device, dtype=torch.float32)[None] + offset
        t = t_enter[:, None] + steps * step_t[:, None]
        live = t < t_exit[:, None]
        return t, live

    def marched_samples(self, origins, directions, randomize=False, generator=None) -> RaySamples:
        """The fixed-step march: every step_size through the active box (or along the contracted path)."""
        if self.config.contraction is None:
            t, live = self.sample_along_rays(origins, directions, randomize, generator)
            return RaySamples(t, live, self.step_size, None, torch.full_like(t[:, 0], self.config.far))
        t, live, contracted, far = self.contracted_samples(origins, directions, randomize, generator)
        return RaySamples(t, live, self.step_size, contracted, far)

    def ray_spans(self, origins, directions):
        """Where each ray's samples may go: (start [N], end [N], ContractedRays or None); t in the rays' units
        through the active box (within near/far in NDC), or contracted path length from 0 to the path's end."""
        cfg = self.config
        if cfg.contraction is not None:
            rays = ContractedRays(self.space(), origins, directions)
            return torch.zeros_like(rays.length), rays.length, rays
        t_enter, t_exit = intersect_aabb(origins, directions, self.active_min, self.active_max)
        t_enter = t_enter.clamp_min(0.0 if cfg.ndc is None else cfg.near)
        if cfg.ndc is not None:
            t_exit = t_exit.clamp_max(cfg.far)
        return t_enter, torch.maximum(t_exit, t_enter), None

    def _grid_points(self, origins, directions, t, rays) -> torch.Tensor:
        """The grid-space points [N, K, 3] at ray parameters (or contracted lengths) t [N, K]."""
        if rays is not None:
            return rays.points(rays.at(t))
        return origins[:, None, :] + t[..., None] * directions[:, None, :]

    @torch.no_grad()
    def importance_samples(self, origins, directions, randomize=False, generator=None) -> RaySamples:
        """Probe the density at probe_samples even steps (no gradients), then draw `samples` intervals where the
        probe's weights are and place one sample at each interval's midpoint, standing for the interval's length."""
        cfg = self.config
        start, end, rays = self.ray_spans(origins, directions)
        scale = 1.0 if rays is not None else directions.norm(dim=-1, keepdim=True)  # t -> grid-space distance
        edges = even_edges(start, end, cfg.probe_samples)
        t_probe = probe_points(edges, randomize, generator)
        density = self.probe_density(self._grid_points(origins, directions, t_probe, rays).reshape(-1, 3))
        alpha = alpha_from_density(density.reshape(t_probe.shape), (edges[:, 1:] - edges[:, :-1]) * scale)
        drawn = drawn_edges(edges, weights_from_alpha(alpha), cfg.samples, randomize, generator)
        t = 0.5 * (drawn[:, 1:] + drawn[:, :-1])
        lengths = drawn[:, 1:] - drawn[:, :-1]
        contracted = rays.points(rays.at(t)) if rays is not None else None
        far = end if rays is not None else torch.full_like(start, cfg.far)
        unit_edges = None
        if randomize:  # training: the edges for the distortion loss, over fixed spans (not the active box)
            lo, hi = (0.0, end[:, None]) if rays is not None else (cfg.near, cfg.far)
            unit_edges = (drawn - lo) / (hi - lo)
        return RaySamples(t, lengths > 0, lengths * scale, contracted, far, unit_edges)

    def forward(self, origins, directions, randomize: bool = False, generator=None, image=None) -> RenderOutput:
        """Volume rendering of world rays; `image` [N] (training image of each ray) picks the appearance codes,
        else every ray takes their mean (one appearance for new views)."""
        cfg = self.config
        origins, directions = model_space_rays(cfg.ndc, origins, directions)
        place = self.importance_samples if cfg.sampler == "importance" else self.marched_samples
        samples = place(origins, directions, randomize, generator)
        t = samples.t
        n, s = t.shape
        flat_idx = samples.live.reshape(-1).nonzero()[:, 0]
        ray_idx = flat_idx // s
        if samples.contracted is None:
            points = origins[ray_idx] + t.reshape(-1)[flat_idx, None] * directions[ray_idx]
        else:
            points = samples.contracted.reshape(-1, 3)[flat_idx]
        coords = self.voxel_coords(points)
        keep = self.occupied_at(coords)
        flat_idx, coords, ray_idx = flat_idx[keep], coords[keep], ray_idx[keep]
        rows, weights_c, missing = self.voxels.corners(coords)
        density = self.density_at(self.voxels.lookup("density", rows, weights_c, missing)[:, 0])
        alpha_live = alpha_from_density(density, samples.live_distances(flat_idx))
        alpha = torch.zeros(n * s, device=t.device, dtype=alpha_live.dtype).index_put((flat_idx,), alpha_live)
        weights = weights_from_alpha(alpha.reshape(n, s))
        visible = weights.reshape(-1)[flat_idx] > cfg.skip_alpha
        features = self.voxels.lookup("feature", rows[visible], weights_c[visible], missing[visible])
        rgb_live = self._colour(features, directions, ray_idx[visible], image)
        colours = torch.zeros(n * s, 3, device=t.device, dtype=rgb_live.dtype).index_put((flat_idx[visible],), rgb_live)
        rgb, opacity = composite(weights, colours.reshape(n, s, 3), self.background)
        depth = termination_depth(self.depth_statistic, weights, t, samples.far)
        if cfg.contraction is not None:  # path length in radii -> scene units
            depth = depth * self.space().radius
        extras = {"alpha": alpha_live}
        if samples.unit_edges is not None:  # training with the importance sampler
            edges = samples.unit_edges
            mids, lengths = 0.5 * (edges[:, 1:] + edges[:, :-1]), edges[:, 1:] - edges[:, :-1]
            extras["distortion"] = distortion(weights, mids, lengths)
        return RenderOutput(rgb=rgb, depth=depth, opacity=opacity, extras=extras)

    def _colour(self, features, directions, ray_idx, image=None):
        """Colours [M, 3] of samples with features [M, F] on rays ray_idx [M]. The first layer's view-direction and
        appearance columns are applied once per ray and gathered to its samples: the same function as the MLP on
        the concatenated input, without encoding the view at every sample."""
        first, rest = self.rgbnet[0], self.rgbnet[1:]
        f = self.config.features
        per_ray = self._ray_inputs(directions, image)
        h = F.linear(features, first.weight[:, :f])
        if per_ray is None:
            h = h + first.bias
        else:
            h = h + gather_rows(F.linear(per_ray, first.weight[:, f:], first.bias), ray_idx)
        return torch.sigmoid(rest(h))

    def _ray_inputs(self, directions, image=None):
        """The colour MLP's per-ray inputs [N, D]: the encoded view direction and the appearance code (or None)."""
        parts = []
        if self.config.view_frequencies >= 0:
            viewdirs = directions / directions.norm(dim=-1, keepdim=True)
            parts.append(positional_encoding(viewdirs, self.config.view_frequencies))
        if self.config.appearance_codes:
            if image is None:
                parts.append(self.appearance.mean(0).expand(directions.shape[0], -1))
            else:
                parts.append(self.appearance[image.to(directions.device)])
        return torch.cat(parts, -1) if parts else None
