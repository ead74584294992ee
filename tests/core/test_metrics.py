"""Metrics: PSNR, and SSIM checked against scikit-image's independent implementation."""

import numpy as np
import pytest
import torch
from skimage.metrics import structural_similarity

from r2l_viewer.core.metrics import mse_to_psnr, psnr, ssim


def test_psnr_of_known_error():
    a = torch.zeros(4, 4, 3)
    assert psnr(a, a + 0.1) == pytest.approx(20.0, abs=1e-4)
    assert mse_to_psnr(0.0) == float("inf")


def _reference(a, b):
    return structural_similarity(
        a.numpy(), b.numpy(), channel_axis=-1, data_range=1.0, gaussian_weights=True, sigma=1.5,
        use_sample_covariance=False,
    )


@pytest.mark.parametrize("seed", [0, 1])
def test_ssim_matches_scikit_image(seed, demo_tiny):
    gen = torch.Generator().manual_seed(seed)
    image = demo_tiny.split("train").images[seed].double()
    noisy = (image + 0.1 * torch.randn(image.shape, generator=gen, dtype=torch.float64)).clamp(0, 1)
    assert ssim(image, noisy) == pytest.approx(_reference(image, noisy), abs=1e-4)
    other = demo_tiny.split("train").images[seed + 5].double()
    assert ssim(image, other) == pytest.approx(_reference(image, other), abs=1e-4)


def test_ssim_layout_matters_and_is_channels_last():
    gen = torch.Generator().manual_seed(0)
    a = torch.rand(40, 30, 3, generator=gen, dtype=torch.float64)
    b = (a + 0.05 * torch.randn(40, 30, 3, generator=gen, dtype=torch.float64)).clamp(0, 1)
    assert ssim(a, a) == pytest.approx(1.0)
    assert ssim(a, b) == pytest.approx(_reference(a, b), abs=1e-4)
    with pytest.raises(ValueError, match="at least 11"):
        ssim(a.permute(2, 0, 1), b.permute(2, 0, 1))  # channels first is refused, not silently mis-computed
