"""Unit quaternions (w, x, y, z) for camera rotations: from and to 3x3 matrices, slerp, and squad for smooth paths."""

from __future__ import annotations

import torch

Quaternion = torch.Tensor  # [4] float64, (w, x, y, z), unit length


def from_matrix(rotation: torch.Tensor) -> Quaternion:
    """The unit quaternion of a 3x3 rotation matrix, with w >= 0 (Shepperd's method: divide by the largest of
    the four candidate terms, so it is accurate for every angle)."""
    m = rotation.double()
    trace = m[0, 0] + m[1, 1] + m[2, 2]
    candidates = torch.stack([trace, m[0, 0], m[1, 1], m[2, 2]])
    k = int(torch.argmax(candidates))
    if k == 0:
        s = 2.0 * torch.sqrt(1.0 + trace)
        q = torch.stack([s / 4, (m[2, 1] - m[1, 2]) / s, (m[0, 2] - m[2, 0]) / s, (m[1, 0] - m[0, 1]) / s])
    else:
        i, j, l = k - 1, k % 3, (k + 1) % 3
        s = 2.0 * torch.sqrt(1.0 + m[i, i] - m[j, j] - m[l, l])
        q = torch.empty(4, dtype=torch.float64)
        q[0] = (m[l, j] - m[j, l]) / s
        q[1 + i] = s / 4
        q[1 + j] = (m[j, i] + m[i, j]) / s
        q[1 + l] = (m[l, i] + m[i, l]) / s
    q = q / q.norm()
    return -q if q[0] < 0 else q


def to_matrix(q: Quaternion) -> torch.Tensor:
    """The 3x3 rotation matrix (float64) of a quaternion (normalised first)."""
    w, x, y, z = (q.double() / q.double().norm()).unbind()
    return torch.stack([
        torch.stack([1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)]),
        torch.stack([2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)]),
        torch.stack([2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)]),
    ])


def multiply(a: Quaternion, b: Quaternion) -> Quaternion:
    """The Hamilton product a * b (rotate by b, then by a)."""
    aw, ax, ay, az = a.unbind()
    bw, bx, by, bz = b.unbind()
    return torch.stack([aw * bw - ax * bx - ay * by - az * bz, aw * bx + ax * bw + ay * bz - az * by,
                        aw * by - ax * bz + ay * bw + az * bx, aw * bz + ax * by - ay * bx + az * bw])


def conjugate(q: Quaternion) -> Quaternion:
    """The inverse of a unit quaternion."""
    return q * torch.tensor([1.0, -1.0, -1.0, -1.0], dtype=q.dtype)


def log(q: Quaternion) -> torch.Tensor:
    """The logarithm of a unit quaternion: a pure quaternion (0, axis * half angle), as [4]."""
    vector = q[1:]
    sin_half = vector.norm()
    half = torch.atan2(sin_half, q[0].clamp(-1.0, 1.0))
    scale = half / sin_half if sin_half > 1e-12 else torch.tensor(1.0, dtype=q.dtype)
    return torch.cat([torch.zeros(1, dtype=q.dtype), vector * scale])


def exp(v: torch.Tensor) -> Quaternion:
    """The exponential of a pure quaternion (0, axis * half angle) [4]: a unit quaternion."""
    half = v[1:].norm()
    scale = torch.sin(half) / half if half > 1e-12 else torch.tensor(1.0, dtype=v.dtype)
    return torch.cat([torch.cos(half)[None], v[1:] * scale])


def slerp(a: Quaternion, b: Quaternion, t: float, shortest: bool = True) -> Quaternion:
    """Spherical linear interpolation from a (t = 0) to b (t = 1) at constant angular speed; `shortest` turns
    the shorter way round (q and -q are the same rotation)."""
    dot = float(torch.dot(a, b))
    if shortest and dot < 0.0:
        b, dot = -b, -dot
    if dot > 0.9995:  # nearly the same rotation: a normalised straight line is exact to rounding
        q = a + (b - a) * t
        return q / q.norm()
    angle = torch.arccos(torch.tensor(min(max(dot, -1.0), 1.0), dtype=a.dtype))
    return (torch.sin((1 - t) * angle) * a + torch.sin(t * angle) * b) / torch.sin(angle)


def same_hemisphere(quaternions: list[Quaternion]) -> list[Quaternion]:
    """Each quaternion negated where needed so that it is within 90 degrees (4D) of the one before it: then every
    segment between neighbours turns the short way."""
    out = [quaternions[0]]
    for q in quaternions[1:]:
        out.append(-q if float(torch.dot(q, out[-1])) < 0.0 else q)
    return out


def squad_control(previous: Quaternion, current: Quaternion, following: Quaternion) -> Quaternion:
    """Shoemake's inner control point at `current`: the rotation that makes the squad curve's turning rate
    continuous across it (the spherical analogue of a Catmull-Rom tangent)."""
    inverse = conjugate(current)
    after = log(multiply(inverse, _near(following, current)))
    before = log(multiply(inverse, _near(previous, current)))
    return multiply(current, exp(-(after + before) / 4.0))


def squad(a: Quaternion, b: Quaternion, control_a: Quaternion, control_b: Quaternion, t: float) -> Quaternion:
    """Spherical quadrangle interpolation from a to b through the inner controls: smooth across keyframes."""
    return slerp(slerp(a, b, t), slerp(control_a, control_b, t), 2.0 * t * (1.0 - t))


def _near(q: Quaternion, reference: Quaternion) -> Quaternion:
    return -q if float(torch.dot(q, reference)) < 0.0 else q
