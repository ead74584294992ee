"""`r2l-train`: run the pipeline's jobs and the inspection commands from the command line."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time

from r2l_viewer.core.allocator import reuse_large_blocks
from r2l_viewer.core.config import field_help
from r2l_viewer.core.errors import UserError, report_bug
from r2l_viewer.core.models.nerf import NerfWeightsError

from trainers.cli.args import BriefArgumentParser, add_config_flags, apply_overrides, positive_int
from trainers.configs import DistillConfig, FinetuneConfig, PseudoConfig, TeacherConfig
from trainers.distributed import (DEFAULT_TIMEOUT_S, SHARED_JOBS, end_process, environment_world_size, join,
                                  launched_by_torchrun, leave, opened_a_group, program_name, refusal)
from trainers.events import STOPPED
from trainers.export.onnx_export import ExportConfig, export_student
from trainers.jobs.import_nerf import import_nerf
from r2l_viewer.core.datasets.scene_shape import CHOICES as SCENE_KINDS
from trainers.inspection import check_data, describe_preset
from trainers.jobs.pipeline import run_all, run_job
from trainers.presets import PRESETS, get_preset
from trainers.cli.progress import ProgressPrinter
from trainers.errors import JobError
from trainers.storage.workspace import RunContext, Workspace, describe_os_error

JOB_SETTINGS = {"teacher": TeacherConfig, "pseudo": PseudoConfig, "distill": DistillConfig, "finetune": FinetuneConfig}
JOB_FLAGS = {
    "teacher": ("teacher",),
    "pseudo": ("pseudo",),
    "distill": ("distill", "pseudo"),
    "finetune": ("finetune",),
    "all": ("teacher", "pseudo", "distill", "finetune"),
}
JOB_HELP = {
    "teacher": "train a teacher (grid or NeRF) on the real images",
    "pseudo": "render pseudo views with the teacher into compact shards",
    "distill": "distil the teacher into the R2L student",
    "finetune": "finetune the student on the real images",
    "all": "teacher, pseudo data, distil and finetune in one go",
}
DOWNSCALE_HELP = (
    "images at 1/N of the original size: the Blender PNGs, the LLFF photos (images/, the size poses_bounds.npy "
    "records) or a nerfstudio capture's images (read from images_N/ when present, else from a folder whose factor "
    "divides N), the demo's 400x400 (default: Blender 1, LLFF 8, demo 4, i.e. 100x100; nerfstudio: the smallest "
    "power of two that brings the longest side to 800 pixels or fewer)"
)
DATA_HELP = "a Blender, LLFF or nerfstudio scene folder (or a nerfstudio transforms .json file), or 'demo'"
FORCE_HELP = {
    "teacher": "replace the teacher the checkpoint already has (its student would no longer match)",
    "distill": "replace the finished student the checkpoint already has",
    "all": "replace the teacher (and then the pseudo data and student) the checkpoint already has",
}


def _print(result: dict, as_json: bool) -> None:
    if as_json:
        print(json.dumps(result, indent=None if as_json == "compact" else 2))
        return
    for key, value in result.items():
        if isinstance(value, dict):
            print(f"{key}:")
            for k, v in value.items():
                print(f"  {k}: {v:,}" if isinstance(v, int) and not isinstance(v, bool) else f"  {k}: {v}")
        else:
            print(f"{key}: {value}")


def cmd_describe(args) -> int:
    _print(describe_preset(args.preset), args.json)
    return 0


def cmd_check_data(args) -> int:
    _print(check_data(args.folder, args.downscale, args.scene_kind), args.json)
    return 0


def cmd_export(args) -> int:
    config = ExportConfig(onnx=args.onnx, opset=args.opset, check_rays=args.check_rays)
    result = export_student(args.scene, config)
    check = result["check"]
    note = check.get("skipped") or f"onnxruntime agrees to {check['max_abs_error']:.1e} on {check['rays']} rays"
    print(f"r2l-train: wrote {result['onnx']} and {result['sidecar']} ({note})", file=sys.stderr)
    _print(result, args.json)
    return 0


def _add_export_parser(sub) -> None:
    help_text = "write the scene's student as one ONNX graph (rays in, colour out) and a JSON sidecar"
    p = sub.add_parser("export", help=help_text, description=help_text + ": point placement, box intersection, "
                       "encoding and network all inside the graph; inputs origins and directions [N, 3], output rgb.")
    p.add_argument("scene", help="the scene checkpoint whose student to export")
    p.add_argument("--onnx", required=True, help=field_help(ExportConfig, "onnx"))
    p.add_argument("--opset", type=int, default=0, help=field_help(ExportConfig, "opset"))
    p.add_argument("--check-rays", type=int, default=4096, help=field_help(ExportConfig, "check_rays"))
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=cmd_export)


def nerf_args(pairs: list[str]) -> dict[str, str]:
    """`--nerf-arg KEY=VALUE` flags as a dict."""
    settings = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise NerfWeightsError(f"--nerf-arg {pair!r}: write it as KEY=VALUE, e.g. --nerf-arg N_importance=64")
        settings[key.strip()] = value
    return settings


def cmd_import_nerf(args) -> int:
    ctx = RunContext(Workspace(args.out), data=args.data, downscale=args.downscale, force=args.force,
                     scene_kind=args.scene_kind)
    result = import_nerf(args.weights, ctx, nerf_args(args.nerf_arg))
    print(f"r2l-train: saved {args.out} with the NeRF as its teacher; next: r2l-train pseudo --out {args.out}",
          file=sys.stderr)
    _print(result, args.json)
    return 0


class StopOnSignals:
    """Ctrl-C (SIGINT) or SIGTERM (sent by timeout, systemd, docker, job schedulers, torchrun) asks the job to stop
    cleanly: it saves, and the command exits with 128 + the signal's number. A second signal aborts, unless it comes
    within `repeat_grace` seconds of the first: under torchrun a Ctrl-C reaches each process twice, from the
    terminal and forwarded by torchrun."""

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self, ctx: RunContext, program: str = "r2l-train",
                 doing: str = "stopping after the current step and saving", repeat_grace: float = 0.0,
                 announce: bool = True):
        self.ctx, self.program, self.doing = ctx, program, doing
        self.repeat_grace, self.announce = repeat_grace, announce
        self.received: int | None = None
        self.first_at = 0.0

    def __enter__(self):
        self.previous = {signum: signal.signal(signum, self._handle) for signum in self.SIGNALS}
        return self

    def _handle(self, signum, frame):
        name = "Ctrl-C" if signum == signal.SIGINT else signal.Signals(signum).name
        if self.ctx.stop.is_set():
            if time.monotonic() - self.first_at < self.repeat_grace:
                return  # the same request delivered twice
            raise KeyboardInterrupt
        if self.announce:
            print(f"\n{self.program}: {name}: {self.doing} ({name} again to abort)", file=sys.stderr)
        self.received, self.first_at = signum, time.monotonic()
        self.ctx.stop.set()

    @property
    def exit_code(self) -> int:
        return 128 + int(self.received or signal.SIGINT)

    def __exit__(self, *exc):
        for signum, handler in self.previous.items():
            signal.signal(signum, handler)
        return False


def given_settings(args) -> frozenset:
    """The settings given on the command line ('distill.steps', 'seed'): --resume keeps the saved run's others."""
    flags = {dest for dest, value in vars(args).items() if "." in dest and value is not None}
    return frozenset(flags | ({"seed"} if args.seed is not None else set()))


TORCHRUN_REPEAT_GRACE = 2.0  # seconds within which a second signal is the same Ctrl-C (terminal and torchrun)


REFUSAL_GRACE_S = 5.0  # how long ranks other than 0 wait before refusing (torchrun usually ends them first)


class SingleProcessOnly(JobError):
    """A command that runs in one process was started by torchrun with several."""


def cmd_job(args) -> int:
    preset = get_preset(args.preset)
    for name in JOB_FLAGS[args.command]:
        setattr(preset, name, apply_overrides(getattr(preset, name), args, name))
    ctx = RunContext(
        Workspace(args.out), data=args.data, downscale=args.downscale, device=args.device,
        seed=0 if args.seed is None else args.seed, resume=args.resume, force=getattr(args, "force", False),
        given=given_settings(args), scene_kind=args.scene_kind,
    )
    requested = ctx.torch_device  # fail now, not after minutes of work, when the device does not exist
    ranks, device = join(requested, args.dist_timeout)  # (under torchrun: one process of several)
    try:
        return _run_job(args, preset, ctx, ranks, device)
    finally:
        leave(ranks)


def _run_job(args, preset, ctx: RunContext, ranks, device) -> int:
    ctx.ranks, ctx.device, ctx.workspace.quiet = ranks, str(device), not ranks.leader
    ctx.workspace.check_writable()  # fail now when the checkpoint cannot be written
    events = run_all(preset, ctx) if args.command == "all" else run_job(args.command, preset, ctx)
    grace = TORCHRUN_REPEAT_GRACE if launched_by_torchrun() else 0.0
    with StopOnSignals(ctx, repeat_grace=grace, announce=ranks.leader) as signals:
        last = ProgressPrinter(quiet=args.quiet or not ranks.leader).consume(events)
    ranks.barrier("finishing")  # every rank ends with rank 0's files written
    if not ranks.leader:
        return signals.exit_code if last is not None and last.kind == STOPPED else 0
    if last is not None and last.kind == STOPPED:
        print("r2l-train: stopped; continue with the same command and --resume", file=sys.stderr)
        return signals.exit_code
    print(f"r2l-train: saved {args.out} (metrics log: {ctx.workspace.metrics_log.name})", file=sys.stderr)
    return 0


def refuse_single_process_commands(command: str) -> None:
    """Under torchrun with several processes, only the jobs whose work the ranks share may run."""
    if environment_world_size() > 1 and command not in SHARED_JOBS + ("describe", "check-data"):
        raise SingleProcessOnly(refusal(command))


def add_scene_kind(parser, more: str = "") -> None:
    """The --scene-kind flag: how a capture is modelled, chosen from its cameras unless given."""
    parser.add_argument("--scene-kind", default="auto", choices=SCENE_KINDS,
                        help="how to model the scene: auto (from the cameras, as check-data says), object (in a box), "
                        "unbounded (contracted space) or forward (NDC, forward-facing)" + more)


def _add_job_parser(sub, name: str) -> None:
    p = sub.add_parser(name, help=JOB_HELP[name], description=JOB_HELP[name])
    p.add_argument("--out", required=True, help="the scene checkpoint to write (created or updated)")
    p.add_argument("--data", help=DATA_HELP + " (default: the checkpoint's dataset)")
    p.add_argument("--preset", default="tiny", choices=list(PRESETS), help="settings to start from (default: tiny)")
    p.add_argument("--downscale", type=positive_int, help=DOWNSCALE_HELP + "; a later job keeps the checkpoint's factor")
    add_scene_kind(p, "; a later job keeps the checkpoint's")
    p.add_argument("--device", default="auto", help="auto (CUDA if present), cpu, cuda or cuda:N")
    p.add_argument("--seed", type=int, help="random seed (default 0, or the interrupted run's with --resume)")
    p.add_argument("--resume", action="store_true", help="continue an interrupted run from its last save, with "
                   "its settings (options given must agree with them)")
    if name in FORCE_HELP:
        p.add_argument("--force", action="store_true", help=FORCE_HELP[name])
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.add_argument("--dist-timeout", type=float, default=DEFAULT_TIMEOUT_S, metavar="SECONDS",
                   help="under torchrun: how long a rank waits for the others at a collective before it gives up "
                   f"with an error (a rank died or hung; default {DEFAULT_TIMEOUT_S:g})")
    for job in JOB_FLAGS[name]:
        add_config_flags(p, JOB_SETTINGS[job], job)
    p.set_defaults(func=cmd_job)


def build_parser() -> argparse.ArgumentParser:
    parser = BriefArgumentParser(
        prog="r2l-train",
        description="Distil a NeRF into an R2L neural light field: train the teacher, render pseudo data, "
        "distil, finetune. Every job saves into one scene checkpoint that r2l-viewer opens.",
    )
    parser.add_argument("--debug", action="store_true", help="show full tracebacks of errors")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("describe", help="sizes and per-ray costs of a preset's models, counted from the models")
    p.add_argument("--preset", default="paper", choices=list(PRESETS), help="which preset (default: paper)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=cmd_describe)

    p = sub.add_parser("check-data", help="load a dataset folder and summarise it")
    p.add_argument("folder", help=DATA_HELP)
    p.add_argument("--downscale", type=positive_int, help=DOWNSCALE_HELP)
    add_scene_kind(p)
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=cmd_check_data)

    p = sub.add_parser("import-nerf", help="make a scene whose teacher is a NeRF trained with nerf-pytorch",
                       description="Make (or update) a scene checkpoint whose teacher is a NeRF trained with "
                       "nerf-pytorch (a .tar with network_fn_state_dict and network_fine_state_dict), to distil it.")
    p.add_argument("weights", help="the nerf-pytorch checkpoint (.tar)")
    p.add_argument("--data", required=True, help="the scene folder the NeRF was trained on")
    p.add_argument("--downscale", type=positive_int, help=DOWNSCALE_HELP)
    p.add_argument("--out", required=True, help="the scene checkpoint to write")
    add_scene_kind(p)
    p.add_argument("--nerf-arg", action="append", default=[], metavar="KEY=VALUE",
                   help="a nerf-pytorch rendering setting, e.g. N_importance=64 or white_bkgd=False (repeatable); wins "
                   "over the args.txt / config.txt beside the weights")
    p.add_argument("--force", action="store_true", help="replace a teacher the checkpoint already has")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=cmd_import_nerf)

    _add_export_parser(sub)
    for name in JOB_FLAGS:
        _add_job_parser(sub, name)
    return parser


def main(argv: list[str] | None = None) -> int:
    reuse_large_blocks()  # (the jobs run on this thread: its heap serves their large tensors)
    code = run_command(argv)
    if opened_a_group():  # a torchrun rank: its process group is closed, end the process now
        end_process(code)
    return code


def run_command(argv: list[str] | None = None) -> int:
    """Parse the command line and run the command; its exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    program = program_name()
    try:
        refuse_single_process_commands(args.command)
        return args.func(args)
    except KeyboardInterrupt:
        print(f"{program}: interrupted", file=sys.stderr)
        return 130
    except SingleProcessOnly as exc:  # said once, by rank 0
        if os.environ.get("RANK", "0") == "0":
            print(f"{program}: error: {exc}", file=sys.stderr)
        else:  # torchrun ends the other ranks when one fails: let rank 0 say why before this one does
            time.sleep(REFUSAL_GRACE_S)
        return 2
    except UserError as exc:
        if args.debug:
            raise
        print(f"{program}: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        if args.debug:
            raise
        print(f"{program}: error: {describe_os_error(exc)}; fix it (free space, permissions) and run the same "
              "command again (with --resume for a job that saved)", file=sys.stderr)
        return 2
    except Exception:  # not the user's doing: the traceback, and a line asking for a report
        if args.debug:
            raise
        return report_bug(program)


if __name__ == "__main__":
    sys.exit(main())
