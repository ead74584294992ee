"""Named presets, from `tiny` (a 2-core CPU in minutes) to `paper` (the R2L paper's settings on a GPU)."""

from __future__ import annotations

from dataclasses import dataclass, field

from r2l_viewer.core.errors import UserError
from r2l_viewer.core.models import GridConfig, NerfConfig, StudentConfig

from trainers.configs import DistillConfig, EvalConfig, FinetuneConfig, PseudoConfig, TeacherConfig


@dataclass
class Preset:
    """Settings for every job of the pipeline, and what they are for."""

    name: str
    summary: str
    teacher: TeacherConfig
    pseudo: PseudoConfig
    distill: DistillConfig
    finetune: FinetuneConfig
    evaluate: EvalConfig = field(default_factory=EvalConfig)


# The tiny student reads learned feature planes at 32 points per ray (docs/BENCHMARKS.md, "The learned ray
# encoding": on lego it beat the frequency encoding by 1.9 dB in half the steps; more points and a coarse 64-texel
# level bought more than finer planes or more channels). It gives depth too ("Depth from the student": on lego the
# depth output cost no measurable PSNR); the paper preset's student stays without it, exactly the paper's network.
# Issue 17: the three planes' reads multiplied (K-Planes, TensoRF) at 4 channels, and the points placed only where the
# ray crosses the teacher's occupancy (rays crossing none skip the network): on lego the gap to the teacher fell from
# 2.8 dB to 0.5-0.9 dB with a narrower head input (docs/BENCHMARKS.md, "Plane products and the teacher's occupancy").
# Occupancy cells of 64^3 rather than 32^3 hold a ray's points to a tighter span: +0.3 dB on lego's test views for
# the same frame time, as fewer rays cross it (docs/BENCHMARKS.md, "A finer occupancy").
# The points at u^1.5 of the way through that span rather than evenly (POINT_SPACING): an opaque surface is seen early
# in it (on lego half the surfaces lie in its first 31%), and the points crowd there for the same frame cost; +0.06 dB
# on average over four paired lego runs, the distilled students 0.03-0.18 dB closer to their teacher; u^2 lost 0.16 dB
# (docs/BENCHMARKS.md, "Points where the surface is").
POINT_SPACING = 1.5
TINY_STUDENT = StudentConfig(points_per_ray=32, encoding="grid", grid_planes=(64, 128, 256), grid_channels=4,
                             grid_combine="product", occupancy_resolution=64, point_spacing=POINT_SPACING, width=128,
                             blocks=4, depth=True)
TINY_DISTILL_STEPS = 5000
# The teacher ends once its validation PSNR rose less than 0.1 dB in 500 steps at the final grid (docs/BENCHMARKS.md,
# "A teacher that has settled"): the two phone captures settle at step 2500-3000 of 3600 (+0.00-0.08 dB over the
# last 500), lego was still rising by 0.25 dB per 500 at step 3600, so lego trains every step as before.
TINY_SETTLE_DB = 0.1
# mip-NeRF 360's distortion loss at its own weight (0.01), for grid teachers with the importance sampler (forward-
# facing and unbounded scenes; objects in a box take the march and are untouched): on the held-out test photos it
# lifted forward_c's teacher 0.47 dB and fruit's 0.38 dB (fruit's 4 validation photos: -0.27 dB; docs/BENCHMARKS.md,
# "The distortion loss"). The weight is mip-NeRF 360's, not chosen on these captures.
GRID_DISTORTION = 0.01
# A student step whose gradient norm exceeds 4x its running average is scaled down to it and halves the learning
# rate from then on (trainers/training/gradient_guard.py): a 52,797-step lego distillation spiked at step 6224
# without it (docs/BENCHMARKS.md, "The learning curve"); ordinary steps there stayed under 1.5x. The paper preset
# keeps the paper's training as it was.
OUTLIER_LIMIT = 4.0


def _tiny() -> Preset:
    return Preset(
        name="tiny",
        summary="a 2-core CPU, 100x100 images: the whole pipeline in under 20 minutes",
        teacher=TeacherConfig(
            kind="grid", steps=3600, batch_rays=4096, start_resolution=48, upsample_steps=(400, 900, 1500),
            grid=GridConfig(resolution=128, features=12, mlp_width=64), settle_db=TINY_SETTLE_DB,
            distortion=GRID_DISTORTION,
        ),
        pseudo=PseudoConfig(images=800, ray_budget=8_000_000),  # 800 views at 100x100; fewer for larger images
        distill=DistillConfig(
            student=TINY_STUDENT,
            points_in_box=True,
            steps=TINY_DISTILL_STEPS,
            batch_rays=4096,
            lr=6e-3,
            grid_lr=5e-2,
            warmup_steps=100,
            warmup_lr=4e-4,
            decay_steps=TINY_DISTILL_STEPS,
            hard_rays=512,
            outlier_limit=OUTLIER_LIMIT,
        ),
        finetune=FinetuneConfig(steps=1000, batch_rays=4096, lr=5e-5, val_every=100, outlier_limit=OUTLIER_LIMIT),
    )


def _standard() -> Preset:
    return Preset(
        name="standard",
        summary="one GPU, 400x400 images, about 30 minutes end to end",
        teacher=TeacherConfig(
            kind="grid",
            steps=20000,
            batch_rays=8192,
            start_resolution=64,
            upsample_steps=(1000, 2000, 3000, 4000),
            grid=GridConfig(resolution=256, features=12, mlp_width=128),
            distortion=GRID_DISTORTION,
        ),
        pseudo=PseudoConfig(images=2000),
        distill=DistillConfig(
            student=StudentConfig(points_per_ray=32, encoding="grid", grid_planes=(64, 128, 256, 512), grid_channels=8,
                                  grid_combine="product", occupancy_resolution=64, point_spacing=POINT_SPACING,
                                  width=256, blocks=8, depth=True),
            steps=60000,
            batch_rays=32768,
            lr=1e-3,
            grid_lr=2e-2,
            decay_steps=60000,
            hard_rays=8192,
            outlier_limit=OUTLIER_LIMIT,
            points_in_box=True,
            val_every=2000,
            save_every=5000,
        ),
        finetune=FinetuneConfig(steps=1000, batch_rays=16384, lr=1e-4, grid_lr=2e-3, outlier_limit=OUTLIER_LIMIT),
    )


def _paper() -> Preset:
    return Preset(
        name="paper",
        summary="the R2L paper: vanilla NeRF teacher, 88 x 256 student, 10k pseudo views, 600k steps (days on one GPU)",
        teacher=TeacherConfig(
            kind="nerf", steps=200_000, batch_rays=1024, lr=5e-4, lr_final_factor=0.1 ** (200_000 / 250_000),
            nerf=NerfConfig(), val_every=10_000, save_every=10_000,
        ),
        pseudo=PseudoConfig(images=10_000),
        distill=DistillConfig(
            student=StudentConfig(),
            steps=600_000,
            batch_rays=81_920,
            lr=5e-4,
            warmup_steps=200,
            warmup_lr=1e-4,
            decay_steps=500_000,
            hard_fraction=0.2,
            hard_rays=16_384,
            normalize_points=False,
            val_every=10_000,
            save_every=10_000,
        ),
        finetune=FinetuneConfig(steps=1000, batch_rays=81_920, lr=5e-4, val_every=100),
    )


PRESETS = {"tiny": _tiny, "standard": _standard, "paper": _paper}


def get_preset(name: str) -> Preset:
    """A fresh copy of a named preset; a ValueError lists the names when it is unknown."""
    if name not in PRESETS:
        raise UserError(f"unknown preset '{name}': choose one of {', '.join(PRESETS)}")
    return PRESETS[name]()
