"""Evaluate teacher and student against a split's real images: PSNR, SSIM, latency, FLOPs, size; save PNGs."""

from __future__ import annotations

import io
import statistics
import time
from pathlib import Path

import imageio.v3 as iio
import torch

from r2l_viewer.core.checkpoint import SceneCheckpoint
from r2l_viewer.core.colormap import error_image
from r2l_viewer.core.datasets import Split
from r2l_viewer.core.device import describe_device
from r2l_viewer.core.metrics import psnr, ssim
from r2l_viewer.core.models import parameter_count
from r2l_viewer.core.rays import camera_rays
from r2l_viewer.core.render import render_image
from torch.utils.flop_counter import FlopCounterMode

from .configs import EvalConfig
from .events import to_preview


def _synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def timed_render(model, pose, intrinsics, chunk: int, device) -> tuple[torch.Tensor, float]:
    """Render one view; returns (rgb [H, W, 3] on the CPU, milliseconds of rendering)."""
    _synchronize(device)
    start = time.perf_counter()
    rgb = render_image(model, pose.to(device), intrinsics, chunk, out_device=None).rgb
    _synchronize(device)
    return rgb.cpu(), (time.perf_counter() - start) * 1000.0


def counted_flops_per_ray(model, pose, intrinsics, device) -> float:
    """Matrix-product FLOPs per ray of rendering one real view, counted while running it."""
    origins, directions = camera_rays(pose.to(device), intrinsics)
    counter = FlopCounterMode(display=False)
    with torch.inference_mode(), counter:
        model(origins.reshape(-1, 3), directions.reshape(-1, 3))
    return counter.get_total_flops() / (intrinsics.height * intrinsics.width)


def stored_bytes(record: dict) -> int:
    """Bytes the model takes inside a checkpoint file."""
    buffer = io.BytesIO()
    torch.save(record["weights"], buffer)
    return buffer.tell()


def evaluate_model(model, record: dict, split: Split, views: list[int], config: EvalConfig, device) -> tuple[dict, list]:
    """Metrics of one model on the views; also returns its renders (CPU tensors)."""
    intr = split.intrinsics
    for _ in range(config.warmup):
        timed_render(model, split.poses[views[0]], intr, config.chunk, device)
    renders, times, psnrs, ssims = [], [], [], []
    for i in views:
        rgb, ms = timed_render(model, split.poses[i], intr, config.chunk, device)
        renders.append(rgb)
        times.append(ms)
        psnrs.append(psnr(rgb, split.images[i]))
        ssims.append(ssim(rgb, split.images[i]))
    result = {
        "psnr": statistics.fmean(psnrs),
        "ssim": statistics.fmean(ssims),
        "ms_per_frame": statistics.median(times),
        "flops_per_ray": counted_flops_per_ray(model, split.poses[views[0]], intr, device),
        "params": parameter_count(model),
        "bytes": stored_bytes(record),
        "resolution": [intr.height, intr.width],
        "images": len(views),
    }
    return result, renders


def evaluate_scene(scene: SceneCheckpoint, split: Split, split_name: str, config: EvalConfig, device,
                   save_dir: Path | None = None) -> dict:
    """Teacher and student (whichever the scene has) on the split; the student-teacher gap and speed-up."""
    views = list(range(len(split) if not config.limit else min(config.limit, len(split))))
    result = {"scene": scene.meta.name, "split": split_name, "device": describe_device(device)}
    renders = {}
    for role in ("teacher", "student"):
        record = getattr(scene, role)
        if record is None:
            result[role] = None
            continue
        model = scene.build_teacher(device) if role == "teacher" else scene.build_student(device)
        result[role], renders[role] = evaluate_model(model, record, split, views, config, device)
        result[role]["kind"] = record["kind"]
        if role == "student":
            result[role]["stage"] = record.get("stage")
    if len(renders) == 2:
        t, s = result["teacher"], result["student"]
        result["student_vs_teacher"] = {
            "psnr": statistics.fmean(psnr(a, b) for a, b in zip(renders["student"], renders["teacher"])),
            "psnr_gap": t["psnr"] - s["psnr"],
            "speedup": t["ms_per_frame"] / s["ms_per_frame"],
            "flops_ratio": t["flops_per_ray"] / s["flops_per_ray"] if s["flops_per_ray"] else None,
        }
    if save_dir is not None:
        save_comparisons(save_dir, split, views, renders)
        result["saved_to"] = str(save_dir)
    return result


def save_comparisons(folder: Path, split: Split, views: list[int], renders: dict) -> None:
    """Per view one PNG: teacher | student | ground truth | error map of the student (|student - truth|)."""
    folder.mkdir(parents=True, exist_ok=True)
    for k, i in enumerate(views):
        truth = split.images[i]
        panels = [renders[r][k] for r in ("teacher", "student") if r in renders] + [truth]
        worst = renders.get("student", renders.get("teacher"))
        if worst is not None:
            panels.append(error_image(worst[k], truth))
        iio.imwrite(folder / f"{split.names[i] if split.names else i}.png", to_preview(torch.cat(panels, dim=1)))
