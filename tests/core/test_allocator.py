"""The allocator setting: large tensors made step after step reuse the heap instead of faulting in fresh pages."""

import os
import subprocess
import sys

import pytest

STEPS = """
import ctypes, resource, sys
ctypes.CDLL(None).prctl(41, 1, 0, 0, 0)  # PR_SET_THP_DISABLE: count 4 KB pages, as without huge pages
import torch
from r2l_viewer.core.allocator import reuse_large_blocks
applied = reuse_large_blocks() if sys.argv[1] == "on" else False
block = 64 * 1024 * 1024  # 64 M floats, 256 MB: past glibc's largest threshold for mapping blocks afresh
pages = 2 * block * 4 / resource.getpagesize()
shares = []
for step in range(16):  # like a training step: two large temporaries, made and freed
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    x = torch.zeros(block)
    y = x + 1
    del x, y
    shares.append((resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / pages)
print(int(applied), max(shares[-4:]))
"""
ALLOCATOR_VARIABLES = ("LD_PRELOAD", "GLIBC_TUNABLES", "THP_MEM_ALLOC_ENABLE")  # and every MALLOC_* setting


def faults_per_page(mode: str) -> tuple[bool, float]:
    """Whether the setting applied, and the page faults per page of the last four of 16 steps' blocks, in a process with
    glibc's own defaults (no preloaded allocator, no malloc settings from the environment)."""
    env = {k: v for k, v in os.environ.items() if k not in ALLOCATOR_VARIABLES and not k.startswith("MALLOC_")}
    out = subprocess.run([sys.executable, "-c", STEPS, mode], capture_output=True, text=True, check=True,
                         env=env).stdout
    applied, share = out.split()
    return applied == "1", float(share)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the setting is glibc's")
def test_steps_of_large_temporaries_settle_into_reusing_the_heap():
    _, share_without = faults_per_page("off")
    if share_without < 0.5:
        pytest.skip("this C library does not map large blocks afresh: nothing to reuse")
    applied, share = faults_per_page("on")
    assert applied
    # the heap settles within a few steps, where every page faulted before: glibc here from the 3rd to the 7th step,
    # depending on where the blocks land (one CI run had not settled by the 8th, hence 16 steps and the last four)
    assert share < 0.05
