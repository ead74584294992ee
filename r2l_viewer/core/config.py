"""Config dataclass helpers: fields with help text and bounds, validation, and plain-dict round trips."""

from __future__ import annotations

import dataclasses
import typing
from dataclasses import MISSING, field, fields, is_dataclass
from typing import Any, TypeVar

from .errors import UserError

T = TypeVar("T")


class ConfigError(UserError):
    """A config value is out of range or of the wrong kind; the message names the field."""


def param(
    default: Any, help: str, *, min: float | None = None, max: float | None = None, choices=None, gui: bool = False,
    scene: bool = False, length: int | None = None, order: str | None = None, off: float | None = None,
):
    """A dataclass field with its documentation (`help`), optional bounds and choices, used by the CLI and the GUI.

    `gui=True` marks the settings the app's train panel shows; `scene=True` marks values a job takes from the
    scene (bounds, box), which are not offered as command-line flags. For tuples of numbers, `min`/`max` bound
    every value, `length` fixes how many there are and `order` ("<=" or "<") how each compares with the next.
    `off` is a value that turns the setting off and is allowed outside the bounds (a limit: 0, or at least 2).
    """
    meta = {"help": help, "min": min, "max": max, "choices": tuple(choices) if choices else None, "gui": gui,
            "scene": scene, "length": length, "order": order, "off": off}
    if isinstance(default, (list, dict)):
        return field(default_factory=lambda: type(default)(default), metadata=meta)
    if is_dataclass(default):
        return field(default_factory=lambda: dataclasses.replace(default), metadata=meta)
    return field(default=default, metadata=meta)


def field_help(cls_or_obj, name: str) -> str:
    """The help text of one field."""
    return next(f.metadata.get("help", "") for f in fields(cls_or_obj) if f.name == name)


def validate(config, name: str | None = None) -> None:
    """Check every field against its bounds and choices (recursing into nested configs); raise ConfigError.
    Errors name a field as `name.field` (say '--distill' for a command-line flag), else `ConfigClass.field`."""
    hints = typing.get_type_hints(type(config))
    for f in fields(config):
        value = getattr(config, f.name)
        label = f"{name}.{f.name}" if name else f"{type(config).__name__}.{f.name}"
        if is_dataclass(value):
            validate(value, label if name else None)
            continue
        meta = f.metadata
        if meta.get("choices") and value not in meta["choices"]:
            raise ConfigError(f"{label} = {value!r} is not one of {', '.join(map(str, meta['choices']))}")
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            _check_bounds(label, value, meta)
        elif isinstance(value, (tuple, list)) and (meta.get("length") or meta.get("order")):
            whole = _whole_numbers(f.default) or typing.get_args(hints[f.name])[:1] == (int,)
            _check_numbers(label, value, meta, whole=whole)


def _check_bounds(label: str, value, meta: dict) -> None:
    off = meta.get("off")
    if off is not None and value == off:
        return
    if meta.get("min") is not None and value < meta["min"]:
        turns_off = f" ({off:g} turns it off)" if off is not None else ""
        raise ConfigError(f"{label} = {value} is below its minimum {meta['min']}{turns_off}")
    if meta.get("max") is not None and value > meta["max"]:
        raise ConfigError(f"{label} = {value} is above its maximum {meta['max']}")


def _whole_numbers(default) -> bool:
    return isinstance(default, tuple) and bool(default) and all(type(v) is int for v in default)


def _check_numbers(label: str, values, meta: dict, whole: bool) -> None:
    """A tuple of numbers: its length, each value's kind and bounds, and their order."""
    shown = ",".join(map(str, values)) or "(empty)"
    if meta.get("length") is not None and len(values) != meta["length"]:
        raise ConfigError(f"{label} = {shown} has {len(values)} value(s); give exactly {meta['length']}, separated "
                          "by a comma")
    for v in values:
        if isinstance(v, bool) or not isinstance(v, (int, float)) or (whole and v != int(v)):
            raise ConfigError(f"{label} = {shown}: {v!r} is not a {'whole ' if whole else ''}number")
        _check_bounds(label, v, meta)
    order = meta.get("order")
    for a, b in zip(values, values[1:]):
        if (order == "<" and not a < b) or (order == "<=" and not a <= b):
            rule = "increase" if order == "<" else "not decrease"
            raise ConfigError(f"{label} = {shown}: the values must {rule} from left to right")


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
    if isinstance(value, list) and (isinstance(default, tuple) or _allows_tuple(hint)):
        return tuple(value)
    return value


def _allows_tuple(hint) -> bool:
    """Whether a field's type is a tuple or an optional tuple (`tuple | None`)."""
    return hint is tuple or typing.get_origin(hint) is tuple or any(
        a is tuple or typing.get_origin(a) is tuple for a in typing.get_args(hint))
