"""Variants of the student's render for `r2l-bench`: chunk size, bf16 autocast (with its PSNR cost) and
torch.compile / CUDA graphs, each timed against the plain fp32 render in the same run."""

from __future__ import annotations

import sys
import time


import math

import torch

from r2l_viewer.core.chunk_team import TEAM_CHUNK, ChunkTeam, map_chunks, shared_cpu_team
from r2l_viewer.core.fast_student import FastStudent
from r2l_viewer.core.metrics import flops_per_ray, psnr
from r2l_viewer.core.render import render_image
from r2l_viewer.core.static_render import StaticChunkRenderer

from trainers.bench.ceiling import gemm_ceiling, share_of_ceiling
from trainers.bench.measure import bench_rays, bench_view, frame_times, median, synchronize

CPU_CHUNKS = (1024, 4096, 16384, 65536)
CUDA_CHUNKS = (16384, 65536, 262144)


def chunk_sweep(model, resolution: int, device, repeats: int) -> dict:
    """ms per frame for each chunk size (rays per model call) and the fastest."""
    chunks = CUDA_CHUNKS if device.type == "cuda" else CPU_CHUNKS
    times = {str(c): median(frame_times(model, resolution, device, repeats, chunk=c)[0]) for c in chunks}
    return {"ms_per_frame": times, "best_chunk": int(min(times, key=times.get))}


def precision_change(student, teacher, device, resolution: int, precision: str = "bf16") -> dict:
    """The student's PSNR against its teacher in fp32 and in `precision`, on the benchmark view: what reduced
    precision costs in quality (the target is at most 0.05 dB)."""
    pose, intr = bench_view(resolution)
    reference = render_image(teacher, pose, intr, out_device=None).rgb
    fp32 = psnr(render_image(student, pose, intr, out_device=None).rgb, reference)
    low = psnr(render_image(student, pose, intr, out_device=None, precision=precision).rgb, reference)
    return {"resolution": [resolution, resolution], "fp32_psnr": fp32, f"{precision}_psnr": low,
            "psnr_change_db": low - fp32}


PAPER_STUDENT_PSNR = 32.53  # dB: the R2L student on lego after finetuning (the paper's table)


def bf16_fidelity(student, device, resolution: int, precision: str = "bf16") -> dict:
    """How far `precision` moves this very network's render from its own fp32 render (PSNR of one against the
    other), and the PSNR change that error would cause on a student at the paper's 32.53 dB (its error added to
    the student's own, assumed independent): the figure that decides whether a bf16 path may be this network's
    headline."""
    pose, intr = bench_view(resolution)
    fp32 = render_image(student, pose, intr, out_device=None).rgb.float()
    low = render_image(student, pose, intr, out_device=None, precision=precision).rgb.float()
    fidelity = psnr(low, fp32)
    ratio = 10.0 ** ((PAPER_STUDENT_PSNR - fidelity) / 10.0)  # the bf16 error's MSE over the student's own
    return {"resolution": [resolution, resolution], f"{precision}_vs_fp32_psnr": fidelity,
            "psnr_change_db": -10.0 * math.log10(1.0 + ratio)}


def static_frame_ms(model, resolution: int, device, repeats: int, chunk: int, precision: str,
                    compile: str | None) -> dict:
    """ms per frame of a StaticChunkRenderer (optionally compiled), with the compile time reported apart."""
    renderer = StaticChunkRenderer(model, chunk, precision, compile)
    origins, directions = bench_rays(resolution, device)
    start = time.perf_counter()
    for _ in range(2 if compile else 1):  # the first calls compile (and, for CUDA graphs, record)
        renderer(origins, directions)
    synchronize(device)
    warmup_s = time.perf_counter() - start
    times = []
    for _ in range(repeats):
        synchronize(device)
        t0 = time.perf_counter()
        renderer(origins, directions)
        synchronize(device)
        times.append((time.perf_counter() - t0) * 1000.0)
    return {"ms_per_frame": median(times), "warmup_s": warmup_s, "chunk": chunk, "precision": precision,
            "compile": compile, "rows": min(chunk, len(origins))}


def fast_frame_ms(model, resolution: int, device, repeats: int, chunk: int, team: ChunkTeam | None = None) -> float:
    """ms per frame (median) of the viewer's fused CPU path (FastStudent), `chunk` rays per call; with a `team`,
    the calls spread over its single-threaded workers as the viewer does."""
    fast = FastStudent(model)
    origins, directions = bench_rays(resolution, device)
    starts = range(0, len(origins), chunk)
    call = lambda i: fast(origins[i : i + chunk], directions[i : i + chunk])  # noqa: E731
    render = lambda: map_chunks(call, starts, team=team)  # noqa: E731
    render()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        render()
        times.append((time.perf_counter() - t0) * 1000.0)
    return median(times)


def with_ceiling(row: dict, model, resolution: int, device, team: ChunkTeam | None = None,
                 dtype=torch.float32) -> dict:
    """`row` (ms per frame of one path, the rays per call in "rows" or "chunk") with the path's achieved FLOP/s,
    its matmul ceiling (the model's layer products on the same rays per call and the same threads) and the share."""
    rows = min(row.get("rows", row.get("chunk")), resolution * resolution)
    rate = flops_per_ray(model, n_rays=256) * resolution * resolution / (row["ms_per_frame"] / 1000.0)
    row.update(share_of_ceiling(rate, gemm_ceiling(model, rows, device, team, dtype)))
    return row


def cuda_variants(model, device, resolutions) -> dict:
    """fp32, bf16 and bf16 in a CUDA graph at each resolution, each with its own ceiling."""
    out, chunk = {}, 1 << 18
    for res in resolutions:
        row = {"fp32": static_frame_ms(model, res, device, 20, chunk, "fp32", None),
               "bf16": static_frame_ms(model, res, device, 20, chunk, "bf16", None)}
        try:
            row["bf16_cuda_graph"] = static_frame_ms(model, res, device, 20, min(chunk, res * res), "bf16",
                                                     "reduce-overhead")
        except Exception as exc:  # a compiler missing on the machine must not lose the rest of the bench
            row["bf16_cuda_graph"] = {"error": str(exc).splitlines()[0][:200]}
        for path in row.values():
            if "ms_per_frame" in path:
                dtype = torch.bfloat16 if path["precision"] == "bf16" else torch.float32
                with_ceiling(path, model, res, device, dtype=dtype)
        out[str(res)] = row
    return out


def render_variants(model, device, resolutions, quick: bool) -> dict:
    """The paper-size student's render under each variant that applies to this device; each fast path's row
    carries its achieved FLOP/s beside its own matmul ceiling."""
    if device.type == "cuda":
        return cuda_variants(model, device, resolutions)
    out = {}
    res = resolutions[0]
    out["chunk_sweep"] = chunk_sweep(model, res, device, 3 if quick else 5)
    chunk = out["chunk_sweep"]["best_chunk"]
    sizes = [r for r in resolutions if not (quick and r > 200)]
    out["fused_cpu"] = {str(r): with_ceiling({"ms_per_frame": fast_frame_ms(model, r, device, 5, chunk),
                                              "chunk": chunk}, model, r, device) for r in sizes}
    team = shared_cpu_team()
    if team is not None:
        out["fused_cpu_team"] = {
            str(r): with_ceiling({"ms_per_frame": fast_frame_ms(model, r, device, 5, TEAM_CHUNK, team),
                                  "chunk": TEAM_CHUNK, "workers": team.workers}, model, r, device, team)
            for r in sizes}
    if not quick:
        print("  compiling the paper student for the CPU (about a minute)", file=sys.stderr)
        out["compiled"] = {str(res): static_frame_ms(model, res, device, 5, chunk, "fp32", "default")}
        out["eager_static"] = {str(res): static_frame_ms(model, res, device, 5, chunk, "fp32", None)}
    return out
