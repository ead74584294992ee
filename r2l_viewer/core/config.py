"""Config dataclass helpers: fields with help text and bounds, validation, and plain-dict round trips."""

from __future__ import annotations

import dataclasses
import typing
from dataclasses import MISSING, field, fields, is_dataclass
from typing import Any, TypeVar

T = TypeVar("T")


class ConfigError(ValueError):
    """A config value is out of range or of the wrong kind; the message names the field."""


def param(
    default: Any, help: str, *, min: float | None = None, max: float | None = None, choices=None, gui: bool = False,
    scene: bool = False,
):
    """A dataclass field with its documentation (`help`), optional bounds and choices, used by the CLI and the GUI.

    `gui=True` marks the settings the app's train panel shows; `scene=True` marks values a job takes from the
    scene (bounds, box), which are not offered as command-line flags.
    """
    meta = {"help": help, "min": min, "max": max, "choices": tuple(choices) if choices else None, "gui": gui,
            "scene": scene}
    if isinstance(default, (list, dict)):
        return field(default_factory=lambda: type(default)(default), metadata=meta)
    if is_dataclass(default):
        return field(default_factory=lambda: dataclasses.replace(default), metadata=meta)
    return field(default=default, metadata=meta)


def field_help(cls_or_obj, name: str) -> str:
    """The help text of one field."""
    return next(f.metadata.get("help", "") for f in fields(cls_or_obj) if f.name == name)


def validate(config) -> None:
    """Check every field against its bounds and choices (recursing into nested configs); raise ConfigError."""
    for f in fields(config):
        value = getattr(config, f.name)
        if is_dataclass(value):
            validate(value)
            continue
        meta = f.metadata
        label = f"{type(config).__name__}.{f.name}"
        if meta.get("choices") and value not in meta["choices"]:
            raise ConfigError(f"{label} = {value!r} is not one of {', '.join(map(str, meta['choices']))}")
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if meta.get("min") is not None and value < meta["min"]:
                raise ConfigError(f"{label} = {value} is below its minimum {meta['min']}")
            if meta.get("max") is not None and value > meta["max"]:
                raise ConfigError(f"{label} = {value} is above its maximum {meta['max']}")


def to_dict(config) -> dict:
    """A config as plain Python values (tuples become lists), safe for weights-only checkpoints and JSON."""

    def plain(value):
        if is_dataclass(value):
            return to_dict(value)
        if isinstance(value, (list, tuple)):
            return [plain(v) for v in value]
        return value

    return {f.name: plain(getattr(config, f.name)) for f in fields(config)}


def from_dict(cls: type[T], data: dict, strict: bool = True) -> T:
    """Build a config from `to_dict` output; unknown keys raise ConfigError when `strict`, missing keys keep defaults."""
    hints = typing.get_type_hints(cls)
    known = {f.name: f for f in fields(cls)}
    unknown = set(data) - set(known)
    if unknown and strict:
        raise ConfigError(f"{cls.__name__} has no setting(s) {', '.join(sorted(unknown))}")
    kwargs = {}
    for name, value in data.items():
        if name not in known:
            continue
        kwargs[name] = _coerce(hints[name], value, known[name], strict)
    return cls(**kwargs)


def _coerce(hint, value, f, strict):
    if is_dataclass(hint) and isinstance(value, dict):
        return from_dict(hint, value, strict)
    default = f.default if f.default is not MISSING else (f.default_factory() if f.default_factory is not MISSING else None)
    if isinstance(default, tuple) and isinstance(value, list):
        return tuple(value)
    return value


def override(config: T, **changes) -> T:
    """A copy of `config` with some fields replaced, validated."""
    new = dataclasses.replace(config, **changes)
    validate(new)
    return new
