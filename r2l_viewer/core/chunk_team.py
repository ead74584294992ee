"""Ray chunks spread over single-threaded CPU workers, one per core: no OpenMP barrier after every small operation.

A frame of a small student is thousands of short operations (128-wide matrix products, sin, ReLU) on chunks of a few
thousand rays. With torch's usual intra-op threads every operation is split across the cores and ends at a barrier,
so a core that is briefly busy elsewhere (the GUI thread, the OpenGL rasteriser) stalls the other. Here each worker
runs whole chunks on one thread and takes the next chunk when done, so the cores never wait for each other. On the
developers' 2-core machine this rendered the demo student's 200x200 frame in 90-108 ms against 150-217 ms."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

import torch

TEAM_CHUNK = 2048  # rays per call for one worker: the fastest of 512-4096 for the demo student on 2 cores
_setup_lock = threading.Lock()


def _single_threaded(ready: threading.Barrier) -> None:
    torch.get_num_threads()  # torch sets a thread's count from the process-wide one on first use: let it, then override
    torch.set_num_threads(1)
    ready.wait()


class ChunkTeam:
    """`map(fn, chunks, abandon)` runs fn on every chunk on `workers` single-threaded threads, results in order."""

    def __init__(self, workers: int):
        if workers < 1:
            raise ValueError(f"a chunk team needs at least one worker, not {workers}")
        self.workers = workers
        with _setup_lock:
            previous = torch.get_num_threads()
            ready = threading.Barrier(workers + 1)
            self._pool = ThreadPoolExecutor(workers, thread_name_prefix="r2l-chunk")
            for _ in range(workers):
                self._pool.submit(_single_threaded, ready)
            ready.wait()
            # torch.set_num_threads also sets the count that threads started later begin with; put it back so that
            # only this team's threads are single-threaded (the caller's own count is unchanged).
            torch.set_num_threads(previous)

    def map(self, fn: Callable, chunks: Sequence, abandon: Callable[[], bool] | None = None) -> list | None:
        """[fn(chunk) for chunk in chunks], computed by the workers; None when `abandon()` turned true (checked
        before each chunk starts)."""
        stop = threading.Event()

        def run(chunk):
            if stop.is_set() or (abandon is not None and abandon()):
                stop.set()
                return None
            return fn(chunk)

        results = list(self._pool.map(run, chunks))
        return None if stop.is_set() else results

    def close(self) -> None:
        self._pool.shutdown(wait=True)


def map_chunks(fn: Callable, chunks: Sequence, abandon: Callable[[], bool] | None = None,
               team: ChunkTeam | None = None) -> list | None:
    """[fn(chunk) for chunk in chunks] on `team`'s workers, or in this thread without one; None when `abandon()`
    turned true before a chunk started."""
    if team is not None:
        return team.map(fn, chunks, abandon)
    results = []
    for chunk in chunks:
        if abandon is not None and abandon():
            return None
        results.append(fn(chunk))
    return results


_shared: ChunkTeam | None = None
_shared_lock = threading.Lock()


def shared_cpu_team() -> ChunkTeam | None:
    """The process's team, one worker per torch intra-op thread (one per core unless the user set fewer); None
    where that is a single thread (a team of one gains nothing)."""
    global _shared
    with _shared_lock:
        if _shared is None and torch.get_num_threads() > 1:
            _shared = ChunkTeam(torch.get_num_threads())
        return _shared
