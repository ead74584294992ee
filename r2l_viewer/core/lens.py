"""The OpenCV (Brown-Conrady) lens model as COLMAP and nerfstudio use it: radial k1..k4, tangential p1, p2.

Coordinates are normalised image coordinates in OpenCV's convention (x right, y down, on the plane z = 1 in
front of the camera). Coefficients are ordered (k1, k2, k3, k4, p1, p2) like nerfstudio's `distortion_params`;
the radial factor is the polynomial 1 + k1 r^2 + k2 r^4 + k3 r^6 + k4 r^8 (k4 as nerfstudio reads it, not
OpenCV's rational k4..k6)."""

from __future__ import annotations

import torch

COEFFICIENTS = ("k1", "k2", "k3", "k4", "p1", "p2")
UNDISTORT_ITERATIONS = 12


def _split(coefficients: torch.Tensor):
    """The six coefficients [..., 6] as six tensors [...] (broadcastable against the coordinates)."""
    return coefficients.unbind(-1)


def distort(x: torch.Tensor, y: torch.Tensor, coefficients: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Where the lens moves ideal normalised coordinates (x, y): (xd, yd), the OpenCV formula."""
    k1, k2, k3, k4, p1, p2 = _split(coefficients)
    r2 = x * x + y * y
    radial = 1.0 + r2 * (k1 + r2 * (k2 + r2 * (k3 + r2 * k4)))
    xd = x * radial + 2.0 * p1 * x * y + p2 * (r2 + 2.0 * x * x)
    yd = y * radial + 2.0 * p2 * x * y + p1 * (r2 + 2.0 * y * y)
    return xd, yd


def _residual_and_jacobian(x, y, xd, yd, coefficients):
    """distort(x, y) - (xd, yd) and its 2x2 Jacobian in (x, y)."""
    k1, k2, k3, k4, p1, p2 = _split(coefficients)
    r2 = x * x + y * y
    radial = 1.0 + r2 * (k1 + r2 * (k2 + r2 * (k3 + r2 * k4)))
    d_radial = k1 + r2 * (2.0 * k2 + r2 * (3.0 * k3 + r2 * 4.0 * k4))  # d radial / d r2
    fx = x * radial + 2.0 * p1 * x * y + p2 * (r2 + 2.0 * x * x) - xd
    fy = y * radial + 2.0 * p2 * x * y + p1 * (r2 + 2.0 * y * y) - yd
    fx_x = radial + 2.0 * x * x * d_radial + 2.0 * p1 * y + 6.0 * p2 * x
    fx_y = 2.0 * x * y * d_radial + 2.0 * p1 * x + 2.0 * p2 * y
    fy_x = 2.0 * x * y * d_radial + 2.0 * p2 * y + 2.0 * p1 * x
    fy_y = radial + 2.0 * y * y * d_radial + 2.0 * p2 * x + 6.0 * p1 * y
    return fx, fy, fx_x, fx_y, fy_x, fy_y


def undistort(xd: torch.Tensor, yd: torch.Tensor, coefficients: torch.Tensor,
              iterations: int = UNDISTORT_ITERATIONS) -> tuple[torch.Tensor, torch.Tensor]:
    """The ideal normalised coordinates (x, y) that `distort` maps to (xd, yd): Newton's method from (xd, yd),
    in float64, returned in the input's dtype."""
    dtype = xd.dtype
    xd, yd, coefficients = xd.double(), yd.double(), coefficients.double()
    x, y = xd.clone(), yd.clone()
    for _ in range(iterations):
        fx, fy, fx_x, fx_y, fy_x, fy_y = _residual_and_jacobian(x, y, xd, yd, coefficients)
        det = fx_x * fy_y - fx_y * fy_x
        det = torch.where(det.abs() < 1e-12, torch.full_like(det, 1e-12), det)
        x = x - (fx * fy_y - fy * fx_y) / det
        y = y - (fy * fx_x - fx * fy_x) / det
    return x.to(dtype), y.to(dtype)


def has_distortion(coefficients) -> bool:
    """Whether any coefficient is non-zero (a tuple, list or tensor; empty means none)."""
    return bool(len(coefficients)) and bool(torch.as_tensor(coefficients).abs().max() > 0)
