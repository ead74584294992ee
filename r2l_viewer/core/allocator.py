"""The C allocator's handling of large blocks: reused from the heap instead of mapped afresh and faulted in each time."""

from __future__ import annotations

import ctypes
import sys

# glibc's mallopt parameters (malloc.h)
M_TRIM_THRESHOLD = -1
M_MMAP_MAX = -4
KEPT_FREE_BYTES = 1 << 30  # freed heap kept for reuse before any is handed back to the system


def reuse_large_blocks(kept_free_bytes: int = KEPT_FREE_BYTES) -> bool:
    """Serve every block from the heap and keep up to `kept_free_bytes` of freed heap; whether it applied (glibc).

    By default glibc maps each block over 32 MB afresh and unmaps it when freed, so a tensor of that size made every
    step (a voxel table's gradient: 100 MB for a 128^3 grid of 12 features) costs a page fault for each 4 KB of it.
    On a 2-core CPU a forward_c teacher step spent a tenth of its time there (docs/BENCHMARKS.md, "Large blocks").
    Memory the process frees is then kept for its next block rather than returned to the system, up to the limit.
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # not glibc
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    return bool(mallopt(M_MMAP_MAX, 0)) and bool(mallopt(M_TRIM_THRESHOLD, kept_free_bytes))
