"""The nerfstudio format (what ns-process-data writes): one transforms.json, images (and images_N/) beside it."""

from __future__ import annotations

import math
import posixpath
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import torch

from .base import Dataset, DatasetError, SceneMeta, Split, composite_on, downscale_images, orbit_of_inward_cameras
from .images import read_image
from .json_fields import json_kind, read_json
from .llff import split_indices
from .nerfstudio_cameras import check_transforms, frame_intrinsics, needs_file_size
from .capture_space import unbounded_meta
from .instant_ngp import bounded_by_ngp, ngp_box
from .forward_facing import BOUND_FACTOR, NEAR_OF_FOCUS, focus_depth, forward_meta, ndc_frame
from .nerfstudio_poses import (ORIENTATIONS, Z_UP, azimuth_range, check_surrounds_object, object_bounds,
                               orient_and_scale)
from .scene_shape import camera_shape, choose_kind

TRANSFORMS = "transforms.json"
DEFAULT_MAX_SIDE = 800  # with no --downscale, the smallest power of two bringing the longest side to this or less
WHITE = (1.0, 1.0, 1.0)
SPLITS = ("train", "val", "test")


def is_nerfstudio(source: Path) -> bool:
    """A folder with transforms.json, or a .json file (nerfstudio's --data takes either)."""
    return (source / TRANSFORMS).is_file() if source.is_dir() else source.suffix.lower() == ".json"


def transforms_path(source: str | Path) -> Path:
    source = Path(source)
    return source / TRANSFORMS if source.is_dir() else source


def read_transforms(path: Path) -> dict:
    """transforms.json, checked (frames, camera model), frames sorted by file_path as nerfstudio sorts them."""
    data = read_json(path, "a nerfstudio scene has transforms.json beside its images")
    check_transforms(path, data)
    return data | {"frames": sorted(data["frames"], key=lambda f: f["file_path"])}


def _first_size(path: Path, data: dict) -> tuple[int, int]:
    """The original image size (height, width): 'h' and 'w' of the file or the first frame, else its image's."""
    frame = data["frames"][0]
    if not needs_file_size(data, frame):
        return int(data.get("h", frame.get("h"))), int(data.get("w", frame.get("w")))
    image = path.parent / frame["file_path"]
    if not image.is_file():
        raise DatasetError(f"{image}: image file not found (frame {frame['file_path']!r} of {path})")
    height, width = iio.improps(image).shape[:2]
    return int(height), int(width)


def default_downscale(source: str | Path) -> int:
    """The smallest power of two that brings the capture's longest side to DEFAULT_MAX_SIDE pixels or fewer."""
    path = transforms_path(source)
    longest = max(_first_size(path, read_transforms(path)))
    return 2 ** max(0, math.ceil(math.log2(longest / DEFAULT_MAX_SIDE))) if longest > DEFAULT_MAX_SIDE else 1


def _image_folders(root: Path) -> dict[int, Path | None]:
    """Image folders by the factor their images are shrunk by: 1 is the frames' own paths (None), N images_N/."""
    found: dict[int, Path | None] = {1: None}
    for child in root.iterdir():
        match = re.fullmatch(r"images_(\d+)", child.name)
        if child.is_dir() and match and int(match.group(1)) > 1:
            found[int(match.group(1))] = child
    return found


def _image_files(root: Path, frames: list, downscale: int) -> tuple[list[Path], int, str]:
    """The frames' image files for `downscale`: from images_{downscale}/ (file names as in file_path) when there
    is one, else from the largest folder whose factor divides it; that factor and the folder's name."""
    folders = _image_folders(root)
    factor = max(f for f in folders if downscale % f == 0)
    folder = folders[factor]
    if folder is None:
        return [root / f["file_path"] for f in frames], 1, "file_path"
    return [folder / Path(f["file_path"]).name for f in frames], factor, folder.name


def _read_shrunk(path: Path, frames: list, files: list[Path], shrink: float):
    """Each frame's image, shrunk by `shrink` as soon as it is read (a capture's full-size photos never sit in
    memory together), with RGBA composited on white as Blender scenes are: images [N, H, W, 3], alphas [N, H, W]
    or None when no file has alpha, and the (height, width) of the files read."""
    for frame, file in zip(frames, files):
        if not file.is_file():
            raise DatasetError(f"{file}: image file not found (frame {frame['file_path']!r} of {path})")

    def read(file: Path):
        image = read_image(file)
        rgba = image if image.shape[-1] == 4 else torch.cat([image, torch.ones_like(image[..., :1])], -1)
        rgba = torch.cat([composite_on(rgba, WHITE), rgba[..., 3:]], dim=-1)
        return tuple(image.shape[:2]), image.shape[-1] == 4, downscale_images(rgba[None], shrink)[0]

    with ThreadPoolExecutor(max_workers=4) as pool:
        read_files = list(pool.map(read, files))
    size = read_files[0][0]
    for file, (other, _, _) in zip(files, read_files):
        if other != size:
            raise DatasetError(f"{file}: image is {other[1]}x{other[0]} but {files[0].name} is {size[1]}x{size[0]}; "
                               "all images of a capture must have one size")
    rgba = torch.stack([shrunk for _, _, shrunk in read_files])
    alphas = rgba[..., 3].contiguous() if any(has_alpha for _, has_alpha, _ in read_files) else None
    return rgba[..., :3].contiguous(), alphas, size


def _check_size(path: Path, file: Path, size: tuple[int, int], full: tuple[int, int], factor: int) -> None:
    """The images must have the size transforms.json gives ('w', 'h'), shrunk by their folder's factor."""
    if any(abs(got * factor - want) > max(factor - 1, 0) for got, want in zip(size, full)):
        expected = f"{full[1]}x{full[0]}" + (f" / {factor}" if factor > 1 else "")
        raise DatasetError(f"{file}: image is {size[1]}x{size[0]} but {path.name} gives 'w' x 'h' = {expected}")


def _split_index(path: Path, data: dict, frames: list) -> dict[str, list[int]]:
    """Frame indices per split: from 'train_filenames', 'val_filenames', 'test_filenames' when the file has them
    (val and test stand in for each other when one is missing; names of `data`'s frames left out of `frames` for a
    missing image are skipped), else every 8th for test as in LLFF."""
    given = {s: data[f"{s}_filenames"] for s in SPLITS if f"{s}_filenames" in data}
    if not given:
        return split_indices(len(frames))
    if "train" not in given or not ({"val", "test"} & set(given)):
        have = ", ".join(f"'{s}_filenames'" for s in given)
        raise DatasetError(f"{path}: has {have} but needs 'train_filenames' and 'val_filenames' or 'test_filenames'")
    position = {posixpath.normpath(f["file_path"]): i for i, f in enumerate(frames)}
    index = {}
    for split, names in given.items():
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise DatasetError(f"{path}: '{split}_filenames' must be a list of file paths, got {json_kind(names)}")
        listed_paths = {posixpath.normpath(f["file_path"]) for f in data["frames"]}
        unknown = [n for n in names if posixpath.normpath(n) not in listed_paths]
        if unknown:
            raise DatasetError(f"{path}: '{split}_filenames' names {unknown[0]!r}, which is no frame's file_path")
        index[split] = sorted(position[posixpath.normpath(n)] for n in names if posixpath.normpath(n) in position)
    index.setdefault("val", index.get("test"))
    index.setdefault("test", index.get("val"))
    return index


def _background(images: torch.Tensor, alphas) -> tuple:
    """White for cut-out (RGBA) captures; else the mean colour of the images' borders (what lies behind the object)."""
    if alphas is not None:
        return WHITE
    border = torch.cat([images[:, 0], images[:, -1], images[:, :, 0], images[:, :, -1]], dim=1)
    return tuple(round(float(c), 4) for c in border.reshape(-1, 3).mean(0))


def present_frames(path: Path, data: dict, downscale: int) -> tuple[list, list[Path], int, str, list[str]]:
    """The frames whose image file exists (several public captures ship without some of theirs), their files, the
    image folder's factor and name, and a note naming the frames left out ([] when none)."""
    frames = data["frames"]
    files, factor, folder_name = _image_files(path.parent, frames, downscale)
    kept = [i for i, file in enumerate(files) if file.is_file()]
    if not kept:
        raise DatasetError(f"{path}: none of its {len(frames)} frames' images was found (the first: {files[0]})")
    missing = [frames[i]["file_path"] for i in range(len(frames)) if i not in set(kept)]
    notes = []
    if missing:
        shown = ", ".join(missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
        notes.append(f"{len(missing)} of {len(frames)} frames have no image file and are left out: {shown}")
    return [frames[i] for i in kept], [files[i] for i in kept], factor, folder_name, notes


def load_nerfstudio(source: str | Path, downscale: int | None = None, splits=SPLITS, kind: str = "auto") -> Dataset:
    """Load a nerfstudio (or instant-ngp) capture with images at 1/downscale (default: see `default_downscale`),
    poses oriented, centred and scaled as nerfstudio does (the transform is in meta.extra), as the kind of scene its
    cameras call for (see scene_shape.py; `kind` overrides): an object in a box, an unbounded scene, or a
    forward-facing one in NDC space."""
    path = transforms_path(source)
    data = read_transforms(path)
    orientation = data.get("orientation_override", "up")
    if orientation not in ORIENTATIONS:
        raise DatasetError(f"{path}: 'orientation_override' {json_kind(orientation)} is not supported (use "
                           f"{' or '.join(ORIENTATIONS)})")
    downscale = default_downscale(path) if downscale is None else int(downscale)
    frames, files, factor, folder_name, notes = present_frames(path, data, downscale)
    poses, transform, scale = orient_and_scale(torch.tensor([f["transform_matrix"] for f in frames]), orientation)
    index = _split_index(path, data, frames)
    for name in splits:
        if not index[name]:
            raise DatasetError(f"{path}: only {len(frames)} images, too few for a {name} split (need at least 5)")
    images, alphas, file_size = _read_shrunk(path, frames, files, downscale / factor)
    full = _first_size(path, data | {"frames": frames})
    _check_size(path, files[0], file_size, full, factor)
    h, w = images.shape[1:3]
    cameras = [frame_intrinsics(path, data, f, full).resized(h, w) for f in frames]
    train = index["train"]
    shape = camera_shape(poses)
    chosen, why = choose_kind(shape, cut_out=alphas is not None, override=kind)
    if kind == "auto" and chosen == "unbounded" and bounded_by_ngp(data):
        chosen, why = "object", f"{shape.describe()}, and its aabb_scale 1 says the scene fits instant-ngp's unit cube"
    extra = {"image_folder": folder_name, "full_size": list(full), "downscale": downscale,
             "camera_model": data.get("camera_model", "OPENCV" if cameras[0].distortion else "PINHOLE"),
             "world_transform": transform.tolist(), "world_scale": scale, "scene_kind_reason": why, "notes": notes}
    extra |= {k: data[k] for k in ("aabb_scale",) if k in data}
    where = str(Path(source).resolve())
    background = _background(images[train], alphas)
    if chosen == "forward":
        poses, meta = _forward_scene(path, poses, cameras, train, extra, where)
    elif chosen == "unbounded":
        up = Z_UP if orientation == "up" else None
        meta = unbounded_meta(path.parent.name, "nerfstudio", cameras[train[0]], poses, background, extra, where, up)
    else:
        focus, start, span = check_surrounds_object(path, poses)
        meta = SceneMeta(
            name=path.parent.name, format="nerfstudio", intrinsics=cameras[train[0]], background=background,
            source=where, extra=extra, **object_bounds(focus, poses, cameras[0]),
            **orbit_of_inward_cameras(poses[train]),
        )
        meta.azimuth_range = azimuth_range(start, span)
        if bounded_by_ngp(data):  # the region the file's author gave, rather than one estimated from the cameras
            meta.box_min, meta.box_max = ngp_box(data, transform, scale)
    loaded = {name: _split(images, alphas, poses, cameras, frames, index[name]) for name in splits}
    return Dataset(meta, loaded)


def _forward_scene(path: Path, poses: torch.Tensor, cameras: list, train: list[int], extra: dict, source: str):
    """A forward-facing capture in the frame NDC needs: the nearest content (taken at a quarter of the distance to
    where the cameras look, a transforms.json having no depth bounds) at 1 / 0.75, recentred on the average pose.
    The world transform in `extra` is updated to map the file's world into that frame."""
    depth = focus_depth(poses[train])
    near = NEAR_OF_FOCUS * depth
    scale = 1.0 / (near * BOUND_FACTOR)
    c2w = poses[:, :3, :].double().numpy()
    framed = ndc_frame(c2w, scale)
    # the recentring is a rigid map x -> A x + b of the scaled world; fold it into the recorded transform
    before = torch.from_numpy(c2w[0]).float()
    before[:, 3] *= scale
    rigid = framed[0, :3, :] @ torch.linalg.inv(torch.cat([before, torch.tensor([[0.0, 0.0, 0.0, 1.0]])]))
    old = torch.tensor(extra["world_transform"])
    total_scale = extra["world_scale"] * scale
    rotation = rigid[:, :3] @ old[:, :3]
    translation = rigid[:, :3] @ old[:, 3] + rigid[:, 3] / total_scale
    extra["world_transform"] = torch.cat([rotation, translation[:, None]], dim=1).tolist()
    extra["world_scale"] = total_scale
    bounds = np.array([near, depth]) * scale
    return framed, forward_meta(path.parent.name, "nerfstudio", cameras[train[0]], bounds, framed[train], extra, source,
                                [cameras[i] for i in train])


def _split(images, alphas, poses, cameras, frames, index: list[int]) -> Split:
    """The views `index` of the capture; one camera for all when they share it, else one per view."""
    chosen = [cameras[i] for i in index]
    same = all(c == chosen[0] for c in chosen)
    return Split(images[index], poses[index], chosen[0], [Path(frames[i]["file_path"]).stem for i in index],
                 None if alphas is None else alphas[index], None if same else chosen)
