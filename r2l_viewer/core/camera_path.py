"""Camera paths: keyframes (pose and vertical field of view), smooth interpolation between them in time, and the
frames a video of the path shows.

Positions and fields of view follow a Catmull-Rom spline (a Kochanek-Bartels spline with tension 0, nerfstudio's
default) with natural ends, rotations a squad curve through the keyframes' quaternions; both are C1 at keyframes.
A closed (loop) path also joins its last keyframe back to its first. Poses are camera-to-world 4x4 matrices in the
OpenGL convention (x right, y up, looking down -z) in the scene's world frame."""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, field, replace

import torch

from . import quaternions as quat
from .cameras import Intrinsics
from .errors import UserError

DEFAULT_FPS = 30.0
DEFAULT_TRANSITION = 2.0  # seconds between two keyframes (nerfstudio's viewer default)
FOV_LIMITS = (1e-3, 179.0)  # vertical fields of view a pinhole camera can take, in degrees


class CameraPathError(UserError):
    """A camera path cannot be used as asked; the message says what is wrong and what to do."""


@dataclass
class Keyframe:
    """One pose on a path: camera-to-world [4, 4] (OpenGL convention; float64 as read from a file, so files
    round-trip exactly), vertical field of view in degrees and, optionally, the seconds the move into this
    keyframe takes (None: the path's transition)."""

    c2w: torch.Tensor
    fov: float
    transition: float | None = None


@dataclass
class PathFrame:
    """One frame of a path's video: camera-to-world [4, 4] (float64) and vertical field of view in degrees."""

    c2w: torch.Tensor
    fov: float


@dataclass
class CameraPath:
    """Keyframes, timing (seconds between keyframes, frames per second, loop) and the render size.

    `file_frames` are the frames a loaded file lists (what nerfstudio's renderer renders); they are used as they
    are until the keyframes change. `extra` keeps the file's other fields so they are written back."""

    keyframes: list[Keyframe]
    width: int
    height: int
    fps: float = DEFAULT_FPS
    transition: float = DEFAULT_TRANSITION
    loop: bool = False
    smoothness: float = 0.0
    file_frames: list[PathFrame] | None = None
    extra: dict = field(default_factory=dict)

    # ---- editing (each drops the frames a file listed: they no longer match the keyframes) --------------------
    def edited(self, keyframes: list[Keyframe], **changes) -> "CameraPath":
        """A copy with other keyframes (and other fields changed), whose frames follow its keyframes."""
        return replace(self, keyframes=list(keyframes), file_frames=None, **changes)

    def add(self, keyframe: Keyframe, at: int | None = None) -> "CameraPath":
        keyframes = list(self.keyframes)
        keyframes.insert(len(keyframes) if at is None else at, keyframe)
        return self.edited(keyframes)

    def remove(self, index: int) -> "CameraPath":
        return self.edited([k for i, k in enumerate(self.keyframes) if i != index])

    def move(self, index: int, offset: int) -> "CameraPath":
        """The keyframe at `index` moved `offset` places (clamped to the list)."""
        keyframes = list(self.keyframes)
        target = min(max(index + offset, 0), len(keyframes) - 1)
        keyframes.insert(target, keyframes.pop(index))
        return self.edited(keyframes)

    # ---- timing -----------------------------------------------------------------------------------------------
    def segment_seconds(self) -> list[float]:
        """Seconds of each move between keyframes: n - 1 of them, n for a loop (last back to first)."""
        n = len(self.keyframes)
        ends = list(range(1, n)) + ([0] if self.loop and n > 1 else [])
        return [self._transition_into(i) for i in ends]

    def _transition_into(self, index: int) -> float:
        own = self.keyframes[index].transition
        return float(self.transition if own is None else own)

    @property
    def duration(self) -> float:
        """Seconds from the first keyframe to the last (back to the first for a loop)."""
        return sum(self.segment_seconds())

    def frame_count(self) -> int:
        """Frames of the video: the file's frames, else one every 1/fps seconds over the duration (both ends
        included on an open path; a loop leaves out the end, which is its start)."""
        if self.file_frames is not None:
            return len(self.file_frames)
        steps = round(self.duration * self.fps)
        return max(steps, 1) if self.loop else steps + 1

    @property
    def seconds(self) -> float:
        """The video's length: frames / fps."""
        return self.frame_count() / self.fps

    # ---- poses ------------------------------------------------------------------------------------------------
    def check_playable(self) -> None:
        """A CameraPathError unless the path can be played and rendered (two keyframes, or a file's frames)."""
        if self.file_frames is None and len(self.keyframes) < 2:
            raise CameraPathError(f"a camera path needs at least two keyframes (it has {len(self.keyframes)}): "
                                  "add views with K or the Add button")

    def frames(self) -> list[PathFrame]:
        """Every frame of the video, in order."""
        self.check_playable()
        if self.file_frames is not None:
            return list(self.file_frames)
        spline = PathSpline(self)
        return [spline.at(i / self.fps) for i in range(self.frame_count())]

    def at(self, seconds: float) -> PathFrame:
        """The view at a time in seconds (wrapped round for a loop, held at the ends otherwise): for playback."""
        self.check_playable()
        if self.file_frames is not None:
            index = int(math.floor(seconds * self.fps + 1e-9))
            count = len(self.file_frames)
            return self.file_frames[index % count if self.loop else min(max(index, 0), count - 1)]
        return PathSpline(self).at(seconds)


def _hermite(p0, p1, m0, m1, t: float):
    """A cubic Hermite segment from p0 to p1 with tangents m0, m1 (per unit of t), at t in [0, 1]."""
    t2, t3 = t * t, t * t * t
    return (2 * t3 - 3 * t2 + 1) * p0 + (t3 - 2 * t2 + t) * m0 + (-2 * t3 + 3 * t2) * p1 + (t3 - t2) * m1


def catmull_rom_tangents(values: torch.Tensor, closed: bool) -> torch.Tensor:
    """Tangents [n, ...] of a uniform Catmull-Rom spline through values [n, ...]: half the difference of the
    neighbours; at the ends of an open spline the 'natural' tangent (no curvature at the end point)."""
    n = values.shape[0]
    if n == 1:
        return torch.zeros_like(values)
    if closed:
        return (torch.roll(values, -1, 0) - torch.roll(values, 1, 0)) / 2
    tangents = torch.empty_like(values)
    tangents[1:-1] = (values[2:] - values[:-2]) / 2
    if n == 2:
        tangents[0] = tangents[1] = values[1] - values[0]
    else:
        tangents[0] = (3 * (values[1] - values[0]) - tangents[1]) / 2
        tangents[-1] = (3 * (values[-1] - values[-2]) - tangents[-2]) / 2
    return tangents


class PathSpline:
    """The smooth curves through a path's keyframes, evaluated at a time in seconds."""

    def __init__(self, path: CameraPath):
        keys = path.keyframes
        self.loop, self.count = path.loop, len(keys)
        self.positions = torch.stack([k.c2w[:3, 3].double() for k in keys])
        self.fovs = torch.tensor([float(k.fov) for k in keys], dtype=torch.float64)
        self.rotations = quat.same_hemisphere([quat.from_matrix(k.c2w[:3, :3]) for k in keys])
        self.position_tangents = catmull_rom_tangents(self.positions, self.loop)
        self.fov_tangents = catmull_rom_tangents(self.fovs, self.loop)
        self.controls = [self._control(i) for i in range(self.count)]
        self.starts = [0.0]
        for seconds in path.segment_seconds():
            self.starts.append(self.starts[-1] + seconds)

    def _control(self, i: int) -> quat.Quaternion:
        q = self.rotations
        if self.loop:
            return quat.squad_control(q[i - 1], q[i], q[(i + 1) % self.count])
        if i == 0 or i == self.count - 1:
            return q[i]
        return quat.squad_control(q[i - 1], q[i], q[i + 1])

    def locate(self, seconds: float) -> tuple[int, float]:
        """(segment, fraction through it) at a time; a loop wraps round, an open path holds its ends."""
        total = self.starts[-1]
        if self.loop and total > 0:
            seconds = seconds % total
        seconds = min(max(seconds, 0.0), total)
        segment = min(max(bisect.bisect_right(self.starts, seconds) - 1, 0), len(self.starts) - 2)
        length = self.starts[segment + 1] - self.starts[segment]
        return segment, (seconds - self.starts[segment]) / length if length > 0 else 0.0

    def at(self, seconds: float) -> PathFrame:
        if self.count == 1 or len(self.starts) < 2:
            return PathFrame(_pose(self.rotations[0], self.positions[0]), float(self.fovs[0]))
        segment, t = self.locate(seconds)
        a, b = segment, (segment + 1) % self.count
        position = _hermite(self.positions[a], self.positions[b], self.position_tangents[a],
                            self.position_tangents[b], t)
        fov = float(_hermite(self.fovs[a], self.fovs[b], self.fov_tangents[a], self.fov_tangents[b], t))
        q_b = self.rotations[b] if float(torch.dot(self.rotations[a], self.rotations[b])) >= 0 else -self.rotations[b]
        rotation = quat.squad(self.rotations[a], q_b, self.controls[a], self.controls[b], t)
        return PathFrame(_pose(rotation, position), min(max(fov, FOV_LIMITS[0]), FOV_LIMITS[1]))


def _pose(rotation: quat.Quaternion, position: torch.Tensor) -> torch.Tensor:
    c2w = torch.eye(4, dtype=torch.float64)
    c2w[:3, :3] = quat.to_matrix(rotation)
    c2w[:3, 3] = position
    return c2w


# ---- fields of view and cameras -----------------------------------------------------------------------------------
def vertical_fov(intrinsics: Intrinsics) -> float:
    """The vertical field of view of a pinhole camera, in degrees."""
    return math.degrees(2.0 * math.atan(intrinsics.height / (2.0 * intrinsics.fy)))


def frame_intrinsics(fov: float, width: int, height: int) -> Intrinsics:
    """The pinhole camera nerfstudio renders a path frame with: square pixels, focal length from the vertical
    field of view and the height, principal point at the image centre."""
    focal = height / (2.0 * math.tan(math.radians(fov) / 2.0))
    return Intrinsics(int(height), int(width), focal, focal, width / 2.0, height / 2.0)
