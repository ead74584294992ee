"""The C allocator's handling of large blocks: reused from the heap instead of mapped afresh and faulted in each time."""

from __future__ import annotations

import ctypes
import sys

# glibc's mallopt parameters (malloc.h)
M_TRIM_THRESHOLD = -1
M_MMAP_MAX = -4
KEPT_FREE_BYTES = 1 << 30  # free memory at the top of the heap kept for reuse rather than handed back at once


def reuse_large_blocks(kept_free_bytes: int = KEPT_FREE_BYTES) -> bool:
    """Serve the calling process's large blocks from the heap; whether the C library took the setting (glibc).

    By default glibc maps each block over 32 MB afresh and unmaps it when freed, so a tensor of that size made every
    step (a voxel table's gradient: 100 MB for a fully allocated 128^3 grid of 12 features) costs a page fault for
    each 4 KB of it, every step: 25,000-56,000 faults per forward_c teacher step on a 2-core CPU, none with this
    setting (docs/BENCHMARKS.md, "Fewer wasted passes per step").

    For the command-line jobs, which train on the main thread: the main heap serves them. (Other threads' heaps map
    blocks past 64 MB regardless.) The price is memory: the heap gives memory back only from its top, so a process
    holds on to about its peak use, plus up to `kept_free_bytes` kept free at the top; a job's process ends when the
    job does, so it is not applied to the long-running viewer.
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # not glibc
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    return bool(mallopt(M_MMAP_MAX, 0)) and bool(mallopt(M_TRIM_THRESHOLD, kept_free_bytes))
