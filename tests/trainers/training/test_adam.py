"""The jobs' Adam: fused where this torch supports it, the same update as the plain implementation, and a saved
state of either kind resumes on either."""

from __future__ import annotations

import io

import pytest
import torch

from trainers.training import adam as adam_module
from trainers.training.adam import FUSED_CPU_SINCE, adam, torch_release


def saved_and_read(state: dict) -> dict:
    """A state through a file's bytes, as a resumed job reads it (no tensor shared with the saving optimiser)."""
    buffer = io.BytesIO()
    torch.save(state, buffer)
    buffer.seek(0)
    return torch.load(buffer)


def steps(param, optimizer, grads):
    for grad in grads:
        param.grad = grad.clone()
        optimizer.step()


def test_the_jobs_adam_takes_the_same_steps_as_the_plain_one():
    torch.manual_seed(0)
    start, grads = torch.randn(1000, 12), [torch.randn(1000, 12) for _ in range(5)]
    fast, plain = torch.nn.Parameter(start.clone()), torch.nn.Parameter(start.clone())
    steps(fast, adam([fast], lr=0.1, betas=(0.9, 0.99)), grads)
    steps(plain, torch.optim.Adam([plain], lr=0.1, betas=(0.9, 0.99)), grads)
    assert torch.allclose(fast, plain, atol=1e-5) and not torch.equal(fast.detach(), start)


@pytest.mark.skipif(torch_release() < FUSED_CPU_SINCE, reason="the fused Adam kernel runs on the CPU from torch 2.4")
def test_the_fused_kernel_runs_and_a_plain_state_resumes_on_it():
    torch.manual_seed(1)
    grads = [torch.randn(50, 3) for _ in range(6)]
    plain = torch.nn.Parameter(torch.randn(50, 3))
    resumed = torch.nn.Parameter(plain.detach().clone())
    plain_opt = torch.optim.Adam([{"params": [plain], "lr_scale": 2.0}], lr=0.05)
    steps(plain, plain_opt, grads[:3])
    with torch.no_grad():
        resumed.copy_(plain)
    fused_opt = adam([{"params": [resumed], "lr_scale": 2.0}], lr=0.05)
    fused_opt.load_state_dict(saved_and_read(plain_opt.state_dict()))
    assert fused_opt.param_groups[0]["fused"] is True and fused_opt.param_groups[0]["lr_scale"] == 2.0
    steps(plain, plain_opt, grads[3:])
    steps(resumed, fused_opt, grads[3:])
    assert torch.allclose(resumed, plain, atol=1e-6)


def test_a_fused_state_resumes_where_the_kernel_is_missing(monkeypatch):
    param = torch.nn.Parameter(torch.ones(4))
    saved = torch.optim.Adam([param], lr=0.1, fused=torch_release() >= FUSED_CPU_SINCE or None)
    steps(param, saved, [torch.ones(4)])
    monkeypatch.setattr(adam_module, "fused_devices", lambda: set())
    plain = adam([param], lr=0.1)
    plain.load_state_dict(saved_and_read(saved.state_dict()))
    assert plain.param_groups[0]["fused"] is None
    steps(param, plain, [torch.ones(4)])
    assert torch.isfinite(param).all() and float(plain.state[param]["step"]) == 2.0
