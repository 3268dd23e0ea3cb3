"""The studio's Stop reaches inside the pixel finish's levels (one level of a 2048x1536 paint took
minutes, and Stop waited for it). Ctrl-C: tests/test_studio.py."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from doodle.errors import Cancelled
from doodle.pixels import finish_pixels, pixel_steps
from doodle.scene import build_scene

from .conftest import plan_of, quadrants


@pytest.fixture
def pixel_finish(tmp_path):
    """A 96x96 noise painting with its quadrant map and a doodle as large: a pixel finish of two levels.
    -> a function ``(callback, stop)`` that runs it (as the painter does) and returns its image."""
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 255, (96, 96, 3), dtype=np.uint8)).save(tmp_path / "style.png")
    Image.fromarray(quadrants(96)).save(tmp_path / "style_sem.png")
    Image.fromarray(quadrants(96)[:, ::-1].copy()).save(tmp_path / "doodle.png")
    scene = build_scene(tmp_path / "style.png", target_map=tmp_path / "doodle.png")
    plan = plan_of(scene)
    neural = torch.rand((1, 3, 48, 48), generator=torch.Generator().manual_seed(0))  # (the network's result)

    def run(callback, stop):
        progress = pixel_steps(plan, callback)
        return finish_pixels(scene, neural, plan, torch.device("cpu"), progress=progress, stop=stop)[0]

    return run


def test_stop_is_asked_all_through_each_level_of_the_pixel_finish_and_changes_nothing(pixel_finish):
    steps, asked = [], []

    def stop():
        asked.append(len(steps))  # the levels done when asked
        return False

    image = pixel_finish(steps.append, stop)
    levels = steps[-1].iterations
    assert levels == 2 and [step.iteration for step in steps] == [1, 2]
    per_level = [asked.count(done) for done in range(levels)]
    # (6 iterations a level, each an E-step in chunks and an M-step over 25 patch offsets: it used to be
    # asked once, after the level)
    assert min(per_level) > 6 * 25, per_level
    assert torch.equal(image, pixel_finish(None, None))  # asking changes nothing


def test_stop_in_the_middle_of_a_level_of_the_pixel_finish_ends_it_there(pixel_finish):
    steps, asked = [], []

    def stop():  # True at its 10th asking in the last level: well inside it
        asked.append(len(steps))
        return asked.count(1) >= 10

    with pytest.raises(Cancelled):
        pixel_finish(steps.append, stop)
    assert len(steps) == 1  # the first level's report, not the last's
    assert asked.count(1) == 10  # (it stopped when first told: no asking after)
