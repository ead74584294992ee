"""The allocator setting: large tensors made step after step reuse the heap instead of faulting in fresh pages."""

import subprocess
import sys

import pytest

from r2l_viewer.core.allocator import reuse_large_blocks

STEPS = """
import resource, sys, torch
from r2l_viewer.core.allocator import reuse_large_blocks
applied = reuse_large_blocks() if sys.argv[1] == "on" else False
block = 64 * 1024 * 1024  # 64 M floats, 256 MB: past glibc's largest threshold for mapping blocks afresh
pages = 2 * block * 4 / resource.getpagesize()
shares = []
for step in range(8):  # like a training step: two large temporaries, made and freed
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    x = torch.zeros(block)
    y = x + 1
    del x, y
    shares.append((resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / pages)
print(int(applied), max(shares[-2:]))
"""


def faults_per_page(mode: str) -> tuple[bool, float]:
    """Whether the setting applied, and the page faults per page of the last two steps' blocks."""
    out = subprocess.run([sys.executable, "-c", STEPS, mode], capture_output=True, text=True, check=True).stdout
    applied, share = out.split()
    return applied == "1", float(share)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the setting is glibc's")
def test_steps_of_large_temporaries_settle_into_reusing_the_heap():
    applied, share = faults_per_page("on")
    if not applied:
        pytest.skip("this C library has no mallopt (not glibc)")
    assert share < 0.05  # the heap settles within a few steps (glibc here: from the fifth)
    _, share_without = faults_per_page("off")
    assert share_without > 0.5  # glibc's default maps every such block afresh: each page faults, every step


def test_it_says_whether_it_applied():
    assert isinstance(reuse_large_blocks(), bool)
