"""Volume rendering functions: samples, weights, compositing, depth, importance sampling."""

import pytest
import torch

from r2l_viewer.core.volume import (
    alpha_from_density,
    composite,
    distortion,
    expected_depth,
    median_depth,
    sample_distances,
    sample_pdf,
    stratified_samples,
    weights_from_alpha,
)


def test_stratified_samples_cover_near_to_far():
    t = stratified_samples(2.0, 6.0, 3, 5)
    assert t.shape == (3, 5) and torch.allclose(t[0], torch.tensor([2.0, 3.0, 4.0, 5.0, 6.0]))
    jit = stratified_samples(2.0, 6.0, 1000, 5, generator=torch.Generator().manual_seed(0), jitter=True)
    assert (jit[:, 1:] >= jit[:, :-1]).all() and jit.min() >= 2.0 and jit.max() <= 6.0


def test_an_opaque_sample_takes_all_the_weight():
    alpha = torch.tensor([[0.0, 1.0, 0.7]])
    w = weights_from_alpha(alpha)
    assert torch.allclose(w, torch.tensor([[0.0, 1.0, 0.0]]), atol=1e-6)
    t = torch.tensor([[1.0, 2.0, 3.0]])
    assert expected_depth(w, t).item() == pytest.approx(2.0)


def test_the_median_depth_keeps_a_surface_that_is_not_quite_opaque_where_the_mean_drifts_to_far():
    t = torch.tensor([[2.0, 3.0, 4.0, 5.0]] * 3)
    weights = torch.tensor([[0.0, 0.8, 0.0, 0.0],  # a surface at 3 with opacity 0.8: the rest of the ray is far
                            [0.0, 0.3, 0.3, 0.1],  # matter smeared behind a surface: half of it is reached at 4
                            [0.0, 0.2, 0.1, 0.0]])  # mostly empty: the ray ends in the background
    assert torch.allclose(median_depth(weights, t, 6.0), torch.tensor([3.0, 4.0, 6.0]))
    assert expected_depth(weights, t, 6.0)[0].item() == pytest.approx(0.8 * 3.0 + 0.2 * 6.0)  # 3.6, not 3


def test_composite_blends_over_background():
    weights = torch.tensor([[0.25, 0.25]])
    colours = torch.tensor([[[1.0, 0.0, 0.0], [1.0, 0.0, 0.0]]])
    rgb, opacity = composite(weights, colours, torch.tensor([0.0, 0.0, 1.0]))
    assert torch.allclose(rgb, torch.tensor([[0.5, 0.0, 0.5]])) and opacity.item() == pytest.approx(0.5)


def test_alpha_and_distances():
    t = torch.tensor([[0.0, 1.0, 3.0]])
    d = torch.tensor([[0.0, 0.0, -2.0]])
    dist = sample_distances(t, d)
    assert torch.allclose(dist[:, :2], torch.tensor([[2.0, 4.0]]))
    assert alpha_from_density(torch.tensor(0.0), torch.tensor(1.0)) == 0.0
    assert alpha_from_density(torch.tensor(1.0), torch.tensor(2.0)) == pytest.approx(1 - torch.exp(torch.tensor(-2.0)))


def test_sample_pdf_concentrates_where_the_weight_is():
    bins = torch.linspace(0.0, 4.0, 5).expand(1, 5)
    weights = torch.tensor([[0.0, 0.0, 1.0, 0.0]])
    samples = sample_pdf(bins, weights, 64)
    assert ((samples > 2.0) & (samples < 3.0)).float().mean() > 0.95
    random = sample_pdf(bins, weights, 64, torch.Generator().manual_seed(0), deterministic=False)
    assert ((random > 2.0) & (random < 3.0)).float().mean() > 0.95


def test_distortion_is_the_pair_sum_of_mip_nerf_360():
    gen = torch.Generator().manual_seed(0)
    edges = torch.sort(torch.rand(5, 9, generator=gen), dim=-1).values
    weights = torch.rand(5, 8, generator=gen) / 8
    mids, lengths = 0.5 * (edges[:, 1:] + edges[:, :-1]), edges[:, 1:] - edges[:, :-1]
    pairs = (weights[:, :, None] * weights[:, None, :] * (mids[:, :, None] - mids[:, None, :]).abs()).sum((1, 2))
    assert torch.allclose(distortion(weights, mids, lengths), pairs + (weights**2 * lengths).sum(-1) / 3, atol=1e-7)


def test_distortion_is_smaller_for_weight_in_one_short_stretch_than_spread_along_the_ray():
    edges = torch.linspace(0.0, 1.0, 17)[None]
    mids, lengths = 0.5 * (edges[:, 1:] + edges[:, :-1]), edges[:, 1:] - edges[:, :-1]
    together, apart = torch.zeros(1, 16), torch.zeros(1, 16)
    together[0, 7:9] = 0.45
    apart[0, [1, 14]] = 0.45  # the same total weight: a surface and a floater
    assert distortion(together, mids, lengths) < distortion(apart, mids, lengths) / 4
