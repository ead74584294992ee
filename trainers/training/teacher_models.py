"""How each kind of teacher is built for a scene and optimised: losses, parameter groups, structural steps."""

from __future__ import annotations

import dataclasses

import torch
import torch.nn.functional as F

from r2l_viewer.core.carving import visual_hull
from r2l_viewer.core.contraction import OUTER
from r2l_viewer.core.datasets import Dataset
from r2l_viewer.core.models import GridTeacher, VanillaNerf

from trainers.configs import TeacherConfig
from trainers.training.adam import adam
from trainers.errors import JobError
from trainers.training.schedule import exponential_decay

PRUNE_ALPHA = 1e-3  # voxels whose opacity per sample stays below this are skipped once training has begun
WARMUP_STEPS = 100  # without growth steps, skipping starts here
MIN_OCCUPIED = 0.01  # skipping that would leave less than this share of the kept voxels is postponed


def build_teacher(config: TeacherConfig, dataset: Dataset):
    """A fresh teacher of config.kind fitted to the scene's bounds (and, for the grid, its box, or the contracted
    cube of an unbounded scene, and the appearance codes it asks for)."""
    meta = dataset.meta
    bounds = meta.model_bounds()
    if config.kind == "nerf":
        if meta.contraction is not None:
            raise JobError(f"{meta.name}: the NeRF teacher models a bounded scene; this capture is unbounded "
                           "(see check-data): use --teacher.kind grid")
        return VanillaNerf(dataclasses.replace(config.nerf, **bounds))
    box = (tuple(meta.box_min), tuple(meta.box_max)) if meta.contraction is None else ((-OUTER,) * 3, (OUTER,) * 3)
    grid = dataclasses.replace(
        config.grid,
        resolution=min(config.start_resolution, config.grid.resolution),
        box_min=box[0],
        box_max=box[1],
        contraction=meta.contraction,
        appearance_codes=len(dataset.split("train")) if wants_appearance(config, dataset) else 0,
        sampler=grid_sampler(config, dataset),
        **bounds,
    )
    return GridTeacher(grid)


def grid_sampler(config: TeacherConfig, dataset: Dataset) -> str:
    """The grid teacher's sampler: as asked, or for 'auto' the march where the scene is an object in a box (its
    occupied voxels are few) and the importance sampler where its space is full (NDC, contracted)."""
    if config.sampler != "auto":
        return config.sampler
    meta = dataset.meta
    return "importance" if meta.ndc or meta.contraction is not None else "march"


def wants_appearance(config: TeacherConfig, dataset: Dataset) -> bool:
    """Whether the grid teacher learns a code per training image: 'auto' takes them for photos without cut-out
    masks from a phone or camera capture in the nerfstudio/instant-ngp format (synthetic renders, masked objects
    and LLFF's curated sets keep one exposure, and keep training as before)."""
    if config.appearance != "auto":
        return config.appearance == "on"
    return dataset.split("train").alphas is None and dataset.meta.format == "nerfstudio"


class TeacherOptimisation:
    """Parameter groups, losses and (for the grid) carving and growth; rebuilds the optimiser when needed."""

    def __init__(self, model, config: TeacherConfig, dataset: Dataset):
        self.model, self.config, self.dataset = model, config, dataset
        self.optimizer = self._make_optimizer()

    def _make_optimizer(self) -> torch.optim.Optimizer:
        cfg = self.config
        if isinstance(self.model, GridTeacher):
            groups = [
                {"params": list(self.model.voxels.parameters()), "lr": cfg.lr},
                {"params": list(self.model.rgbnet.parameters()) + self._codes(), "lr": cfg.mlp_lr},
            ]
            return adam(groups, betas=(0.9, 0.99))
        return adam(self.model.parameters(), lr=cfg.lr, betas=(0.9, 0.999))

    def _codes(self) -> list:
        """The per-image appearance codes, when the teacher has them (they learn at the colour MLP's rate)."""
        return [self.model.appearance] if self.model.config.appearance_codes else []

    def base_rates(self) -> list[float]:
        return [self.config.lr, self.config.mlp_lr][: len(self.optimizer.param_groups)]

    def rates(self, step: int) -> list[float]:
        cfg = self.config
        return [exponential_decay(step, cfg.steps, lr, cfg.lr_final_factor) for lr in self.base_rates()]

    def loss(self, output, target: torch.Tensor) -> torch.Tensor:
        loss = F.mse_loss(output.rgb, target)
        coarse = output.extras.get("coarse_rgb")
        if coarse is not None:
            loss = loss + F.mse_loss(coarse, target)
        spread = output.extras.get("distortion")
        if spread is not None and self.config.distortion > 0:
            loss = loss + self.config.distortion * spread.mean()
        return loss

    # ---- the grid's structural steps ---------------------------------------------------------------------
    def resolution_at(self, step: int) -> int:
        """The grid's resolution after the growth steps up to `step` (geometric from start to final)."""
        cfg = self.config
        grown = sum(1 for s in cfg.upsample_steps if s <= step)
        stages = len(cfg.upsample_steps)
        if stages == 0 or grown == 0:
            return min(cfg.start_resolution, cfg.grid.resolution)
        ratio = cfg.grid.resolution / cfg.start_resolution
        return round(cfg.start_resolution * ratio ** (grown / stages))

    @property
    def prune_from(self) -> int:
        """Step from which voxels still near-transparent are skipped (before it, every kept voxel trains)."""
        return min(self.config.upsample_steps, default=WARMUP_STEPS)

    def begin(self) -> str:
        """Before the first step: carve away space the training masks show empty. Returns a log line."""
        return self._restructure(0) if isinstance(self.model, GridTeacher) else ""

    def restore(self, step: int) -> None:
        """After loading a saved model: recompute what is skipped (it is derived, not saved)."""
        if isinstance(self.model, GridTeacher):
            self.refresh_occupancy(step)

    def refresh_occupancy(self, step: int) -> None:
        """Skip near-transparent voxels once past the warm-up, unless that would leave (almost) nothing to train
        (a scene whose density has not risen yet keeps every voxel)."""
        model = self.model
        if step >= self.prune_from:
            allocated = float(model.voxels.allocated.float().mean())
            if model.update_occupancy(min_alpha=PRUNE_ALPHA) >= MIN_OCCUPIED * allocated:
                return
        model.update_occupancy(min_alpha=0.0)

    def after_step(self, step: int) -> str:
        """Grow the grid and refresh empty-space skipping on schedule. Returns a log line (or '')."""
        if not isinstance(self.model, GridTeacher):
            return ""
        cfg, model = self.config, self.model
        if step in cfg.upsample_steps:
            model.resample(self.resolution_at(step))
            grown = "x".join(map(str, model.shape))
            return f"grid grown to {grown}; " + self._restructure(step)
        if step % cfg.occupancy_every == 0 and step >= self.prune_from:
            self.refresh_occupancy(step)
        return ""

    def _restructure(self, step: int) -> str:
        """Free the voxels known to be empty (from masks, or else from the density so far); new optimiser."""
        model, train = self.model, self.dataset.split("train")
        if train.alphas is not None:
            allocated = model.voxels.allocated
            centres = model.voxel_centres()[allocated]
            inside = visual_hull(centres, train.poses.to(centres.device), train.cameras(), train.alphas.to(centres.device))
            empty = allocated.clone()
            empty[allocated] = ~inside
            model.carve(empty)
            kept = float(model.voxels.allocated.float().mean())
            message = f"space carving from the training masks keeps {kept * 100:.1f}% of voxels"
        elif step >= self.prune_from and (model.voxel_alpha() > PRUNE_ALPHA).float().mean() > 0:
            kept = model.prune(PRUNE_ALPHA)
            message = f"{kept * 100:.1f}% of voxels kept near the surfaces found so far"
        else:
            message = "no masks to carve with: all voxels train until the first growth step"
        self.restore(step)
        self.optimizer = self._make_optimizer()
        return message
