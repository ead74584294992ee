"""Colour maps: turbo for depth (its table's own colours at its stops, clamped outside), the error heat map."""

import torch

from r2l_viewer.core.colormap import ERROR_SCALE, depth_image, error_image, heat, turbo


def test_turbo_hits_its_published_colours_and_interpolates_between():
    got = (turbo(torch.tensor([0.0, 128 / 255, 1.0])) * 255).round()
    assert got.tolist() == [[48, 18, 59], [164, 252, 60], [122, 4, 3]]  # entries 0, 128 and 255 of Google's table
    middle = turbo(torch.tensor(136 / 255))  # halfway between entries 128 and 144
    assert torch.allclose(middle * 255, torch.tensor([(164 + 205) / 2, (252 + 236) / 2, (60 + 52) / 2]), atol=1e-3)
    assert torch.equal(turbo(torch.tensor([-3.0, 7.0])), turbo(torch.tensor([0.0, 1.0])))


def test_depth_runs_from_near_to_far_as_dark_blue_to_dark_red():
    depth = torch.tensor([[1.0, 2.0, 4.0], [6.0, 9.0, 2.5]])
    image = depth_image(depth, near=2.0, far=6.0)
    assert image.shape == (2, 3, 3)
    assert torch.equal(image[0, 0], image[0, 1]) and torch.equal(image[1, 0], image[1, 1])  # clamped outside
    assert torch.allclose(image[0, 2], turbo(torch.tensor(0.5)))
    assert image[0, 1, 2] > image[0, 1, 0] and image[1, 0, 0] > image[1, 0, 2]  # near blue, far red


def test_the_error_map_is_black_where_images_agree_and_white_at_its_scale():
    a = torch.zeros(2, 2, 3)
    b = a.clone()
    b[0, 0] = ERROR_SCALE
    b[1, 1] = 1.0
    image = error_image(a, b)
    assert image[0, 1].tolist() == [0.0, 0.0, 0.0] and image[0, 0].tolist() == [1.0, 1.0, 1.0]
    assert torch.equal(image[1, 1], image[0, 0])
    assert torch.allclose(heat(torch.tensor(ERROR_SCALE / 4)), torch.tensor([0.7, 0.0, 0.0]))
