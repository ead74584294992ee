"""Command-line flags generated from config dataclasses: `--distill.student.width 128` style overrides."""

from __future__ import annotations

import argparse
import dataclasses
import types
import typing
from dataclasses import fields, is_dataclass

from r2l_viewer.core.config import validate


class BriefArgumentParser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors are the error and a one-line hint, not the whole usage first (its
    subcommands' parsers are of the same kind)."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message}\n{self.prog}: `{self.prog} --help` lists the options\n")


def _parse_bool(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, got '{text}'")


def _tuple_parser(kind):
    """Numbers separated by commas (or spaces) as a tuple of `kind` (int or float)."""
    what = "whole numbers" if kind is int else "numbers"

    def parse(text: str) -> tuple:
        try:
            return tuple(kind(v) for v in text.replace(",", " ").split())
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what} separated by commas, got '{text}'") from None

    return parse


def frame_size(minimum: int, maximum: int):
    """An argparse type for a frame size 'WIDTHxHEIGHT' in pixels ('400x400'), each side from `minimum` to `maximum`."""

    def parse(text: str) -> tuple[int, int]:
        try:
            width, height = (int(part) for part in text.lower().replace("*", "x").split("x"))
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected WIDTHxHEIGHT in pixels, such as 400x400, got '{text}'") \
                from None
        if not (minimum <= width <= maximum and minimum <= height <= maximum):
            raise argparse.ArgumentTypeError(f"size {text} out of range ({minimum} to {maximum} pixels a side)")
        return width, height

    return parse


def whole_number(minimum: int):
    """An argparse type: a whole number of at least `minimum`."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number of at least {minimum}, got '{text}'") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"expected a whole number of at least {minimum}, got {value}")
        return value

    return parse


positive_int = whole_number(1)
non_negative_int = whole_number(0)


def _parse_optional(inner):
    def parse(text: str):
        return None if text.strip().lower() in ("none", "") else inner(text)

    return parse


def _parser_for(hint, default):
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType) and type(None) in args:
        inner = _parser_for(next(a for a in args if a is not type(None)), None)
        return None if inner is None else _parse_optional(inner)
    if hint is bool:
        return _parse_bool
    if hint in (int, float, str):
        return hint
    if hint is tuple or origin is tuple:
        whole = (args[:1] == (int,)) or (isinstance(default, tuple) and bool(default) and
                                          all(type(v) is int for v in default))
        return _tuple_parser(int if whole else float)
    return None  # dicts and other structured values are not set from the command line


def add_config_flags(parser: argparse.ArgumentParser, cls, prefix: str) -> None:
    """Add one `--prefix.field` flag per settable field of config class `cls` (recursing into nested configs)."""
    hints = typing.get_type_hints(cls)
    group = parser.add_argument_group(f"{prefix} settings") if "." not in prefix else parser
    for f in fields(cls):
        hint = hints[f.name]
        if is_dataclass(hint):
            add_config_flags(parser, hint, f"{prefix}.{f.name}")
            continue
        kind = _parser_for(hint, f.default)
        if kind is None or f.metadata.get("scene"):
            continue
        meta = f.metadata
        extra = f" (one of: {', '.join(meta['choices'])})" if meta.get("choices") else ""
        group.add_argument(
            f"--{prefix}.{f.name}",
            dest=f"{prefix}.{f.name}",
            type=kind,
            default=None,
            metavar=f.name.upper() if hint not in (tuple,) else "A,B",
            help=(meta.get("help", "") + extra).replace("%", "%%"),
        )


def apply_overrides(config, args: argparse.Namespace, prefix: str):
    """A copy of `config` with every `--prefix.field` given on the command line applied, then validated."""
    changes = {}
    for f in fields(config):
        value = getattr(config, f.name)
        if is_dataclass(value):
            changes[f.name] = apply_overrides(value, args, f"{prefix}.{f.name}")
            continue
        given = getattr(args, f"{prefix}.{f.name}", None)
        if given is not None:
            changes[f.name] = given
    new = dataclasses.replace(config, **changes)
    if "." not in prefix:
        validate(new, f"--{prefix}")
    return new
