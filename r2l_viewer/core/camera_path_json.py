"""Camera paths as nerfstudio camera-path JSON: what nerfstudio's viewer writes and `ns-render camera-path` reads.

A file holds `camera_path` (one entry per video frame: `camera_to_world`, a 4x4 camera-to-world matrix flattened
row by row, OpenGL convention; `fov`, the vertical field of view in degrees; `aspect`, width / height),
`render_height`, `render_width`, `fps`, `seconds` and `camera_type` ("perspective"), and, from nerfstudio's viewer,
`keyframes` (`matrix` flattened the same way, `fov`, `aspect`, per-keyframe transition overrides),
`default_fov`, `default_transition_sec`, `is_cycle` and `smoothness_value`. Files without keyframes (written by
hand or by other tools) are edited as one keyframe per frame; fields this reader does not use are written back."""

from __future__ import annotations

import json
import math
import os
import tempfile
from pathlib import Path

import torch

from .camera_path import DEFAULT_FPS, FOV_LIMITS, CameraPath, CameraPathError, Keyframe, PathFrame

KNOWN_FIELDS = ("camera_path", "keyframes", "render_height", "render_width", "fps", "seconds", "camera_type",
                "is_cycle", "smoothness_value", "default_fov", "default_transition_sec")
ROTATION_TOLERANCE = 1e-2  # how far a matrix's 3x3 part may be from a rotation (rounded numbers in a file)


def load_camera_path(path: str | Path) -> CameraPath:
    """Read a nerfstudio camera-path JSON file; a CameraPathError names the file, the field and the fix."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CameraPathError(f"{path}: no such file (give a nerfstudio camera-path .json file, or 'orbit')") from None
    except IsADirectoryError:
        raise CameraPathError(f"{path}: is a folder; give a camera-path .json file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CameraPathError(f"{path}: cannot be read ({getattr(exc, 'strerror', None) or exc})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CameraPathError(f"{path}: is not JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
    return camera_path_from_dict(data, str(path))


def camera_path_from_dict(data, origin: str = "camera path") -> CameraPath:
    """A CameraPath from a parsed nerfstudio camera-path dict (see the module docstring)."""
    reader = _Reader(origin)
    if not isinstance(data, dict):
        raise reader.error("", "the file should hold one JSON object with a 'camera_path' list")
    reader.check_camera_type(data)
    width, height = reader.size(data)
    frames = reader.frames(data.get("camera_path"), "camera_path", "camera_to_world",
                           required=not data.get("keyframes"))
    fps = reader.fps(data, frames)
    keyframes = reader.keyframes(data.get("keyframes"))
    loop = bool(data.get("is_cycle", False))
    transition = reader.number(data, "default_transition_sec", 1.0 / fps, positive=True)
    if keyframes is None:  # no keyframes: every frame is one, 1/fps apart, so the frames sample them exactly
        keyframes, transition = [Keyframe(f.c2w, f.fov) for f in frames], 1.0 / fps
    extra = {k: v for k, v in data.items() if k not in KNOWN_FIELDS}
    return CameraPath(keyframes, width, height, fps=fps, transition=transition, loop=loop,
                      smoothness=reader.number(data, "smoothness_value", 0.0), file_frames=frames or None,
                      extra=extra)


class _Reader:
    """Field checks with messages that name the file and the field."""

    def __init__(self, origin: str):
        self.origin = origin

    def error(self, where: str, what: str) -> CameraPathError:
        return CameraPathError(f"{self.origin}: {where + ' ' if where else ''}{what}")

    def number(self, data: dict, name: str, default=None, positive: bool = False, where: str = "") -> float:
        value = data.get(name, default)
        label = f"{where}.{name}" if where else name
        if value is None:
            raise self.error(where, f"has no '{name}'")
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise self.error(label, f"= {value!r} is not a number")
        if positive and value <= 0:
            raise self.error(label, f"= {value} must be above 0")
        return float(value)

    def size(self, data: dict) -> tuple[int, int]:
        sizes = []
        for name in ("render_width", "render_height"):
            value = self.number(data, name, positive=True)
            if value != int(value):
                raise self.error(name, f"= {value} is not a whole number of pixels")
            sizes.append(int(value))
        return sizes[0], sizes[1]

    def fps(self, data: dict, frames: list[PathFrame]) -> float:
        if "fps" in data:
            return self.number(data, "fps", positive=True)
        if "seconds" in data and frames:  # what ns-render does: as many frames as the file has, over `seconds`
            return len(frames) / self.number(data, "seconds", positive=True)
        return DEFAULT_FPS

    def frames(self, entries, where: str, matrix_key: str, required: bool) -> list[PathFrame]:
        if entries is None and not required:
            return []
        if not isinstance(entries, list) or not entries:
            raise self.error(where, "is missing or empty: a path needs a list of camera entries, each with "
                                    f"'{matrix_key}' (16 numbers) and 'fov'")
        return [self.frame(entry, f"{where}[{i}]", matrix_key) for i, entry in enumerate(entries)]

    def frame(self, entry, where: str, matrix_key: str) -> PathFrame:
        if not isinstance(entry, dict):
            raise self.error(where, f"should be an object with '{matrix_key}' and 'fov'")
        return PathFrame(self.matrix(entry.get(matrix_key), f"{where}.{matrix_key}"), self.fov(entry, where))

    def matrix(self, values, where: str) -> torch.Tensor:
        if values is None:
            raise self.error(where, "is missing (a 4x4 camera-to-world matrix as 16 numbers, row by row)")
        if isinstance(values, str):
            raise self.error(where, "is text, not a list of 16 numbers (a file from nerfstudio's old viewer?)")
        flat = _flatten(values)
        if flat is None or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in flat):
            raise self.error(where, "should be a list of 16 numbers (a 4x4 matrix, row by row)")
        if len(flat) != 16:
            raise self.error(where, f"has {len(flat)} numbers; expected 16 (a 4x4 matrix, row by row)")
        c2w = torch.tensor(flat, dtype=torch.float64).reshape(4, 4)
        if not torch.isfinite(c2w).all():
            raise self.error(where, "holds a value that is not a finite number")
        if not torch.allclose(c2w[3], torch.tensor([0.0, 0.0, 0.0, 1.0], dtype=torch.float64), atol=1e-6):
            raise self.error(where, f"has last row {c2w[3].tolist()}; a camera pose's is 0, 0, 0, 1")
        error = (c2w[:3, :3].T @ c2w[:3, :3] - torch.eye(3, dtype=torch.float64)).abs().max()
        if error > ROTATION_TOLERANCE or torch.linalg.det(c2w[:3, :3]) < 0:
            raise self.error(where, "is not a rigid camera pose (its 3x3 part should be a rotation: unit, "
                                    "perpendicular columns)")
        return c2w

    def fov(self, entry: dict, where: str) -> float:
        if entry.get("fov") is None:
            raise self.error(where, "has no 'fov' (the vertical field of view in degrees)")
        fov = self.number(entry, "fov", where=where)
        if not FOV_LIMITS[0] < fov < FOV_LIMITS[1]:
            raise self.error(f"{where}.fov", f"= {fov} is not a field of view in degrees (between 0 and "
                                              f"{FOV_LIMITS[1]:g})")
        return fov

    def keyframes(self, entries) -> list[Keyframe] | None:
        if entries is None or entries == []:
            return None
        frames = self.frames(entries, "keyframes", "matrix", required=True)
        return [Keyframe(f.c2w, f.fov, _override(entry)) for f, entry in zip(frames, entries)]

    def check_camera_type(self, data: dict) -> None:
        kind = data.get("camera_type", "perspective")
        if str(kind).lower() != "perspective":
            raise self.error("", f"has camera_type '{kind}'; only perspective paths can be rendered here (make "
                                 "the path with the Perspective camera type)")


def _override(entry: dict) -> float | None:
    seconds = entry.get("override_transition_sec")
    if entry.get("override_transition_enabled") and isinstance(seconds, (int, float)) and seconds > 0:
        return float(seconds)
    return None


def _flatten(values):
    """16 numbers from a flat list or a list of 4 rows; None for anything else."""
    if not isinstance(values, list):
        return None
    if all(isinstance(row, list) for row in values):
        return [v for row in values for v in row]
    return values


def camera_path_to_dict(path: CameraPath) -> dict:
    """The nerfstudio camera-path dict of a path: its keyframes and every frame of its video."""
    aspect = path.width / path.height
    frames = path.frames()
    keyframes = [{"matrix": _flat(k.c2w), "fov": float(k.fov), "aspect": aspect,
                  "override_transition_enabled": k.transition is not None,
                  "override_transition_sec": k.transition} for k in path.keyframes]
    data = dict(path.extra)
    data.update({
        "keyframes": keyframes,
        "camera_type": "perspective",
        "render_height": int(path.height),
        "render_width": int(path.width),
        "fps": float(path.fps),
        "seconds": path.seconds,
        "is_cycle": bool(path.loop),
        "smoothness_value": float(path.smoothness),
        "default_fov": float(path.keyframes[0].fov) if path.keyframes else frames[0].fov,
        "default_transition_sec": float(path.transition),
        "camera_path": [{"camera_to_world": _flat(f.c2w), "fov": float(f.fov), "aspect": aspect} for f in frames],
    })
    return data


def save_camera_path(path: CameraPath, filename: str | Path) -> Path:
    """Write a path as nerfstudio camera-path JSON, atomically (a temporary file in the same folder, renamed)."""
    filename = Path(filename)
    text = json.dumps(camera_path_to_dict(path), indent=2)
    filename.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{filename.name}.", suffix=".tmp", dir=filename.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(temporary, filename)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return filename


def _flat(c2w: torch.Tensor) -> list[float]:
    return [float(v) for v in c2w.double().reshape(-1)]
