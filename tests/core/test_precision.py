"""Reduced-precision rendering, host copies and fixed-shape chunked rendering agree with the plain fp32 path."""

import pytest
import torch

from r2l_viewer.core.cameras import Intrinsics, spherical_pose
from r2l_viewer.core.metrics import psnr
from r2l_viewer.core.models import Student, StudentConfig
from r2l_viewer.core.precision import resolve_precision, to_host
from r2l_viewer.core.render import render_image, render_rays
from r2l_viewer.core.static_render import StaticChunkRenderer

CPU = torch.device("cpu")


ENCODINGS = {
    "frequency": {"frequencies": 3},
    "grid": {"encoding": "grid", "grid_planes": (8, 16), "grid_volumes": (4,), "grid_channels": 2,
             "box_min": (-1.0, -1.0, -1.0), "box_max": (1.0, 1.0, 1.0)},
}


def _student(encoding: str = "frequency"):
    torch.manual_seed(0)
    student = Student(StudentConfig(points_per_ray=4, width=32, blocks=2, near=2.0, far=6.0, **ENCODINGS[encoding]))
    for grid in student.grid_parameters():  # features with texel-scale detail, as a trained grid has
        grid.data.normal_(0.0, 1.0)
    return student.eval()


def test_auto_precision_is_fp32_on_a_cpu_and_unknown_names_are_refused():
    assert resolve_precision("auto", CPU) == "fp32"
    assert resolve_precision("bf16", CPU) == "bf16"
    with pytest.raises(ValueError, match="unknown precision 'half'"):
        resolve_precision("half", CPU)


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_bf16_render_stays_close_to_fp32(encoding):
    student, pose, intr = _student(encoding), spherical_pose(30.0, -30.0, 4.0), Intrinsics.from_fov_x(20, 24, 0.69)
    fp32 = render_image(student, pose, intr).rgb
    bf16 = render_image(student, pose, intr, precision="bf16").rgb
    assert bf16.dtype == torch.float32 and bf16.shape == fp32.shape == (20, 24, 3)
    assert not torch.equal(bf16, fp32)  # autocast really ran in bf16
    assert psnr(bf16, fp32) > 35.0


def test_host_copy_of_a_cpu_tensor_is_the_tensor_itself():
    t = torch.arange(6.0)
    assert to_host(t) is t


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_fixed_chunks_with_padding_give_the_plain_render(encoding):
    student = _student(encoding)
    origins = torch.randn(1000, 3) * 0.1 + torch.tensor([0.0, 0.0, 4.0])
    directions = torch.nn.functional.normalize(-origins + torch.randn(1000, 3) * 0.1, dim=-1)
    plain = render_rays(student, origins, directions, chunk=300).rgb
    static = StaticChunkRenderer(student, chunk=256)(origins, directions)  # 1000 = 3 x 256 + a padded 232
    assert torch.allclose(static, plain, atol=1e-6)
