"""The library entry points on the tiny network: determinism, optimisers, start images, API input checks."""

import numpy as np
import pytest
import torch
from PIL import Image

from doodle import DoodleError, PaintSettings, build_scene, paint, paint_scene
from doodle.images import load_rgb


@pytest.fixture
def noise_style():
    return np.random.default_rng(1).integers(0, 255, (40, 64, 3), dtype=np.uint8)


def test_same_seed_same_image(tiny_net, noise_style):
    settings = PaintSettings(
        output_size=(48, 48), phases=1, iterations=5, seed="noise", random_seed=3, style_layers=("1_1", "2_1")
    )
    scene = build_scene(noise_style, output_size=settings.output_size)
    first, second = paint_scene(scene, settings, tiny_net), paint_scene(scene, settings, tiny_net)
    assert torch.equal(first, second)
    assert not torch.equal(first, paint_scene(scene, settings.replace(random_seed=4), tiny_net))
    assert first.shape == (1, 3, 48, 48)


@pytest.mark.parametrize("optimizer", ["lbfgs", "adam"])
def test_each_optimiser_lowers_the_loss(tiny_net, noise_style, optimizer):
    losses = []
    paint(
        noise_style,
        network=tiny_net,
        output_size=(32, 32),
        phases=1,
        iterations=8,
        seed="noise",
        style_layers=("1_1", "2_1"),
        optimizer=optimizer,
        callback=lambda step: losses.append(step.loss),
    )
    assert len(losses) == 8
    assert losses[-1] < losses[0]


def test_a_start_image_file_is_where_painting_starts(tiny_net, noise_style, tmp_path):
    """With nothing pulling the pixels (no style, no smoothness), the result is the start image itself."""
    start = np.zeros((24, 32, 3), np.uint8)
    start[:, :16] = (200, 40, 90)
    Image.fromarray(start).save(tmp_path / "start.png")
    result = paint(
        noise_style,
        network=tiny_net,
        output_size=(32, 24),
        phases=1,
        iterations=2,
        seed=tmp_path / "start.png",
        style_weight=0.0,
        smoothness=0.0,
        style_layers=("1_1",),
    )
    assert np.abs(np.asarray(result).astype(int) - start).max() <= 1


def test_unknown_option_is_named_and_a_type_error_inside_is_not_hidden(tiny_net, noise_style):
    with pytest.raises(DoodleError, match="unknown option.*iteration"):
        paint(noise_style, network=tiny_net, iteration=5)


def test_float_arrays_in_zero_to_one_are_read_as_images_not_black():
    grey = np.full((8, 8, 3), 0.5, np.float32)
    assert np.asarray(load_rgb(grey)).min() == 128
    with pytest.raises(DoodleError, match=r"values in \[0, 1\], got \[0, 255\]"):
        load_rgb(np.linspace(0, 255, 8 * 8 * 3).reshape(8, 8, 3))
    assert np.asarray(load_rgb(np.full((8, 8, 3), 200, np.int64))).min() == 200
    with pytest.raises(DoodleError, match="got int64 values"):
        load_rgb(np.full((8, 8, 3), 300, np.int64))


def test_library_messages_name_parameters_not_flags(tiny_net, noise_style):
    with pytest.raises(DoodleError, match="`seed='content'` needs `content`"):
        paint(noise_style, network=tiny_net, output_size=(32, 32), phases=1, iterations=1, seed="content")
