"""The cameras of a nerfstudio transforms.json: intrinsics at the top level or per frame, models and distortion."""

from __future__ import annotations

import math
from pathlib import Path

from ..cameras import Intrinsics
from ..lens import COEFFICIENTS
from .base import DatasetError
from .json_fields import frame_problem, is_number, json_kind

# camera models whose rays are a pinhole's bent by the OpenCV radial-tangential polynomial (as nerfstudio maps them)
PERSPECTIVE_MODELS = ("PINHOLE", "SIMPLE_PINHOLE", "SIMPLE_RADIAL", "RADIAL", "OPENCV")


def check_transforms(path: Path, data) -> None:
    """Raise a DatasetError naming the file (and frame, and field) when `data` is not a transforms.json we read."""
    if not isinstance(data, dict):
        raise DatasetError(f"{path}: expected an object with 'frames', got {json_kind(data)}")
    if "frames" not in data:
        raise DatasetError(f"{path}: has no 'frames' (a nerfstudio transforms.json lists its images in 'frames')")
    if not isinstance(data["frames"], list) or not data["frames"]:
        raise DatasetError(f"{path}: 'frames' must be a non-empty list of frames, got {json_kind(data['frames'])}")
    model = data.get("camera_model", "PINHOLE")
    if model not in PERSPECTIVE_MODELS:
        raise DatasetError(f"{path}: 'camera_model' {json_kind(model)} is not supported (R2L Viewer reads "
                           f"{', '.join(PERSPECTIVE_MODELS)}; fisheye and panoramic cameras are not)")
    if data.get("is_fisheye") is True:
        raise DatasetError(f"{path}: 'is_fisheye' is true (an instant-ngp fisheye capture); fisheye lenses are not "
                           "supported: undistort the images to a pinhole camera (e.g. COLMAP's image_undistorter) and "
                           "convert again")
    for i, frame in enumerate(data["frames"]):
        problem = frame_problem(frame)
        if problem is not None:
            raise DatasetError(f"{path}: frame {i} {problem}")


class FrameFields:
    """Reads one frame's camera fields: a top-level value wins over the frame's own, as in nerfstudio."""

    def __init__(self, path: Path, data: dict, frame: dict):
        self.path, self.data, self.frame = path, data, frame

    def where(self) -> str:
        return f"{self.path}: frame {self.frame['file_path']!r}"

    def get(self, key: str):
        return self.data[key] if key in self.data else self.frame.get(key)

    def number(self, key: str, positive: bool = False):
        """The field's value (None when absent), checked to be a finite (positive) number."""
        value = self.get(key)
        if value is None:
            return None
        if not is_number(value) or (positive and value <= 0):
            kind = "a positive number" if positive else "a number"
            raise DatasetError(f"{self.where()}: '{key}' must be {kind}, got {json_kind(value)}")
        return float(value)

    def size(self, key: str, from_file: int) -> int:
        value = self.number(key, positive=True)
        if value is not None and value != int(value):
            raise DatasetError(f"{self.where()}: '{key}' must be a whole number of pixels, got {json_kind(value)}")
        return from_file if value is None else int(value)

    def focal(self, axis: str, extent: int) -> float | None:
        """fl_x (or fl_y) in pixels, else from camera_angle_x (or _y), the field of view in radians."""
        focal = self.number(f"fl_{axis}", positive=True)
        if focal is not None:
            return focal
        angle = self.number(f"camera_angle_{axis}", positive=True)
        if angle is not None and angle < math.pi:
            return 0.5 * extent / math.tan(0.5 * angle)
        if angle is not None:
            raise DatasetError(f"{self.where()}: 'camera_angle_{axis}' must be below pi radians, got {angle}")
        return None

    def distortion(self) -> tuple:
        """(k1, k2, k3, k4, p1, p2), all from the top level when it has any of them, else from the frame; () when
        all are zero."""
        source = self.data if any(k in self.data for k in COEFFICIENTS) else self.frame
        values = []
        for key in COEFFICIENTS:
            value = source.get(key, 0.0)
            if not is_number(value):
                raise DatasetError(f"{self.where()}: '{key}' must be a number, got {json_kind(value)}")
            values.append(float(value))
        return tuple(values) if any(values) else ()


def frame_intrinsics(path: Path, data: dict, frame: dict, file_size: tuple[int, int]) -> Intrinsics:
    """The camera of one frame at the size transforms.json describes (its 'w' and 'h', else the image file's
    `file_size` (height, width)): focal lengths, principal point (default: the image centre) and distortion."""
    fields = FrameFields(path, data, frame)
    width, height = fields.size("w", file_size[1]), fields.size("h", file_size[0])
    fx = fields.focal("x", width)
    if fx is None:
        raise DatasetError(f"{fields.where()}: has no 'fl_x' (nor has the file), and no 'camera_angle_x' to "
                           "derive it from")
    fy = fields.focal("y", height) or fx
    cx, cy = fields.number("cx"), fields.number("cy")
    cx = width / 2.0 if cx is None else cx
    cy = height / 2.0 if cy is None else cy
    return Intrinsics(height, width, fx, fy, cx, cy, fields.distortion())


def needs_file_size(data: dict, frame: dict) -> bool:
    """Whether the frame's camera leaves its image size to the image file (no 'w' or 'h' anywhere)."""
    return any(key not in data and key not in frame for key in ("w", "h"))
