"""`r2l-eval`: PSNR, SSIM, latency and FLOPs of a scene's teacher and student on a dataset split."""

from __future__ import annotations

import argparse
import json
import sys

from r2l_viewer.core.allocator import reuse_large_blocks
from r2l_viewer.core.config import validate
from r2l_viewer.core.errors import UserError, report_bug
from r2l_viewer.core.metrics import FLOPS_DEFINITION

from trainers.cli.train import StopOnSignals
from trainers.cli.args import BriefArgumentParser, non_negative_int, positive_int
from trainers.configs import EvalConfig
from r2l_viewer.core.model_text import human_bytes
from trainers.jobs.evaluate import Evaluate
from trainers.events import DONE
from trainers.cli.progress import ProgressPrinter
from trainers.storage.workspace import RunContext, Workspace, describe_os_error


def build_parser() -> argparse.ArgumentParser:
    p = BriefArgumentParser(prog="r2l-eval", description="Measure a scene's teacher and student against real images.")
    p.add_argument("checkpoint", help="the scene checkpoint (scene.ckpt)")
    p.add_argument("--data", help="the dataset folder or 'demo' (default: the one the scene was trained on)")
    p.add_argument("--split", default="test", choices=["train", "val", "test"], help="which split (default: test)")
    p.add_argument("--downscale", type=positive_int, help="image size 1/N (default: as trained)")
    p.add_argument("--limit", type=non_negative_int, default=0, help="only the first K views (default: all)")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N")
    p.add_argument("--warmup", type=non_negative_int, default=1, help="untimed renders before timing (default 1)")
    p.add_argument("--save", help="write <view>_teacher, _student, _truth and _error PNGs and contact_sheet.png (real, "
                   "teacher and student side by side for up to 6 views) into this folder (and for "
                   "a student with depth, both models' depth maps: _depth.png in colour, _depth16.png as 16-bit grey "
                   "from near to far, and _depth_error.png)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--debug", action="store_true", help="show full tracebacks of errors")
    return p


def print_table(result: dict) -> None:
    print(f"{result['scene']} / {result['split']} on {result['device']}")
    print(f"{'model':<9}{'PSNR':>8}{'SSIM':>8}{'ms/frame':>10}{'on disk':>11}{'MFLOPs/ray':>12}  resolution x images")
    for role in ("teacher", "student"):
        r = result.get(role)
        if r is None:
            print(f"{role:<9}  (none in this checkpoint)")
            continue
        h, w = r["resolution"]
        print(f"{role:<9}{r['psnr']:>8.2f}{r['ssim']:>8.4f}{r['ms_per_frame']:>10.1f}{human_bytes(r['bytes']):>11}"
              f"{r['flops_per_ray'] / 1e6:>12.3f}  {h}x{w} x {r['images']}")
    print(f"MFLOPs/ray: {FLOPS_DEFINITION}")
    student = result.get("student")
    if student and student.get("encoding"):
        print(f"student encoding: {student['encoding']} ({student['encoding_text']})"
              + ("; MFLOPs/ray count its MLP, not the grid lookups" if student["encoding"] == "grid" else ""))
    pair = result.get("student_vs_teacher")
    if pair:
        print(f"student's renders against the teacher's: PSNR {pair['psnr']:.2f} dB; against the truth the teacher is "
              f"{pair['psnr_gap']:+.2f} dB ahead; the student is {pair['speedup']:.1f}x faster per frame")
    print_depth(result)


def print_depth(result: dict) -> None:
    """The student's depth against the teacher's, when the student carries depth."""
    depth = result.get("depth")
    if depth:
        print(f"student's depth against the teacher's: mean absolute error {depth['mae']:.4f} {depth['units']}; "
              f"{depth['within_1pct'] * 100:.1f}% of pixels within 1% of near..far ({depth['near']:g} to "
              f"{depth['far']:g})")
        if depth["seen_mae"] is not None:
            print(f"  where the teacher sees something ({depth['seen_share'] * 100:.1f}% of pixels, the rest is "
                  f"background at far): {depth['seen_mae']:.4f}, {depth['seen_within_1pct'] * 100:.1f}% within 1%")
    elif (result.get("student") or {}).get("depth"):
        print("student's depth: not compared (the scene has no teacher)")


def evaluate(args) -> tuple[int, dict | None]:
    """Run the evaluation job with a progress bar on stderr; (exit code, result or None when stopped)."""
    config = EvalConfig(split=args.split, limit=args.limit, warmup=args.warmup, save_dir=args.save)
    validate(config)
    ctx = RunContext(Workspace(args.checkpoint), data=args.data, downscale=args.downscale, device=args.device)
    ctx.torch_device  # fail now when the device does not exist
    with StopOnSignals(ctx, "r2l-eval", "stopping after the current render") as signals:
        last = ProgressPrinter(quiet=args.quiet).consume(Evaluate(config, ctx).run())
    if last is None or last.kind != DONE:
        print("r2l-eval: stopped; nothing printed", file=sys.stderr)
        return signals.exit_code, None
    return 0, last.metrics


def main(argv: list[str] | None = None) -> int:
    reuse_large_blocks()  # (the jobs run on this thread: its heap serves their large tensors)
    args = build_parser().parse_args(argv)
    try:
        code, result = evaluate(args)
    except KeyboardInterrupt:
        print("r2l-eval: interrupted", file=sys.stderr)
        return 130
    except UserError as exc:
        if args.debug:
            raise
        print(f"r2l-eval: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        if args.debug:
            raise
        print(f"r2l-eval: error: {describe_os_error(exc)}", file=sys.stderr)
        return 2
    except Exception:  # not the user's doing: the traceback, and a line asking for a report
        if args.debug:
            raise
        return report_bug("r2l-eval")
    if result is None:
        return code
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print_table(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
