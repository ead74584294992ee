"""Rendering in chunks sized by samples (bounded memory for every model) that stop between chunks when asked."""

import threading

import pytest
import torch

from r2l_viewer.core.models import NerfConfig, Student, StudentConfig, VanillaNerf
from r2l_viewer.core.render import POINTS_PER_CHUNK, RenderInterrupted, chunk_rays, render_rays


def _rays(n):
    directions = torch.nn.functional.normalize(torch.randn(n, 3, generator=torch.Generator().manual_seed(0)), dim=-1)
    return -4.0 * directions, directions


def _call_sizes(model, monkeypatch):
    sizes, real = [], type(model).forward
    monkeypatch.setattr(type(model), "forward", lambda m, o, d, *a, **k: sizes.append(len(o)) or real(m, o, d, *a, **k))
    return sizes


def test_a_nerf_renders_few_rays_per_call_a_light_field_many(monkeypatch):
    nerf = VanillaNerf(NerfConfig(width=8, depth=3, skip=1))  # 64 + 128 samples per ray
    assert nerf.samples_per_ray == 192 and chunk_rays(nerf, 8192) == POINTS_PER_CHUNK // 192
    sizes = _call_sizes(nerf, monkeypatch)
    render_rays(nerf, *_rays(3000), chunk=8192)
    assert sizes and max(sizes) * 192 <= POINTS_PER_CHUNK and sum(sizes) == 3000 and len(sizes) == 2
    assert chunk_rays(Student(StudentConfig(width=8, blocks=1)), 8192) == 8192  # one evaluation per ray


def test_a_set_stop_flag_interrupts_between_chunks(monkeypatch):
    student = Student(StudentConfig(width=8, blocks=1))
    stop, sizes, real = threading.Event(), [], Student.forward

    def first_call_sets_the_flag(model, origins, directions, *args, **kwargs):
        sizes.append(len(origins))
        stop.set()
        return real(model, origins, directions, *args, **kwargs)

    monkeypatch.setattr(Student, "forward", first_call_sets_the_flag)
    origins, directions = _rays(1000)
    with pytest.raises(RenderInterrupted):
        render_rays(student, origins, directions, chunk=100, stop=stop)
    assert sizes == [100]  # the first chunk ran, the second saw the flag
    with pytest.raises(RenderInterrupted):
        render_rays(student, origins, directions, chunk=100, stop=lambda: True)
    assert render_rays(student, origins, directions, chunk=100, stop=lambda: False).rgb.shape == (1000, 3)
