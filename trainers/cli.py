"""`r2l-train`: run the pipeline's jobs and the inspection commands from the command line."""

from __future__ import annotations

import argparse
import json
import sys

from r2l_viewer.core.checkpoint import CheckpointError
from r2l_viewer.core.config import ConfigError
from r2l_viewer.core.datasets import DatasetError
from r2l_viewer.core.device import DeviceError

from .inspection import check_data, describe_preset
from .presets import PRESETS

USER_ERRORS = (DatasetError, CheckpointError, ConfigError, DeviceError, ValueError, FileNotFoundError)


def _print(result: dict, as_json: bool) -> None:
    if as_json:
        print(json.dumps(result, indent=None if as_json == "compact" else 2))
        return
    for key, value in result.items():
        if isinstance(value, dict):
            print(f"{key}:")
            for k, v in value.items():
                print(f"  {k}: {v:,}" if isinstance(v, int) else f"  {k}: {v}")
        else:
            print(f"{key}: {value}")


def cmd_describe(args) -> int:
    _print(describe_preset(args.preset), args.json)
    return 0


def cmd_check_data(args) -> int:
    _print(check_data(args.folder, args.downscale), args.json)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
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
    p.add_argument("folder", help="a Blender or LLFF scene folder, or 'demo'")
    p.add_argument("--downscale", type=int, default=1, help="load images at 1/N of their size (default 1)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=cmd_check_data)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        print("r2l-train: interrupted", file=sys.stderr)
        return 130
    except USER_ERRORS as exc:
        if args.debug:
            raise
        print(f"r2l-train: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
