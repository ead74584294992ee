"""Checksums of a scene checkpoint's parts (every tensor, and each section's plain values), saved with the file and
checked when it is opened, so a damaged file is refused by name instead of shown as if it were fine."""

from __future__ import annotations

import hashlib

import torch

from .errors import UserError

CHECKSUMS_KEY = "checksums"
ALGORITHM = "sha256"
SECTION_NAMES = {"format": "format marker", "version": "format version", "scene": "scene metadata",
                 "cameras": "dataset camera poses", "teacher": "teacher's settings", "student": "student's settings",
                 "history": "metric history"}


class ChecksumMismatch(UserError):
    """A part of a payload differs from the checksum saved with it; the message names the part in words."""


def _hash_tensor(tensor: torch.Tensor) -> str:
    """The digest of a tensor's dtype, shape and bytes (any dtype, any device, any layout)."""
    flat = tensor.detach().to("cpu").contiguous().reshape(-1)
    digest = hashlib.new(ALGORITHM, f"{flat.dtype}{tuple(tensor.shape)}".encode())
    if flat.numel():
        digest.update(flat.view(torch.uint8).numpy().data)
    return digest.hexdigest()


def _feed(digest, value, path: str, tensors: dict[str, torch.Tensor]) -> None:
    """Add a canonical encoding of plain `value` to `digest`; tensors go into `tensors` by their dotted path and
    only their place is encoded here."""
    if isinstance(value, torch.Tensor):
        tensors[path] = value
        digest.update(b"t" + path.encode() + b"\0")
    elif value is None or isinstance(value, bool):
        digest.update(repr(value).encode() + b"\0")
    elif isinstance(value, int):
        digest.update(b"i" + str(value).encode() + b"\0")
    elif isinstance(value, float):
        digest.update(b"f" + value.hex().encode() + b"\0")
    elif isinstance(value, str):
        data = value.encode("utf-8", "surrogatepass")
        digest.update(b"s" + str(len(data)).encode() + b":" + data)
    elif isinstance(value, dict):
        digest.update(b"{" + str(len(value)).encode() + b":")
        for key, item in value.items():
            _feed(digest, key, f"{path}.key", {})
            _feed(digest, item, f"{path}.{key}", tensors)
    elif isinstance(value, (list, tuple)):  # torch.Size is a tuple
        digest.update(b"[" + str(len(value)).encode() + b":")
        for i, item in enumerate(value):
            _feed(digest, item, f"{path}[{i}]", tensors)
    else:  # not plain data: atomic_save refuses the payload, naming where, before anything is written
        digest.update(b"?" + type(value).__qualname__.encode() + b"\0")


def part_checksums(payload: dict) -> dict[str, str]:
    """{part: hex digest} for each top-level section's plain values ('scene', 'teacher', ...) and for each tensor
    by its dotted path ('student.weights.head.weight'), in the payload's order."""
    sums: dict[str, str] = {}
    for section, value in payload.items():
        if section == CHECKSUMS_KEY:
            continue
        tensors: dict[str, torch.Tensor] = {}
        digest = hashlib.new(ALGORITHM)
        _feed(digest, value, str(section), tensors)
        sums[str(section)] = digest.hexdigest()
        sums.update((path, _hash_tensor(tensor)) for path, tensor in tensors.items())
    return sums


def with_checksums(payload: dict) -> dict:
    """A copy of `payload` that carries the checksums of its parts."""
    plain = {k: v for k, v in payload.items() if k != CHECKSUMS_KEY}
    return plain | {CHECKSUMS_KEY: {"algorithm": ALGORITHM, "parts": part_checksums(plain)}}


def part_name(part: str) -> str:
    """A part's name in words: 'student.weights.head.weight' -> 'the student's weights (head.weight)'."""
    section, _, rest = part.partition(".")
    if section in ("teacher", "student") and rest.startswith("weights."):
        return f"the {section}'s weights ({rest[len('weights.'):]})"
    if section in ("teacher", "student") and rest:
        return f"the {section}'s {rest}"
    if section == "cameras" and rest:
        return f"the dataset camera poses ({rest})"
    return f"the {SECTION_NAMES.get(section, section)}"


def verify_checksums(payload: dict) -> bool:
    """True when the payload's parts match its saved checksums, False when it has none (written before they
    existed); a ChecksumMismatch naming the first damaged part (and how many more) otherwise."""
    saved = payload.get(CHECKSUMS_KEY)
    if saved is None:
        return False
    parts = saved.get("parts") if isinstance(saved, dict) else None
    if not isinstance(parts, dict) or saved.get("algorithm") != ALGORITHM:
        raise ChecksumMismatch("the checksum table")
    computed = part_checksums(payload)
    damaged = [p for p in computed if parts.get(p) != computed[p]] + [p for p in parts if p not in computed]
    if damaged:
        more = f" (and {len(damaged) - 1} more part{'s' if len(damaged) > 2 else ''})" if len(damaged) > 1 else ""
        raise ChecksumMismatch(part_name(damaged[0]) + more)
    return True
