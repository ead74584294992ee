"""`r2l-bench`'s onnxruntime row: the tiny student exported to ONNX, its ms per frame next to torch's (CPU)."""

from __future__ import annotations

import copy
import sys
import tempfile
import time
from pathlib import Path

import torch

from r2l_viewer.core.render import render_rays

from trainers.bench.measure import bench_view, median
from trainers.export.onnx_export import write_graph
from trainers.export.onnx_graph import StudentGraph, minimum_opset
from trainers.export.onnx_runtime import CHUNK, onnxruntime_available, open_session, run_rays, view_rays


def _ms(render, repeats: int) -> float:
    render()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        render()
        times.append((time.perf_counter() - start) * 1000.0)
    return median(times)


def onnx_frames(student, resolutions, repeats: int = 5, threads: int | None = None) -> dict:
    """ms per frame of the student through onnxruntime and through torch (Student.forward), on the same rays of the
    benchmark view, CHUNK rays per call, on `threads` CPU threads each (default: torch's); with the largest colour
    difference between the two."""
    if not onnxruntime_available():
        return {"skipped": "onnxruntime is not installed (pip install onnxruntime)"}
    import onnxruntime

    student = copy.deepcopy(student).cpu().eval()  # onnxruntime runs on the CPU: torch is timed there too
    threads = threads or torch.get_num_threads()
    opset = minimum_opset(student)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "student.onnx"
        write_graph(StudentGraph(student), view_rays(*bench_view(4)), path, opset)
        session = open_session(path, threads)
    frames = {}
    for res in resolutions:
        origins, directions = view_rays(*bench_view(res))
        with torch.inference_mode():
            torch_rgb = render_rays(student, origins, directions, CHUNK).rgb
            torch_ms = _ms(lambda: render_rays(student, origins, directions, CHUNK), repeats)
        onnx_ms = _ms(lambda: run_rays(session, origins, directions), repeats)
        error = float((run_rays(session, origins, directions) - torch_rgb).abs().max())
        frames[str(res)] = {"onnxruntime_ms": onnx_ms, "torch_ms": torch_ms, "max_abs_error": error}
        print(f"  measured the tiny student through onnxruntime at {res}x{res}: {onnx_ms:.1f} ms", file=sys.stderr)
    return {"onnxruntime": onnxruntime.__version__, "threads": threads, "opset": opset,
            "encoding": student.config.encoding, "frames": frames}


def print_onnx_rows(row: dict) -> None:
    if "skipped" in row:
        print(f"tiny student through onnxruntime: skipped ({row['skipped']})")
        return
    for res, frame in row["frames"].items():
        print(f"tiny student at {res}, onnxruntime {row['onnxruntime']} (CPU, {row['threads']} thread(s), opset "
              f"{row['opset']}): {frame['onnxruntime_ms']:.1f} ms/frame vs torch {frame['torch_ms']:.1f} ms "
              f"(Student.forward, every ray through the network as in the graph; colours agree to "
              f"{frame['max_abs_error']:.1e})")
