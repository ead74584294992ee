"""`r2l-eval`: PSNR, SSIM, latency and FLOPs of a scene's teacher and student on a dataset split."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from r2l_viewer.core.checkpoint import load_scene
from r2l_viewer.core.config import validate
from r2l_viewer.core.datasets import load_dataset
from r2l_viewer.core.device import resolve_device

from .cli import USER_ERRORS
from .configs import EvalConfig
from .evaluate import evaluate_scene


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="r2l-eval", description="Measure a scene's teacher and student against real images.")
    p.add_argument("checkpoint", help="the scene checkpoint (scene.ckpt)")
    p.add_argument("--data", help="the dataset folder or 'demo' (default: the one the scene was trained on)")
    p.add_argument("--split", default="test", choices=["train", "val", "test"], help="which split (default: test)")
    p.add_argument("--downscale", type=int, help="image size 1/N (default: as trained)")
    p.add_argument("--limit", type=int, default=0, help="only the first K views (default: all)")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N")
    p.add_argument("--warmup", type=int, default=1, help="untimed renders before timing (default 1)")
    p.add_argument("--save", type=Path, help="write teacher | student | truth | error PNGs per view into this folder")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--debug", action="store_true", help="show full tracebacks of errors")
    return p


def print_table(result: dict) -> None:
    print(f"{result['scene']} / {result['split']} on {result['device']}")
    print(f"{'model':<9}{'PSNR':>8}{'SSIM':>8}{'ms/frame':>10}{'MFLOPs/ray':>12}{'MB':>8}  resolution x images")
    for role in ("teacher", "student"):
        r = result.get(role)
        if r is None:
            print(f"{role:<9}  (none in this checkpoint)")
            continue
        h, w = r["resolution"]
        print(f"{role:<9}{r['psnr']:>8.2f}{r['ssim']:>8.4f}{r['ms_per_frame']:>10.1f}"
              f"{r['flops_per_ray'] / 1e6:>12.3f}{r['bytes'] / 1e6:>8.2f}  {h}x{w} x {r['images']}")
    gap = result.get("student_vs_teacher")
    if gap:
        print(f"student vs teacher: {gap['psnr']:.2f} dB apart; gap to truth {gap['psnr_gap']:+.2f} dB; "
              f"{gap['speedup']:.1f}x faster per frame")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        config = EvalConfig(split=args.split, limit=args.limit, warmup=args.warmup)
        validate(config)
        scene = load_scene(args.checkpoint)
        data = args.data or scene.meta.source
        if data is None:
            raise ValueError(f"{args.checkpoint}: records no dataset; pass --data")
        downscale = args.downscale or int(scene.meta.extra.get("downscale", 1))
        split = load_dataset(data, downscale, (args.split,)).split(args.split)
        result = evaluate_scene(scene, split, args.split, config, resolve_device(args.device), args.save)
    except USER_ERRORS as exc:
        if args.debug:
            raise
        print(f"r2l-eval: error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print_table(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
