"""Pseudo data on disk, compactly: per view its pose and focal length, RGB as uint8, depth as float16.

A folder holds `manifest.json` and shard folders `shard_00000/` with `rgb.npy` [n, H, W, 3] uint8,
`depth.npy` [n, H, W] float16, `poses.npy` [n, 4, 4] float32 and `focals.npy` [n] float32; the manifest lists the
shards with their view count and the index of their first view (`first`: shards written before it was recorded hold
consecutive views in list order). Rays are
regenerated from pose and focal when read, so a ray costs 5 bytes (the original R2L code stored 36). Shards are
written to a temporary folder and renamed, and the manifest is replaced atomically; any failure to write (a full
disk) removes the partial shard and leaves the manifest as it was, so the store stays consistent and a run with
--resume continues it. Opening a store for writing clears leftovers of a crash (`*.tmp`, shards not in the manifest).

Under torchrun each rank writes its shards as `pending_<first view>/` folders; rank 0 renames them to shard names
and records them in the manifest (`publish`) once every rank has finished.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
from pathlib import Path

import numpy as np
import torch

from trainers.training.views import ArrayViews, ConcatViews
from trainers.errors import JobError

FORMAT = "r2l-viewer.pseudo"
VERSION = 1
ARRAYS = ("rgb", "depth", "poses", "focals")


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


class _WriteOnly:
    """A file seen only through `write`: numpy then writes through Python, whose errors carry their errno (ENOSPC
    on a full disk), where its direct path reports a short write as '... requested and ... written' without one."""

    def __init__(self, file):
        self.write = file.write


def save_array(path: Path, array: np.ndarray) -> None:
    """np.save, with a full disk reported as ENOSPC."""
    with open(path, "wb") as f:
        np.lib.format.write_array(_WriteOnly(f), array, allow_pickle=False)


class PseudoStore:
    """A folder of pseudo-data shards and its manifest."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.manifest_path = self.folder / "manifest.json"

    @property
    def exists(self) -> bool:
        return self.manifest_path.is_file()

    def manifest(self) -> dict:
        try:
            manifest = json.loads(self.manifest_path.read_text())
        except FileNotFoundError:
            raise JobError(f"{self.folder}: no pseudo data here; run `r2l-train pseudo` first") from None
        except json.JSONDecodeError:
            raise JobError(f"{self.manifest_path}: damaged; delete {self.folder} and run `r2l-train pseudo` again") from None
        if manifest.get("format") != FORMAT:
            raise JobError(f"{self.manifest_path}: not an R2L Viewer pseudo-data manifest")
        return manifest

    def _write_failed(self, exc: OSError, what: Path, kept: int) -> JobError:
        if exc.errno == errno.ENOSPC:
            return JobError(f"no space left on device (disk full) writing {what}: the {kept} views written so far "
                            "are kept; free space, then run the same command with --resume")
        return JobError(f"cannot write {what} ({exc.strerror or exc}): the {kept} views written so far are kept; "
                        "fix it and run with --resume")

    def create(self, height: int, width: int, planned: int, teacher_id: str, settings: dict) -> dict:
        """Start an empty store (removing any previous one in the folder)."""
        manifest = {
            "format": FORMAT, "version": VERSION, "height": height, "width": width, "planned": planned,
            "teacher_id": teacher_id, "settings": settings, "shards": [], "images": 0, "bytes": 0, "complete": False,
        }
        try:
            if self.folder.exists():
                shutil.rmtree(self.folder)
            self.folder.mkdir(parents=True)
        except OSError as exc:
            raise self._write_failed(exc, self.folder, 0) from None
        self._write_manifest(manifest)
        return manifest

    def tidy(self) -> None:
        """Remove what an interrupted write left behind: `*.tmp` entries and shard folders the manifest lacks."""
        listed = {shard["name"] for shard in self.manifest()["shards"]}
        for path in self.folder.iterdir():
            unlisted = path.name.startswith(("shard_", "pending_")) and path.name not in listed
            if path.name.endswith(".tmp") or unlisted:
                _remove(path)

    def _write_manifest(self, manifest: dict, kept: int | None = None) -> None:
        tmp = self.manifest_path.with_suffix(".json.tmp")
        try:
            tmp.write_text(json.dumps(manifest, indent=1))
            os.replace(tmp, self.manifest_path)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise self._write_failed(exc, self.manifest_path, manifest["images"] if kept is None else kept) from None

    def _write_shard(self, name: str, arrays: dict, kept: int) -> None:
        """Write one shard folder: into `name.tmp`, then renamed; a failure removes what it wrote."""
        tmp, final = self.folder / (name + ".tmp"), self.folder / name
        try:
            tmp.mkdir()
            for key, array in arrays.items():
                save_array(tmp / f"{key}.npy", array)
            os.rename(tmp, final)
        except OSError as exc:
            _remove(tmp)
            raise self._write_failed(exc, final, kept) from None

    def append(self, rgb: np.ndarray, depth: np.ndarray, poses: np.ndarray, focals: np.ndarray,
               first: int | None = None) -> dict:
        """Write one shard of n views (the first of them view number `first`, by default the one after the last
        view held) and record it in the manifest; any failure leaves the store as it was."""
        manifest = self.manifest()
        kept = manifest["images"]
        name = f"shard_{len(manifest['shards']):05d}"
        arrays = shard_arrays(rgb, depth, poses, focals)
        self._write_shard(name, arrays, kept)
        first = max((f + n for f, n in shard_ranges(manifest)), default=0) if first is None else int(first)
        try:
            self._record(manifest, [shard_entry(name, arrays, first)], kept)
        except JobError:
            _remove(self.folder / name)  # not in the manifest: without it the shard would block the next write of this name
            raise
        return manifest

    def write_pending(self, first: int, rgb, depth, poses, focals) -> dict:
        """Write one shard of views `first`... without recording it (a rank of a torchrun run); returns its entry
        for `publish`."""
        arrays = shard_arrays(rgb, depth, poses, focals)
        name = f"pending_{first:07d}"
        self._write_shard(name, arrays, self.manifest()["images"])
        return shard_entry(name, arrays, first)

    def publish(self, entries: list[dict]) -> dict:
        """Rename pending shards (every rank's) to shard names in the order of their views and record them in the
        manifest, in one write."""
        manifest = self.manifest()
        kept, renamed = manifest["images"], []
        for entry in sorted(entries, key=lambda e: e["first"]):
            name = f"shard_{len(manifest['shards']) + len(renamed):05d}"
            os.rename(self.folder / entry["name"], self.folder / name)
            renamed.append(entry | {"name": name})
        self._record(manifest, renamed, kept)
        return manifest

    def _record(self, manifest: dict, entries: list[dict], kept: int) -> None:
        for entry in entries:
            manifest["shards"].append({"name": entry["name"], "images": entry["images"], "first": entry["first"]})
            manifest["images"] += entry["images"]
            manifest["bytes"] += entry["bytes"]
        self._write_manifest(manifest, kept)

    def missing_views(self, total: int) -> list[int]:
        """The view numbers below `total` that no shard holds, in order."""
        held = np.zeros(total, dtype=bool)
        for first, count in shard_ranges(self.manifest()):
            held[first:first + count] = True
        return np.flatnonzero(~held).tolist()

    def extend(self, planned: int, settings: dict) -> dict:
        """Plan more views than before (same settings otherwise); the store is incomplete until they are written."""
        manifest = self.manifest()
        manifest["planned"], manifest["settings"] = planned, settings
        manifest["complete"] = manifest["images"] >= planned
        self._write_manifest(manifest)
        return manifest

    def finish(self) -> dict:
        manifest = self.manifest()
        manifest["complete"] = True
        self._write_manifest(manifest)
        return manifest

    def views(self) -> ConcatViews:
        """All views, their colours and depths memory-mapped: batches are drawn across every view without loading
        them."""
        manifest = self.manifest()
        if not manifest["shards"]:
            raise JobError(f"{self.folder}: the pseudo data holds no views yet; run `r2l-train pseudo`")
        parts = []
        in_view_order = sorted(zip(shard_ranges(manifest), manifest["shards"]), key=lambda pair: pair[0][0])
        for _, shard in in_view_order:
            folder = self.folder / shard["name"]
            rgb, depth = (np.load(folder / f"{key}.npy", mmap_mode="r") for key in ("rgb", "depth"))
            poses = torch.from_numpy(np.load(folder / "poses.npy"))
            focals = torch.from_numpy(np.load(folder / "focals.npy"))
            parts.append(ArrayViews(rgb, poses, focals, depth))
        return ConcatViews(parts)

    def read_shard(self, index: int) -> dict[str, np.ndarray]:
        """One shard's arrays, fully loaded."""
        folder = self.folder / self.manifest()["shards"][index]["name"]
        return {key: np.load(folder / f"{key}.npy") for key in ARRAYS}


def shard_arrays(rgb, depth, poses, focals) -> dict[str, np.ndarray]:
    """A shard's arrays in their stored types."""
    return {"rgb": rgb.astype(np.uint8), "depth": depth.astype(np.float16), "poses": poses.astype(np.float32),
            "focals": focals.astype(np.float32)}


def shard_entry(name: str, arrays: dict, first: int) -> dict:
    return {"name": name, "images": int(arrays["rgb"].shape[0]), "first": int(first),
            "bytes": sum(a.nbytes for a in arrays.values())}


def shard_ranges(manifest: dict) -> list[tuple[int, int]]:
    """(first view, view count) of each shard in manifest order; a shard without `first` (written before it was
    recorded) follows the one before it."""
    ranges, end = [], 0
    for shard in manifest["shards"]:
        first = int(shard.get("first", end))
        ranges.append((first, int(shard["images"])))
        end = first + int(shard["images"])
    return ranges


def replace_store(new: PseudoStore, live: PseudoStore) -> None:
    """Make `new` the store in `live`'s folder (renames; the old one is deleted only once the new one is in place)."""
    old = live.folder.with_name(live.folder.name + ".old")
    _remove(old)
    if live.folder.exists():
        os.rename(live.folder, old)
    os.rename(new.folder, live.folder)
    _remove(old)


def bytes_per_ray(manifest: dict) -> float:
    rays = manifest["images"] * manifest["height"] * manifest["width"]
    return manifest["bytes"] / rays if rays else 0.0
