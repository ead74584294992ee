"""`r2l-render`: a scene's camera path (the standard orbit or a nerfstudio camera-path JSON) as an mp4 or PNGs."""

from __future__ import annotations

import argparse
import sys

from r2l_viewer.core.allocator import reuse_large_blocks
from r2l_viewer.core.config import field_help, validate
from r2l_viewer.core.errors import UserError, report_bug

from trainers.cli.train import StopOnSignals
from trainers.cli.args import BriefArgumentParser, frame_size
from trainers.configs import VideoConfig
from trainers.events import DONE
from trainers.cli.progress import ProgressPrinter
from trainers.video.job import RenderVideo
from trainers.storage.workspace import RunContext, Workspace, describe_os_error

PROGRAM = "r2l-render"


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got '{text}'") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a number above 0, got {text}")
    return value


def build_parser() -> argparse.ArgumentParser:
    p = BriefArgumentParser(prog=PROGRAM, description="Render a camera path of a scene into an mp4 video (H.264) "
                            "or a folder of PNG frames, with the student, the teacher or both side by side.")
    p.add_argument("checkpoint", help="the scene checkpoint (scene.ckpt)")
    p.add_argument("--path", default="orbit", help=field_help(VideoConfig, "path") + " (default: orbit)")
    p.add_argument("--out", required=True, help=field_help(VideoConfig, "out"))
    p.add_argument("--model", default="student", choices=("student", "teacher", "both"),
                   help=field_help(VideoConfig, "model") + " (default: student)")
    p.add_argument("--output", default="rgb", choices=("rgb", "depth"),
                   help=field_help(VideoConfig, "output") + " (default: rgb)")
    p.add_argument("--size", type=frame_size(8, 8192), metavar="WxH", help=field_help(VideoConfig, "size").replace(
        "width,height", "WIDTHxHEIGHT"))
    p.add_argument("--fps", type=positive_float, help=field_help(VideoConfig, "fps"))
    p.add_argument("--quality", type=int, default=8, choices=range(1, 11), metavar="1-10",
                   help=field_help(VideoConfig, "quality") + " (default: 8)")
    p.add_argument("--force", action="store_true", help=field_help(VideoConfig, "overwrite"))
    p.add_argument("--device", default="auto", help="auto (CUDA if present), cpu, cuda or cuda:N")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--debug", action="store_true", help="show full tracebacks of errors")
    return p


def render(args) -> int:
    """Run the video job with a progress bar on stderr; the exit code."""
    config = VideoConfig(path=args.path, out=args.out, model=args.model, output=args.output, size=args.size,
                         fps=args.fps, quality=args.quality, overwrite=args.force)
    validate(config)
    ctx = RunContext(Workspace(args.checkpoint), device=args.device)
    ctx.torch_device  # fail now when the device does not exist
    job = RenderVideo(config, ctx)
    with StopOnSignals(ctx, PROGRAM, "stopping after the current frame; the unfinished video is deleted") as signals:
        last = ProgressPrinter(quiet=args.quiet).consume(job.run())
    if last is None or last.kind != DONE:
        print(f"{PROGRAM}: stopped; {args.out} was not written", file=sys.stderr)
        return signals.exit_code
    if args.quiet:
        print(f"{PROGRAM}: {last.message}", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    reuse_large_blocks()  # (the jobs run on this thread: its heap serves their large tensors)
    args = build_parser().parse_args(argv)
    try:
        return render(args)
    except KeyboardInterrupt:
        print(f"{PROGRAM}: interrupted; {args.out} was not written", file=sys.stderr)
        return 130
    except UserError as exc:
        if args.debug:
            raise
        print(f"{PROGRAM}: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        if args.debug:
            raise
        print(f"{PROGRAM}: error: {describe_os_error(exc)}", file=sys.stderr)
        return 2
    except Exception:  # not the user's doing: the traceback, and a line asking for a report
        if args.debug:
            raise
        return report_bug(PROGRAM)


if __name__ == "__main__":
    sys.exit(main())
