"""The matmul ceiling of one render path: the model's own layer shapes as bare matrix products, on the path's threads.

A render path runs the model's linear layers on chunks of `rows` rays, either on torch's intra-op threads or on a
chunk team's single-threaded workers. Its ceiling is the same products (same shapes, same rows, same threads)
with nothing else in between: the path does all of that work plus its encoding, activations and copies, so its
achieved rate can only exceed the ceiling through measurement noise, which the bench reports as an error."""

from __future__ import annotations

import time

import torch

from r2l_viewer.core.chunk_team import ChunkTeam

WINDOW_SECONDS = 0.4  # each window runs the products for this long; the ceiling is the best window
WINDOWS = 3


def layer_shapes(model: torch.nn.Module) -> list[tuple[int, int]]:
    """(in_features, out_features) of every linear layer of the model, in order."""
    return [(m.in_features, m.out_features) for m in model.modules() if isinstance(m, torch.nn.Linear)]


class LayerProducts:
    """One pass over a model's layer shapes: [rows, in] @ [in, out] for each layer, into preallocated outputs."""

    def __init__(self, shapes: list[tuple[int, int]], rows: int, device, dtype=torch.float32):
        gen = torch.Generator().manual_seed(0)
        make = lambda *size: torch.randn(*size, generator=gen).to(device, dtype)  # noqa: E731
        self.weights = [make(i, o) / i**0.5 for i, o in shapes]
        self.inputs = {i: make(rows, i) for i, _ in shapes}
        self.outputs = {o: torch.empty(rows, o, device=device, dtype=dtype) for _, o in shapes}
        self.shapes = shapes
        self.flops = 2.0 * rows * sum(i * o for i, o in shapes)

    def __call__(self) -> None:
        for (i, o), weight in zip(self.shapes, self.weights):
            torch.mm(self.inputs[i], weight, out=self.outputs[o])

    def passes_for(self, seconds: float, sync) -> int:
        """Passes run in about `seconds` (at least one)."""
        passes, start = 0, time.perf_counter()
        while passes == 0 or time.perf_counter() - start < seconds:
            self()
            passes += 1
        sync()
        return passes


def gemm_ceiling(model: torch.nn.Module, rows: int, device, team: ChunkTeam | None = None,
                 dtype=torch.float32, seconds: float = WINDOW_SECONDS) -> float:
    """Best FLOP/s over WINDOWS windows of the model's layer products on `rows` rays: on torch's threads, or with a
    team on each of its workers at once (each its own buffers, as each runs its own chunk)."""
    from trainers.bench.measure import synchronize

    shapes = layer_shapes(model)
    sync = lambda: synchronize(device)  # noqa: E731
    workers = team.workers if team is not None else 1
    products = [LayerProducts(shapes, rows, device, dtype) for _ in range(workers)]
    with torch.inference_mode():
        for p in products:
            p()
        best = 0.0
        for _ in range(WINDOWS):
            start = time.perf_counter()
            if team is None:
                passes = [products[0].passes_for(seconds, sync)]
            else:
                passes = team.map(lambda p: p.passes_for(seconds, sync), products)
            elapsed = time.perf_counter() - start
            best = max(best, sum(passes) * products[0].flops / elapsed)
    return best


def share_of_ceiling(flops_per_s: float, ceiling: float) -> dict:
    """The achieved rate, the ceiling beside it, and the share; a share above 1 is a measurement error (the path
    does more than the bare products on the same threads), reported as such and never as a share."""
    row = {"flops_per_s": flops_per_s, "ceiling_flops_per_s": ceiling}
    if flops_per_s > ceiling:
        row["measurement_error"] = (f"achieved {flops_per_s / 1e9:.1f} GFLOP/s above its own ceiling "
                                    f"{ceiling / 1e9:.1f} GFLOP/s")
    else:
        row["matmul_fraction"] = flops_per_s / ceiling
    return row
