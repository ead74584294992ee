"""Measurements for `r2l-bench`: render latency, training and pseudo-data throughput."""

from __future__ import annotations

import statistics
import time

import torch

from r2l_viewer.core.cameras import Intrinsics, spherical_pose
from r2l_viewer.core.precision import autocast
from r2l_viewer.core.rays import camera_rays
from r2l_viewer.core.chunk_team import ChunkTeam, map_chunks
from r2l_viewer.core.render import chunk_rays, render_rays

from trainers.configs import PseudoConfig
from trainers.training.adam import adam
from trainers.training.views import render_pseudo_view


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def bench_view(resolution: int) -> tuple[torch.Tensor, Intrinsics]:
    """The benchmark's camera: NeRF Synthetic field of view, 30 degrees up, radius 4."""
    return spherical_pose(30.0, 30.0, 4.0), Intrinsics.from_fov_x(resolution, resolution, 0.6911112070083618)


def bench_rays(resolution: int, device, ray_fraction: float = 1.0) -> tuple[torch.Tensor, torch.Tensor]:
    """The benchmark view's rays [N, 3] (origins, directions) on `device`; with ray_fraction < 1, that share of
    them spread evenly over the frame."""
    pose, intr = bench_view(resolution)
    origins, directions = (t.reshape(-1, 3) for t in camera_rays(pose.to(device), intr))
    if ray_fraction >= 1.0:
        return origins, directions
    count = max(1, int(len(origins) * ray_fraction))
    step = max(1, len(origins) // count)
    return origins[::step][:count], directions[::step][:count]


def frame_times(model, resolution: int, device, repeats: int, warmup: int = 1, chunk: int = 16384,
                ray_fraction: float = 1.0, team: ChunkTeam | None = None) -> tuple[list[float], bool]:
    """Milliseconds per frame of the model's plain forward, `chunk` rays per call, over `repeats` renders after
    `warmup`. The rays are made before the timer starts (as for every path the bench times). With a `team`, the
    calls spread over its single-threaded workers. With ray_fraction < 1, only that share of the frame's rays is
    rendered and the time scaled up (for models whose cost per ray is fixed and whose full frames would take
    minutes); the second value says whether that happened."""
    origins, directions = bench_rays(resolution, device, ray_fraction)
    step = chunk_rays(model, chunk)
    call = lambda i: render_rays(model, origins[i : i + step], directions[i : i + step], step, None)  # noqa: E731
    render = lambda: map_chunks(call, range(0, len(origins), step), team=team)  # noqa: E731
    for _ in range(warmup):
        render()
    times = []
    for _ in range(repeats):
        synchronize(device)
        start = time.perf_counter()
        render()
        synchronize(device)
        times.append((time.perf_counter() - start) * 1000.0)
    share = len(origins) / (resolution * resolution)
    return [t / share for t in times], ray_fraction < 1.0


def median(values: list[float]) -> float:
    return statistics.median(values)


def training_throughput(student, device, batch: int, steps: int, precision: str = "fp32") -> dict:
    """Rays per second of the student's forward pass, backward pass and Adam step, and of whole steps, with the
    matrix products in `precision` as the distill job runs them."""
    optimizer = adam(student.parameters(), lr=1e-4)
    gen = torch.Generator().manual_seed(0)
    d = torch.nn.functional.normalize(torch.randn(batch, 3, generator=gen), dim=-1).to(device)
    o, target = -4.0 * d, torch.rand(batch, 3, generator=gen).to(device)
    parts = {"forward": 0.0, "backward": 0.0, "optimizer": 0.0}
    student.train()
    for step in range(steps + 1):
        synchronize(device)
        t0 = time.perf_counter()
        with autocast(device, precision):
            rgb = student(o, d, randomize=True, generator=gen).rgb
        loss = (rgb.float() - target).pow(2).mean()
        synchronize(device)
        t1 = time.perf_counter()
        loss.backward()
        synchronize(device)
        t2 = time.perf_counter()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        synchronize(device)
        t3 = time.perf_counter()
        if step:  # the first step warms up
            parts["forward"] += t1 - t0
            parts["backward"] += t2 - t1
            parts["optimizer"] += t3 - t2
    student.eval()
    rays = batch * steps
    result = {f"{k}_rays_per_s": rays / v for k, v in parts.items()}
    result["step_rays_per_s"] = rays / sum(parts.values())
    result["batch_rays"] = batch
    result["precision"] = precision
    return result


def pseudo_throughput(teacher, meta, device, images: int) -> float:
    """Pseudo views per second the teacher renders at the scene's training size."""
    config = PseudoConfig()
    render_pseudo_view(teacher, meta, config, seed=0, index=0)
    synchronize(device)
    start = time.perf_counter()
    for index in range(1, images + 1):
        render_pseudo_view(teacher, meta, config, seed=0, index=index)
    synchronize(device)
    return images / (time.perf_counter() - start)
