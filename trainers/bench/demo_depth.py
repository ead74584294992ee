"""The procedural demo scene's true depth against the depth a scene's teacher and student report on its test views
(the scene is ray-traced exactly, so every pixel's depth is known): `python -m trainers.bench.demo_depth [scene]`."""

from __future__ import annotations

import argparse
import json
import sys

import torch

from r2l_viewer.core.assets import demo_checkpoint_path
from r2l_viewer.core.checkpoint import SceneCheckpoint, load_scene
from r2l_viewer.core.datasets.demo import BOXES, SPHERES, albedo_is_marked, load_demo, trace_depth
from r2l_viewer.core.rays import camera_rays
from r2l_viewer.core.render import render_image
from r2l_viewer.core.volume import DEPTH_STATISTICS

STRIPED_BOX = len(SPHERES) + [style for _, _, style in BOXES].index("stripes")  # the primitive index of that box


def true_depth(c2w: torch.Tensor, intrinsics) -> tuple[torch.Tensor, torch.Tensor]:
    """The exact depth [H, W] of a demo view (inf off the object) and where it shows the box's red stripes [H, W]."""
    origins, directions = (v.reshape(-1, 3) for v in camera_rays(c2w.float(), intrinsics))
    t, primitive = trace_depth(origins, directions)
    red = primitive == STRIPED_BOX
    points = origins + torch.where(torch.isfinite(t), t, torch.zeros_like(t))[:, None] * directions
    red &= albedo_is_marked("stripes", points)
    return t.reshape(intrinsics.height, intrinsics.width), red.reshape(intrinsics.height, intrinsics.width)


def error_figures(errors: torch.Tensor) -> dict:
    """Median, mean and 90th percentile of absolute depth errors [N], and the share within 0.05 scene units."""
    if errors.numel() == 0:
        return {"pixels": 0}
    return {"pixels": int(errors.numel()), "median": float(errors.median()), "mean": float(errors.mean()),
            "p90": float(errors.quantile(0.9)), "within_0.05": float((errors <= 0.05).float().mean())}


def measure(scene: SceneCheckpoint, downscale: float, views: int, statistic: str) -> dict:
    """Depth errors against the truth on object pixels: all of them, the red stripes, the rest; per model."""
    split = load_demo(downscale, splits=("test",)).split("test")
    models = {"teacher": scene.build_teacher(), "student": scene.build_student()}
    if models["teacher"] is not None:
        models["teacher"].depth_statistic = statistic
    gathered = {role: {"all": [], "red stripes": [], "elsewhere": []} for role, m in models.items() if m is not None}
    for i in range(min(views, len(split))):
        truth, red = true_depth(split.poses[i], split.intrinsics)
        seen = torch.isfinite(truth)
        with torch.inference_mode():
            for role, parts in gathered.items():
                depth = render_image(models[role], split.poses[i], split.intrinsics).depth
                if depth is None:
                    continue
                error = (depth - truth).abs()
                parts["all"].append(error[seen])
                parts["red stripes"].append(error[red])
                parts["elsewhere"].append(error[seen & ~red])
    return {role: {part: error_figures(torch.cat(chunks)) for part, chunks in parts.items() if chunks}
            for role, parts in gathered.items()}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m trainers.bench.demo_depth", description=__doc__)
    p.add_argument("scene", nargs="?", default=str(demo_checkpoint_path()), help="a demo scene (default: the bundled)")
    p.add_argument("--downscale", type=float, default=4.0, help="test views at 400/N pixels (default 4: 100x100)")
    p.add_argument("--views", type=int, default=20, help="test views measured (default: all 20)")
    p.add_argument("--statistic", choices=DEPTH_STATISTICS, default=None,
                   help="the teacher's depth: expected or median termination (default: both, one after the other)")
    args = p.parse_args(argv)
    scene = load_scene(args.scene)
    if scene.meta.format != "demo":
        print(f"{args.scene}: not a demo scene; its true depth is unknown", file=sys.stderr)
        return 2
    for statistic in [args.statistic] if args.statistic else DEPTH_STATISTICS:
        print(json.dumps({"teacher_depth": statistic} | measure(scene, args.downscale, args.views, statistic)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
