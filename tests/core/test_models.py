"""Models: the paper's student exactly, the vanilla NeRF (and nerf-pytorch weights), the grid teacher."""

import math

import pytest
import torch

from r2l_viewer.core.cameras import Intrinsics, spherical_pose
from r2l_viewer.core.encoding import positional_encoding
from r2l_viewer.core.metrics import flops_per_ray, linear_layer_count
from r2l_viewer.core.models import (
    GridConfig,
    GridTeacher,
    NerfConfig,
    Student,
    StudentConfig,
    VanillaNerf,
    build_model,
    load_nerf_pytorch,
    model_from_record,
    model_record,
    parameter_count,
)
from r2l_viewer.core.models.nerf import NerfWeightsError
from r2l_viewer.core.rays import NdcSpace, camera_rays
from r2l_viewer.core.render import render_image, render_rays


def rays(n=32, seed=0):
    gen = torch.Generator().manual_seed(seed)
    d = torch.nn.functional.normalize(torch.randn(n, 3, generator=gen), dim=-1)
    return -4.0 * d, d


def test_paper_student_is_exactly_the_paper_network():
    student = Student(StudentConfig())
    assert linear_layer_count(student) == 88
    assert parameter_count(student) == 5_917_187
    assert student.config.input_dim == 16 * 3 * 21 == 1008
    assert flops_per_ray(student) == pytest.approx(11.79e6, rel=1e-3)


def test_student_points_are_fixed_for_rendering_and_jittered_in_their_bins_for_training():
    student = Student(StudentConfig(points_per_ray=16, width=16, blocks=1))
    o, d = rays(8)
    fixed = student.ray_points(o, d)
    assert torch.equal(fixed, student.ray_points(o, d))
    t_fixed = ((fixed - o[:, None]) / d[:, None])[..., 0]
    assert torch.allclose(t_fixed[0], torch.linspace(2.0, 6.0, 16), atol=1e-5)
    gen = torch.Generator().manual_seed(1)
    jittered = student.ray_points(o, d, randomize=True, generator=gen)
    t_jit = ((jittered - o[:, None]) / d[:, None])[..., 0]
    half_bin = (6.0 - 2.0) / 15 / 2
    assert not torch.allclose(t_jit, t_fixed)
    assert ((t_jit - t_fixed).abs() <= half_bin + 1e-5).all()
    assert (t_jit >= 2.0 - 1e-6).all() and (t_jit <= 6.0 + 1e-6).all()


def test_student_shape_is_configurable_and_outputs_colours():
    cfg = StudentConfig(points_per_ray=8, frequencies=6, width=32, blocks=3)
    student = Student(cfg)
    assert linear_layer_count(student) == 8 and cfg.input_dim == 8 * 3 * 13
    out = student(*rays(10))
    assert out.rgb.shape == (10, 3) and out.depth is None
    assert (out.rgb >= 0).all() and (out.rgb <= 1).all()


def test_vanilla_nerf_costs_what_the_paper_says():
    nerf = VanillaNerf(NerfConfig())
    assert flops_per_ray(nerf, n_rays=4) == pytest.approx(303.82e6, rel=1e-4)
    out = nerf(*rays(4))
    assert out.rgb.shape == (4, 3) and out.depth.shape == (4,) and out.opacity.shape == (4,)


NERF_PYTORCH_SHAPES = {
    "pts_linears.0.weight": (256, 63),
    "pts_linears.5.weight": (256, 319),
    "pts_linears.7.weight": (256, 256),
    "views_linears.0.weight": (128, 283),
    "feature_linear.weight": (256, 256),
    "alpha_linear.weight": (1, 256),
    "rgb_linear.weight": (3, 128),
}


def test_nerf_parameter_names_and_shapes_follow_nerf_pytorch():
    state = VanillaNerf(NerfConfig()).coarse.state_dict()
    for name, shape in NERF_PYTORCH_SHAPES.items():
        assert tuple(state[name].shape) == shape
    assert len(state) == 2 * (8 + 4)


def _nerf_pytorch_tar(path, fine=True):
    gen = torch.Generator().manual_seed(3)
    shapes = VanillaNerf(NerfConfig()).coarse.state_dict()
    fn = {k: torch.randn(v.shape, generator=gen) * 0.05 for k, v in shapes.items()}
    payload = {"global_step": 200000, "network_fn_state_dict": fn, "optimizer_state_dict": {"state": {}, "param_groups": []}}
    if fine:
        payload["network_fine_state_dict"] = {k: v * 1.5 for k, v in fn.items()}
    torch.save(payload, path)
    return fn


def test_loads_nerf_pytorch_checkpoints(tmp_path):
    fn = _nerf_pytorch_tar(tmp_path / "200000.tar")
    nerf = load_nerf_pytorch(tmp_path / "200000.tar")
    assert torch.equal(nerf.coarse.pts_linears[5].weight, fn["pts_linears.5.weight"])
    assert torch.equal(nerf.fine.rgb_linear.bias, fn["rgb_linear.bias"] * 1.5)
    out = render_image(nerf, spherical_pose(0, 30, 4), Intrinsics.from_focal(4, 4, 5.0))
    assert torch.isfinite(out.rgb).all()


def test_nerf_pytorch_errors_are_clear(tmp_path):
    with pytest.raises(NerfWeightsError, match="no such file"):
        load_nerf_pytorch(tmp_path / "missing.tar")
    torch.save({"something": 1}, tmp_path / "other.tar")
    with pytest.raises(NerfWeightsError, match="network_fn_state_dict"):
        load_nerf_pytorch(tmp_path / "other.tar")
    _nerf_pytorch_tar(tmp_path / "w.tar")
    with pytest.raises(NerfWeightsError, match="do not fit"):
        load_nerf_pytorch(tmp_path / "w.tar", NerfConfig(width=128))


def _cube_mask(grid, lo=6, hi=10):
    nx, ny, nz = grid.shape
    idx = torch.arange(nx * ny * nz)
    x, y, z = idx % nx, (idx // nx) % ny, idx // (nx * ny)
    return ((x >= lo) & (x < hi) & (y >= lo) & (y < hi) & (z >= lo) & (z < hi))


def test_grid_teacher_renders_background_when_empty_and_skips_empty_space():
    grid = GridTeacher(GridConfig(resolution=16, features=4, mlp_width=8))
    out = grid(*rays(16))
    assert torch.allclose(out.rgb, torch.ones(16, 3), atol=1e-2)  # empty grid: white background
    assert grid.update_occupancy(dilation=0) == 1.0  # untrained: nothing is known to be empty yet
    cube = _cube_mask(grid)
    with torch.no_grad():
        grid.voxels.density.fill_(-20.0)
        assert grid.update_occupancy(dilation=0) == 0.0
        grid.voxels.density[cube] = 50.0
    fraction = grid.update_occupancy(dilation=0)
    assert fraction == pytest.approx(64 / 16**3)
    assert torch.allclose(grid.active_max - grid.active_min, torch.full((3,), 4 * 3.0 / 15), atol=0.25)
    o, d = torch.tensor([[0.0, 0.0, 4.0]]), torch.tensor([[0.0, 0.0, -1.0]])
    hit = grid(o, d)
    assert float(hit.opacity[0]) > 0.99 and 3.5 < float(hit.depth[0]) < 4.5
    miss = grid(torch.tensor([[1.2, 1.2, 4.0]]), d)
    assert float(miss.opacity[0]) < 1e-3


def test_carved_voxels_are_freed_and_read_as_empty():
    grid = GridTeacher(GridConfig(resolution=16, features=4, mlp_width=8))
    cube = _cube_mask(grid)
    grid.carve(~cube)
    assert grid.voxels.density.shape == (64, 1) and int(grid.voxels.allocated.sum()) == 64
    assert float(grid.voxel_alpha()[~cube].max()) < 1e-12
    with torch.no_grad():
        grid.voxels.density.fill_(50.0)
    o, d = torch.tensor([[0.0, 0.0, 4.0], [1.2, 1.2, 4.0]]), torch.tensor([[0.0, 0.0, -1.0]] * 2)
    out = grid(o, d)
    assert float(out.opacity[0]) > 0.99 and float(out.opacity[1]) < 1e-3
    again = model_from_record(model_record(grid))  # a sparse grid loads back with its allocation
    assert torch.equal(again.voxels.cells, grid.voxels.cells)
    assert torch.allclose(again(o, d).rgb, out.rgb)


def test_grid_resample_keeps_what_was_learned():
    grid = GridTeacher(GridConfig(resolution=8, features=2, mlp_width=8))
    with torch.no_grad():
        grid.voxels.density.fill_(3.0)
    grid.resample(16)
    assert grid.shape == (16, 16, 16) and grid.config.resolution == 16
    assert torch.allclose(grid.voxels.dense("density"), torch.full((16**3, 1), 3.0))


def test_grid_trains_only_what_is_allocated():
    grid = GridTeacher(GridConfig(resolution=16, features=4, mlp_width=8))
    grid.carve(~_cube_mask(grid, 4, 12))
    out = grid(*rays(64), randomize=True, generator=torch.Generator().manual_seed(0))
    out.rgb.sum().backward()
    assert grid.voxels.density.grad.shape == (512, 1)
    assert grid.voxels.density.grad.abs().sum() > 0


@pytest.mark.parametrize("kind,config", [
    ("student", StudentConfig(points_per_ray=4, frequencies=2, width=8, blocks=1)),
    ("grid", GridConfig(resolution=8, features=2, mlp_width=8)),
    ("nerf", NerfConfig(depth=2, width=16, skip=0, coarse_samples=4, fine_samples=4)),
])
def test_model_records_round_trip(kind, config):
    model = build_model(kind, config)
    again = model_from_record(model_record(model))
    assert type(again) is type(model) and again.config == model.config
    o, d = rays(6)
    assert torch.allclose(render_rays(again, o, d).rgb, render_rays(model, o, d).rgb)


def test_render_rays_in_chunks_equals_one_pass():
    student = Student(StudentConfig(points_per_ray=4, frequencies=2, width=8, blocks=1))
    o, d = rays(100)
    assert torch.allclose(render_rays(student, o, d, chunk=7).rgb, render_rays(student, o, d, chunk=1000).rgb, atol=1e-6)


def test_nerf_view_directions_are_the_world_directions_even_in_ndc():
    """nerf-pytorch takes viewdirs from the normalised world rays before warping them to NDC; so must we, or
    imported LLFF NeRFs shade with the wrong directions."""
    ndc = NdcSpace(height=30, width=40, focal=35.0, near=1.0).to_dict()
    nerf = VanillaNerf(NerfConfig(depth=2, width=16, skip=0, coarse_samples=5, fine_samples=3, near=0.0, far=1.0,
                                  ndc=ndc))
    seen = []
    nerf.coarse.register_forward_pre_hook(lambda module, args: seen.append(("coarse", args[1])))
    nerf.fine.register_forward_pre_hook(lambda module, args: seen.append(("fine", args[1])))
    origins = torch.tensor([[0.1, -0.05, 0.0], [0.0, 0.2, 0.1], [-0.3, 0.0, -0.2]])
    directions = torch.tensor([[0.2, 0.1, -1.0], [-0.3, 0.05, -1.0], [0.0, 0.0, -2.0]])
    nerf(origins, directions)
    unit = directions / directions.norm(dim=-1, keepdim=True)
    for stage, samples in (("coarse", 5), ("fine", 8)):
        dir_enc = next(enc for name, enc in seen if name == stage)
        expected = positional_encoding(unit[:, None, :].expand(3, samples, 3).reshape(-1, 3), 4)
        assert torch.allclose(dir_enc, expected, atol=1e-6), stage


def test_nerf_depth_counts_what_the_ray_misses_as_far_like_the_grid_teacher():
    nerf = VanillaNerf(NerfConfig(depth=2, width=16, skip=0, coarse_samples=8, fine_samples=8, near=2.0, far=6.0))
    grid = GridTeacher(GridConfig(resolution=8, features=2, mlp_width=8, near=2.0, far=6.0))
    with torch.no_grad():
        for net in (nerf.coarse, nerf.fine):
            net.alpha_linear.weight.zero_()
            net.alpha_linear.bias.fill_(-10.0)  # no density anywhere: every ray misses
        grid.voxels.density.fill_(-40.0)
    o, d = torch.tensor([[0.0, 0.0, 4.0]]), torch.tensor([[0.0, 0.0, -1.0]])
    out = render_rays(nerf, o, d)
    assert float(out.opacity[0]) == 0.0
    assert float(out.depth[0]) == pytest.approx(6.0)
    assert float(render_rays(grid, o, d).depth[0]) == pytest.approx(6.0, abs=1e-3)


SURFACE_Z, DENSITY_SLOPE, KNOWN_RGB = -0.5, 200.0, (0.2, 0.5, 0.8)


def _known_nerf_pytorch_weights() -> dict:
    """nerf-pytorch weights (paper shapes) of a scene whose density is DENSITY_SLOPE * relu(SURFACE_Z - z) and whose
    colour is KNOWN_RGB everywhere: raw z -> hidden unit 0 -> carried through every trunk layer -> alpha."""
    state = {k: torch.zeros_like(v) for k, v in VanillaNerf(NerfConfig()).coarse.state_dict().items()}
    state["pts_linears.0.weight"][0, 2] = -1.0  # pos_enc[2] is the raw z
    state["pts_linears.0.bias"][0] = SURFACE_Z
    for i in range(1, 8):
        state[f"pts_linears.{i}.weight"][0, 63 if i == 5 else 0] = 1.0  # layer 5 reads [pos_enc(63), h]
    state["alpha_linear.weight"][0, 0] = DENSITY_SLOPE
    state["rgb_linear.bias"][:] = torch.logit(torch.tensor(KNOWN_RGB))
    return state


def test_nerf_pytorch_weights_with_a_known_scene_render_the_known_answer(tmp_path, monkeypatch):
    state = _known_nerf_pytorch_weights()
    torch.save({"global_step": 1, "network_fn_state_dict": state, "network_fine_state_dict": state}, tmp_path / "k.tar")
    nerf = load_nerf_pytorch(tmp_path / "k.tar")  # the paper's config: 64 coarse + 128 fine samples in [2, 6]
    samples = []
    shade = VanillaNerf._shade
    monkeypatch.setattr(VanillaNerf, "_shade", lambda self, *args: samples.append(args[-3]) or shade(self, *args))
    origins = torch.tensor([[0.0, 0.0, 4.0], [0.3, -0.2, 4.0], [-0.6, 0.5, 4.0]])
    out = render_rays(nerf, origins, torch.tensor([[0.0, 0.0, -1.0]] * 3))
    # density k * s past the surface (s = depth beyond it): the first hit is Rayleigh-distributed, its median
    # sqrt(2 ln 2 / k) (the depth a teacher reports) and its mean sqrt(pi / 2k)
    surface_t = 4.0 - SURFACE_Z
    median_depth = surface_t + math.sqrt(2 * math.log(2) / DENSITY_SLOPE)
    assert torch.allclose(out.depth, torch.full((3,), median_depth), atol=0.002)
    assert torch.allclose(out.opacity, torch.ones(3), atol=1e-4)
    assert torch.allclose(out.rgb, torch.tensor([KNOWN_RGB] * 3), atol=1e-4)
    coarse_t, fine_t = samples
    assert coarse_t.shape == (3, 64) and fine_t.shape == (3, 192)
    assert float(fine_t.min()) >= 2.0 and float(fine_t.max()) <= 6.0  # hierarchical samples stay within near/far
    near_surface = lambda t: ((t > surface_t - 0.1) & (t < surface_t + 0.3)).sum(dim=-1)
    added = near_surface(fine_t) - near_surface(coarse_t)
    assert (added >= 0.9 * 128).all()  # the fine samples go where the coarse weights are
    nerf.depth_statistic = "expected"
    expected_depth = surface_t + math.sqrt(math.pi / (2 * DENSITY_SLOPE))
    assert torch.allclose(render_rays(nerf, origins, torch.tensor([[0.0, 0.0, -1.0]] * 3)).depth,
                          torch.full((3,), expected_depth), atol=0.002)


def test_a_nerf_saved_before_pixel_offsets_keeps_rendering_through_pixel_centres():
    """Teacher records written before nerf-pytorch imports were exact lack the new NerfConfig fields: they open with
    the old behaviour (rays through pixel centres, view directions, depth-linear samples)."""
    model = VanillaNerf(NerfConfig(depth=2, width=16, skip=0, coarse_samples=4, fine_samples=4))
    record = model_record(model)
    for name in ("pixel_offset", "view_directions", "fine_depth", "fine_width", "lindisp"):
        record["config"].pop(name)
    again = model_from_record(record)
    assert again.config.pixel_offset == 0.5 and again.config.view_directions and not again.config.lindisp
    pose, camera = spherical_pose(30, 20, 4), Intrinsics.from_focal(5, 6, 6.0)
    o, d = camera_rays(pose, camera)  # the centres
    through_centres = render_rays(model, o.reshape(-1, 3), d.reshape(-1, 3)).rgb.reshape(5, 6, 3)
    assert torch.allclose(render_image(again, pose, camera).rgb, through_centres)
