"""Image metrics (PSNR, SSIM on H x W x C images) and model costs counted from the model itself."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch.utils.flop_counter import FlopCounterMode

from .errors import UserError


def mse_to_psnr(mse: float) -> float:
    """PSNR in dB of a mean squared error on [0, 1] images."""
    return float("inf") if mse <= 0 else -10.0 * math.log10(mse)


def psnr(a: torch.Tensor, b: torch.Tensor) -> float:
    """Peak signal-to-noise ratio in dB of two images in [0, 1] of the same shape."""
    return mse_to_psnr(float(F.mse_loss(a.float(), b.float())))


def _gaussian_window(size: int, sigma: float, device) -> torch.Tensor:
    x = torch.arange(size, dtype=torch.float64, device=device) - (size - 1) / 2
    g = torch.exp(-(x**2) / (2 * sigma**2))
    return g / g.sum()


def ssim(a: torch.Tensor, b: torch.Tensor, window: int = 11, sigma: float = 1.5) -> float:
    """Structural similarity of two H x W x C images in [0, 1] (channels last, as images are stored).

    Gaussian 11 x 11 window with sigma 1.5, K1 = 0.01, K2 = 0.03, statistics over the window's valid region,
    averaged over pixels and channels: the standard definition (Wang et al. 2004), equal to scikit-image's
    `structural_similarity(gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=1)`.
    The original R2L code fed images to SSIM with the channel axis in the wrong place; here the layout is explicit.
    """
    if a.shape != b.shape or a.dim() != 3:
        raise ValueError(f"ssim needs two H x W x C images of one shape, got {tuple(a.shape)} and {tuple(b.shape)}")
    if min(a.shape[0], a.shape[1]) < window:
        raise UserError(f"ssim needs images of at least {window} x {window} pixels, got {a.shape[0]} x {a.shape[1]}")
    x = a.double().permute(2, 0, 1)[:, None]  # [C, 1, H, W]
    y = b.double().permute(2, 0, 1)[:, None]
    g = _gaussian_window(window, sigma, x.device)

    def blur(img):
        img = F.conv2d(img, g.reshape(1, 1, 1, -1))
        return F.conv2d(img, g.reshape(1, 1, -1, 1))

    mu_x, mu_y = blur(x), blur(y)
    var_x = blur(x * x) - mu_x**2
    var_y = blur(y * y) - mu_y**2
    cov = blur(x * y) - mu_x * mu_y
    c1, c2 = 0.01**2, 0.03**2
    s = ((2 * mu_x * mu_y + c1) * (2 * cov + c2)) / ((mu_x**2 + mu_y**2 + c1) * (var_x + var_y + c2))
    return float(s.mean())


def flops_per_ray(model: torch.nn.Module, n_rays: int = 64) -> float:
    """Floating-point operations of the model's matrix products per ray, counted by running it on `n_rays` rays
    (a multiply-add counts 2, as in the R2L paper; element-wise work is not counted)."""
    device = next(model.parameters()).device
    gen = torch.Generator().manual_seed(0)
    directions = torch.nn.functional.normalize(torch.randn(n_rays, 3, generator=gen), dim=-1).to(device)
    origins = (-4.0 * directions).to(device)
    counter = FlopCounterMode(display=False)
    with torch.no_grad(), counter:
        model(origins, directions)
    return counter.get_total_flops() / n_rays


FLOP_RAYS = 1024  # rays of a view counted (a whole view at once could need tens of GB)
FLOPS_DEFINITION = ("matrix-product FLOPs per ray (a multiply-add counts 2), averaged over the rays of the scene's "
                    "first test camera (a ray that meets nothing costs a model nothing: the grid teacher's empty "
                    "space, the student's rays outside its occupancy); grid lookups are not counted")


def view_flops_per_ray(model: torch.nn.Module, pose: torch.Tensor, intrinsics, rays: int = FLOP_RAYS) -> float:
    """Matrix-product FLOPs per ray of rendering a view, counted while running `rays` of its rays spread evenly
    over the image. (A grid model's cost depends on what the rays see: only a real view gives a fair figure.)"""
    from .rays import camera_rays

    device = next(model.parameters()).device
    origins, directions = camera_rays(pose.to(device), intrinsics)
    origins, directions = origins.reshape(-1, 3), directions.reshape(-1, 3)
    stride = max(1, origins.shape[0] // rays)
    origins, directions = origins[::stride][:rays], directions[::stride][:rays]
    counter = FlopCounterMode(display=False)
    with torch.inference_mode(), counter:
        model(origins, directions)
    return counter.get_total_flops() / origins.shape[0]


def scene_flops_per_ray(model: torch.nn.Module, scene) -> float:
    """THE FLOPs-per-ray figure of a scene's model, as every tool reports it (see FLOPS_DEFINITION): counted on
    the scene checkpoint's reference camera at its image size; on rays towards the origin when it has none."""
    pose = scene.reference_pose()
    if pose is None:
        return flops_per_ray(model)
    return view_flops_per_ray(model, pose, scene.meta.intrinsics)


def linear_layer_count(model: torch.nn.Module) -> int:
    """Number of nn.Linear layers in a model."""
    return sum(isinstance(m, torch.nn.Linear) for m in model.modules())
