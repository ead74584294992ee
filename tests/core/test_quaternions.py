"""Quaternions against scipy's rotations (an independent implementation): matrix round trips, slerp, and squad's
smoothness through its keyframes."""

import math

import numpy as np
import pytest
import torch
from scipy.spatial.transform import Rotation, Slerp

from r2l_viewer.core import quaternions as quat


def scipy_wxyz(rotation: Rotation) -> torch.Tensor:
    x, y, z, w = rotation.as_quat()
    q = torch.tensor([w, x, y, z], dtype=torch.float64)
    return -q if q[0] < 0 else q


def test_matrix_to_quaternion_matches_scipy_for_every_angle():
    rotations = list(Rotation.random(200, random_state=1)) + [Rotation.from_rotvec([math.pi, 0, 0]),
                                                               Rotation.from_rotvec([0, math.pi, 0]),
                                                               Rotation.from_rotvec([0, 0, math.pi]),
                                                               Rotation.identity()]
    for rotation in rotations:
        matrix = torch.from_numpy(rotation.as_matrix())
        ours = quat.from_matrix(matrix)
        ref = scipy_wxyz(rotation)
        assert torch.allclose(ours, ref, atol=1e-9) or torch.allclose(ours, -ref, atol=1e-9)  # (w = 0: both signs)
        assert torch.allclose(quat.to_matrix(ours), matrix, atol=1e-9)


@pytest.mark.parametrize("t", [0.0, 0.1, 0.5, 0.77, 1.0])
def test_slerp_matches_scipy(t):
    a, b = Rotation.random(2, random_state=7)
    reference = Slerp([0.0, 1.0], Rotation.concatenate([a, b]))([t])[0]
    ours = quat.slerp(scipy_wxyz(a), scipy_wxyz(b), t)
    assert torch.allclose(quat.to_matrix(ours), torch.from_numpy(reference.as_matrix()), atol=1e-9)


def test_squad_passes_through_its_keyframes_and_turns_smoothly_across_them():
    keys = [scipy_wxyz(Rotation.from_euler("zyx", angles, degrees=True))
            for angles in ([0, 0, 0], [40, 10, 0], [90, -15, 20], [120, 0, 45])]
    keys = quat.same_hemisphere(keys)
    controls = [keys[0]] + [quat.squad_control(keys[i - 1], keys[i], keys[i + 1]) for i in (1, 2)] + [keys[3]]

    def at(segment: int, t: float) -> torch.Tensor:
        return quat.squad(keys[segment], keys[segment + 1], controls[segment], controls[segment + 1], t)

    assert torch.allclose(at(1, 0.0), keys[1], atol=1e-12) and torch.allclose(at(1, 1.0), keys[2], atol=1e-12)
    h = 1e-5
    for k in (1, 2):  # angular velocity just before and just after keyframe k (segments k-1 and k): equal
        before = Rotation.from_matrix(quat.to_matrix(at(k - 1, 1 - h)).T.numpy() @ quat.to_matrix(keys[k]).numpy())
        after = Rotation.from_matrix(quat.to_matrix(keys[k]).T.numpy() @ quat.to_matrix(at(k, h)).numpy())
        np.testing.assert_allclose(before.as_rotvec() / h, after.as_rotvec() / h, atol=1e-3)
