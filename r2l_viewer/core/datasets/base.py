"""What a loaded dataset is: per-split images, poses and intrinsics, plus scene metadata for models and viewer."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F

from ..cameras import Intrinsics, focus_point, pose_angles
from ..errors import UserError


class DatasetError(UserError):
    """A dataset folder or file is missing or malformed; the message names the file and what is wrong."""


@dataclass
class SceneMeta:
    """Everything about a scene that models, pseudo-data sampling and the viewer need, as plain values."""

    name: str
    format: str  # "blender", "llff", "nerfstudio" or "demo"
    near: float
    far: float
    intrinsics: Intrinsics
    background: tuple = (1.0, 1.0, 1.0)
    box_min: tuple = (-1.5, -1.5, -1.5)
    box_max: tuple = (1.5, 1.5, 1.5)
    ndc: dict | None = None
    orbit_center: tuple = (0.0, 0.0, 0.0)
    orbit_up: tuple = (0.0, 0.0, 1.0)
    orbit_radius: float = 4.0
    elevation_range: tuple = (0.0, 90.0)
    azimuth_range: tuple = (-180.0, 180.0)
    source: str | None = None
    extra: dict = field(default_factory=dict)
    kind: str = "object"  # "object" (in a box), "unbounded" (contracted space) or "forward" (NDC): see scene_shape
    contraction: dict | None = None  # the ContractedSpace of an unbounded scene

    def model_bounds(self) -> dict:
        """near, far, background and ndc as the models' configs take them (NDC scenes sample t in [0, 1]; unbounded
        scenes give depth as the length of the contracted path, 0 to the space's depth_far)."""
        near, far = (0.0, 1.0) if self.ndc else (self.near, self.far)
        return {"near": near, "far": far, "background": tuple(self.background), "ndc": self.ndc}

    def to_dict(self) -> dict:
        d = {k: getattr(self, k) for k in self.__dataclass_fields__}
        d["intrinsics"] = self.intrinsics.to_dict()
        return {k: list(v) if isinstance(v, tuple) else v for k, v in d.items()}

    @classmethod
    def from_dict(cls, d: dict) -> "SceneMeta":
        d = dict(d)
        d["intrinsics"] = Intrinsics.from_dict(d["intrinsics"])
        d.setdefault("kind", "forward" if d.get("ndc") else "object")  # saved before scene kinds existed
        tuples = ("background", "box_min", "box_max", "orbit_center", "orbit_up", "elevation_range", "azimuth_range")
        return cls(**{k: tuple(v) if k in tuples else v for k, v in d.items() if k in cls.__dataclass_fields__})


@dataclass
class Split:
    """One split's images [N, H, W, 3] float32 in [0, 1], camera-to-world poses [N, 4, 4] and intrinsics;
    `alphas` [N, H, W] is the object's coverage where the format has it (RGBA images), else None;
    `frame_intrinsics` is one camera per view where the views' cameras differ (then `intrinsics` is the first)."""

    images: torch.Tensor
    poses: torch.Tensor
    intrinsics: Intrinsics
    names: list[str] = field(default_factory=list)
    alphas: torch.Tensor | None = None
    frame_intrinsics: list[Intrinsics] | None = None

    def __len__(self) -> int:
        return self.poses.shape[0]

    def intrinsics_of(self, index: int) -> Intrinsics:
        """The camera of view `index`."""
        return self.intrinsics if self.frame_intrinsics is None else self.frame_intrinsics[index]

    def cameras(self) -> list[Intrinsics]:
        """Every view's camera, in order."""
        return [self.intrinsics_of(i) for i in range(len(self))]


@dataclass
class Dataset:
    """A scene's metadata and its splits (some of 'train', 'val', 'test')."""

    meta: SceneMeta
    splits: dict[str, Split]

    def split(self, name: str) -> Split:
        if name not in self.splits:
            have = ", ".join(self.splits) or "none"
            raise DatasetError(f"{self.meta.name}: no '{name}' split loaded (have: {have})")
        return self.splits[name]


def downscale_images(images: torch.Tensor, factor: float) -> torch.Tensor:
    """Area-average images [N, H, W, C] down by `factor` (exact 2x2 averaging when it divides)."""
    if factor == 1:
        return images
    n, h, w, _ = images.shape
    size = (max(1, int(h // factor)), max(1, int(w // factor)))
    return F.interpolate(images.permute(0, 3, 1, 2), size=size, mode="area").permute(0, 2, 3, 1).contiguous()


def composite_on(rgba: torch.Tensor, background) -> torch.Tensor:
    """RGBA [..., 4] over a solid background colour: RGB [..., 3]."""
    bg = torch.as_tensor(background, dtype=rgba.dtype)
    alpha = rgba[..., 3:4]
    return rgba[..., :3] * alpha + bg * (1.0 - alpha)


def camera_angle_ranges(poses: torch.Tensor, center, up, pad: float = 0.0) -> dict:
    """The azimuth and elevation ranges (degrees, padded) the cameras [N, 4, 4] cover around `center`."""
    angles = torch.tensor([pose_angles(p, center, up)[:2] for p in poses])
    lo, hi = angles.amin(0) - pad, angles.amax(0) + pad
    return {"azimuth_range": (float(lo[0]), float(hi[0])), "elevation_range": (float(lo[1]), float(hi[1]))}


def orbit_of_inward_cameras(poses: torch.Tensor, up=(0.0, 0.0, 1.0)) -> dict:
    """Orbit centre (where the cameras look), radius (median distance) and elevation range of 360-degree captures."""
    center = focus_point(poses)
    angles = [pose_angles(p, center, up) for p in poses]
    radii = sorted(a[2] for a in angles)
    elevations = [a[1] for a in angles]
    return {
        "orbit_center": tuple(round(float(c), 6) for c in center),
        "orbit_up": tuple(float(u) for u in up),
        "orbit_radius": float(radii[len(radii) // 2]),
        "elevation_range": (math.floor(min(elevations)), math.ceil(max(elevations))),
    }


def require_dir(path: Path, what: str) -> Path:
    """The path if it is a folder, else a DatasetError saying what was expected there."""
    if not path.exists():
        raise DatasetError(f"{path}: no such folder (expected {what})")
    if not path.is_dir():
        raise DatasetError(f"{path}: is a file, expected a folder ({what})")
    return path
