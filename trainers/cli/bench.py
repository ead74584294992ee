"""`r2l-bench`: student and teachers side by side on one device: latency, rays/s, FLOPs, share of the matmul
rate, speed-ups; training and pseudo-data throughput; the tiny student through onnxruntime. Prints a table, or one
JSON object with --json."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from r2l_viewer.core.allocator import reuse_large_blocks
from r2l_viewer.core.device import resolve_device
from r2l_viewer.core.errors import UserError, report_bug

from trainers.bench.run import DEFAULT_SCENE, MAX_SIZE, MIN_SIZE, run_bench
from trainers.bench.table import print_table
from trainers.cli.args import BriefArgumentParser


def check_size(option: str, size: int) -> int:
    """A frame side the bench can render on any device; a UserError naming the option otherwise."""
    if not MIN_SIZE <= size <= MAX_SIZE:
        raise UserError(f"{option} takes sizes from {MIN_SIZE} to {MAX_SIZE} pixels, got {size}")
    return size


def frame_sizes(text: str) -> tuple[int, ...]:
    """'100,200,400' as (100, 200, 400): whole numbers in the bench's range, each once."""
    try:
        sizes = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise UserError(f"--resolutions takes sizes like 100,200,400, got '{text}'") from None
    if len(set(sizes)) != len(sizes):
        raise UserError(f"--resolutions names a size twice: '{text}'")
    return tuple(check_size("--resolutions", size) for size in sizes)


def main(argv: list[str] | None = None) -> int:
    reuse_large_blocks()  # (the jobs run on this thread: its heap serves their large tensors)
    p = BriefArgumentParser(prog="r2l-bench", description=__doc__)
    p.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N")
    p.add_argument("--quick", action="store_true", help="fewer repeats and estimates: under 5 minutes on a CPU")
    p.add_argument("--scene", type=Path, default=DEFAULT_SCENE, help="a scene checkpoint with a grid teacher "
                   "(default: the bundled demo)")
    p.add_argument("--resolutions", default="100,200,400",
                   help=f"square frame sizes, {MIN_SIZE} to {MAX_SIZE} (default 100,200,400)")
    p.add_argument("--pseudo-size", type=int, default=None,
                   help=f"side of the pseudo views timed, {MIN_SIZE} to {MAX_SIZE} (default: the scene's own size on a "
                   "CPU, 400 on CUDA)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    args = p.parse_args(argv)
    try:
        return bench(args)
    except KeyboardInterrupt:
        print("r2l-bench: interrupted", file=sys.stderr)
        return 130
    except UserError as exc:
        print(f"r2l-bench: error: {exc}", file=sys.stderr)
        return 2
    except Exception:
        return report_bug("r2l-bench")


def bench(args) -> int:
    """Measure as the arguments ask and print the table (or the JSON object)."""
    device = resolve_device(args.device)
    resolutions = frame_sizes(args.resolutions)
    if args.pseudo_size is not None:
        check_size("--pseudo-size", args.pseudo_size)
    result = run_bench(device, args.quick, args.scene, resolutions, args.pseudo_size)
    print(json.dumps(result, indent=2)) if args.json else print_table(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
